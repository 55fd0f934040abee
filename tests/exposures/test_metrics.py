"""The coordinator's metrics (exposures/metrics.py): known timestamps give known medians and
counts, per case and overall, for a period; the page (server-drawn SVG charts with their data
tables), the CSV (counts only, no operator or product, formula cells defused) and the API show
the same numbers, to the coordinator only (everyone else: 404; anonymous: the login page or
401), in a fixed number of queries."""

import csv
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from clearinghouse.models import (
    Case,
    Embargo,
    Participant,
    ProductStatement,
    Remediation,
    Report,
    Verification,
    Vulnerability,
)
from exposures import keys, metrics
from exposures.models import Asset, Exposure, Inventory
from tests.factories import OrganisationFactory, UserFactory

K = Organisation.Kind
H = timedelta(hours=1)
D = timedelta(days=1)
SECRET_OPERATOR = "Secret Mercy Hospital"
SECRET_PRODUCT = "Zyxwv infusion controller"


class Kit:
    """Cases, vendors, operators and exposures made with the ORM at known times (the metrics
    only read; the services that write these rows have their own tests)."""

    def __init__(self, world):
        self.w = world
        self.t0 = timezone.now() - 30 * D
        self.vendor_a = OrganisationFactory(name="Vendor A", kind=K.VENDOR)
        self.vendor_b = OrganisationFactory(name="Vendor B", kind=K.VENDOR)
        self.vendor = UserFactory(username="vendor", organisation=self.vendor_a)
        self.operators = [OrganisationFactory(name=name, kind=K.OPERATOR) for name in
                          (SECRET_OPERATOR, "=cmd|' /C calc'!A0", "Third Operator")]
        self.operator = UserFactory(username="operator", organisation=self.operators[0])
        self.number = 0

    def case(self, *, created_at=None, **states) -> Case:
        self.number += 1
        case = Case.objects.create(reference=f"CH-2026-{self.number:04d}", year=2026,
                                   number=self.number, title="A case", summary="Summary",
                                   created_by=self.w.admin, **states)
        Case.objects.filter(pk=case.pk).update(created_at=created_at or self.t0)
        case.refresh_from_db()
        case.vuln = Vulnerability.objects.create(
            case=case, title="Flaw", description="A flaw.", cwe="CWE-787",
            cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", cvss_version="3.1",
            cvss_score=Decimal("9.8"), cvss_severity="CRITICAL")
        case.statement = ProductStatement.objects.create(
            vulnerability=case.vuln, vendor=self.vendor_a, product_name=SECRET_PRODUCT,
            status="fixed")
        return case

    def vendor_answers(self, case, org, *, notified, acknowledged=None, confirmed=True):
        return Participant.objects.create(case=case, organisation=org, role="vendor",
                                          confirmed=confirmed, notified_at=notified,
                                          acknowledged_at=acknowledged)

    def embargo(self, case, ends_at):
        return Embargo.objects.create(case=case, status="active", ends_at=ends_at,
                                      proposed_by=self.w.admin)

    def fix(self, case, at, category="vendor_fix"):
        remediation = Remediation.objects.create(statement=case.statement, category=category,
                                                 details="Upgrade.", created_by=self.vendor)
        Remediation.objects.filter(pk=remediation.pk).update(created_at=at)

    def exposure(self, case, operator, *, status="new", released=None, changed=None,
                 active=True, confirmed=True):
        inventory, _ = Inventory.objects.get_or_create(
            organisation=operator, name="Main", defaults={"format": "csv",
                                                          "created_by": self.w.admin})
        n = Asset.objects.count()
        asset = Asset.objects.create(
            inventory=inventory, organisation=operator, identity=f"id{n}",
            details_encrypted=keys.details_encrypt({"name": SECRET_PRODUCT,
                                                    "vendor": "Vendor A",
                                                    "product": SECRET_PRODUCT,
                                                    "version": "4.1"}),
            exposure="open", mission_impact="mef_failure", safety_impact="critical")
        return Exposure.objects.create(
            organisation=operator, asset=asset, vulnerability=case.vuln,
            statement=case.statement, method="cpe", confidence="high", active=active,
            confirmed=confirmed, status=status, released_at=released, status_changed_at=changed,
            justification="component_not_present" if status == "not_affected" else "")

    def ai_report(self, case, result=None):
        report = Report.objects.create(
            organisation=self.w.acme, reported_by=self.w.owner, title="AI-found flaw",
            description="Found by a model.", cwe="CWE-787", cvss_vector="CVSS:3.1/AV:N",
            cvss_version="3.1", cvss_score=Decimal("9.8"), cvss_severity="CRITICAL",
            status="accepted", ai_found=True, case=case, vulnerability=case.vuln)
        if result:
            Verification.objects.create(report=report, method="sandbox", environment="env",
                                        runs=3, successes=3 if result == "reproduced" else 0,
                                        result=result, verified_by=self.w.reviewer)
        return report


@pytest.fixture
def kit(world):
    """Case 1 (embargoed): two vendors acknowledge after 4 h and 10 h; fixed 3 days after the
    vendor was aware; three operators exposed: the first patched both its assets (1 and 3 days
    after release) before the embargo's end, the second after it (9 days), the third not at all;
    two AI-found reports, one reproduced.
    Case 2 (no embargo): one vendor acknowledges after 2 h and one never does; fixed by a
    vendor-fix remediation 5 days after awareness; the fix deployed 3 days after that.
    Case 3, opened 200 days ago: a vendor acknowledged after 100 h."""
    k = Kit(world)
    t0 = k.t0
    one = k.case(vendor_aware_at=t0, fix_ready_at=t0 + 3 * D)
    k.vendor_answers(one, k.vendor_a, notified=t0, acknowledged=t0 + 4 * H)
    k.vendor_answers(one, k.vendor_b, notified=t0, acknowledged=t0 + 10 * H)
    k.fix(one, t0 + 2 * D, category="workaround")  # not a fix: fix_ready_at counts
    k.embargo(one, t0 + 10 * D)
    first, second, third = k.operators
    k.exposure(one, first, status="patched", released=t0 + 3 * D, changed=t0 + 4 * D)
    k.exposure(one, first, status="mitigated", released=t0 + 3 * D, changed=t0 + 6 * D)
    k.exposure(one, second, status="patched", released=t0 + 3 * D, changed=t0 + 12 * D)
    k.exposure(one, third, status="acknowledged", released=t0 + 3 * D, changed=t0 + 3 * D)
    # Neither a withdrawn match nor an unconfirmed one counts.
    k.exposure(one, third, status="patched", released=t0 + 3 * D, changed=t0 + 3 * D + H,
               active=False)
    k.exposure(one, third, status="new", confirmed=False)
    k.ai_report(one, "reproduced")
    k.ai_report(one, "not_reproduced")

    two = k.case(vendor_aware_at=t0, fix_deployed_at=t0 + 8 * D)
    Case.objects.filter(pk=two.pk).update(created_at=t0 + H)
    k.vendor_answers(two, k.vendor_a, notified=t0, acknowledged=t0 + 2 * H)
    k.vendor_answers(two, k.vendor_b, notified=t0)
    # A suggested vendor not yet confirmed is no participant.
    k.vendor_answers(two, OrganisationFactory(name="Vendor C", kind=K.VENDOR), notified=t0,
                     acknowledged=t0 + 500 * H, confirmed=False)
    k.fix(two, t0 + 5 * D)
    k.fix(two, t0 + 6 * D)

    old = timezone.now() - 200 * D
    three = k.case(created_at=old, vendor_aware_at=old)
    k.vendor_answers(three, k.vendor_a, notified=old, acknowledged=old + 100 * H)
    k.cases = (one, two, three)
    return k


def by_reference(data):
    return {m.reference: m for m in data.cases}


def test_each_case_has_its_medians_and_counts_from_known_timestamps(kit):
    data = metrics.metrics_for(kit.w.admin, period="90")
    one, two = by_reference(data)["CH-2026-0001"], by_reference(data)["CH-2026-0002"]
    assert set(by_reference(data)) == {"CH-2026-0001", "CH-2026-0002"}
    assert (one.vendors_notified, one.vendors_acknowledged) == (2, 2)
    assert one.acknowledge_median == 7 * H
    assert one.time_to_fix == 3 * D  # fix_ready_at, not the earlier workaround
    assert (one.exposures, one.exposures_deployed) == (4, 3)
    assert one.deploy_median == 3 * D  # of 1, 3 and 9 days
    assert (one.ai_reports, one.ai_reproduced, one.ai_reproduced_percent) == (2, 1, 50)
    assert (one.operators_exposed, one.operators_patched_by_end) == (3, 1)
    assert one.operators_patched_percent == 33
    assert (two.vendors_notified, two.vendors_acknowledged) == (2, 1)
    assert two.acknowledge_median == 2 * H
    assert two.time_to_fix == 5 * D  # the first vendor fix
    assert two.fix_deployed == 3 * D
    assert two.deploy_median is None and two.exposures == 0
    assert two.embargo_ends_at is None and two.operators_exposed == 0


def test_the_overall_numbers_are_medians_over_every_case_of_the_period(kit):
    overall = metrics.metrics_for(kit.w.admin, period="90").overall
    assert overall.cases == 2
    assert (overall.vendors_notified, overall.vendors_acknowledged) == (4, 3)
    assert overall.acknowledge_median == 4 * H  # of 4, 10 and 2 hours
    assert (overall.cases_fixed, overall.fix_median) == (2, 4 * D)  # of 3 and 5 days
    assert (overall.exposures, overall.exposures_deployed) == (4, 3)
    assert overall.deploy_median == 3 * D
    assert (overall.cases_deployed, overall.fix_deployed_median) == (1, 3 * D)
    assert (overall.ai_reports, overall.ai_reproduced) == (2, 1)
    assert (overall.operators_exposed, overall.operators_patched_by_end) == (3, 1)


def test_all_time_takes_in_the_old_case_and_thirty_days_none(kit):
    overall = metrics.metrics_for(kit.w.admin, period="all").overall
    assert overall.cases == 3
    assert overall.acknowledge_median == 7 * H  # of 2, 4, 10 and 100 hours
    assert overall.cases_fixed == 2  # the old case has no fix
    recent = metrics.metrics_for(kit.w.admin, period="30", now=kit.t0 + 31 * D)
    assert recent.overall.cases == 0 and recent.cases == []
    with pytest.raises(ValueError):
        metrics.period_since("7")


@pytest.mark.parametrize("who", ["vendor", "operator", "owner", "reviewer", "partner"])
def test_no_one_but_the_coordinator_gets_numbers_from_the_selector(kit, who):
    user = {"vendor": kit.vendor, "operator": kit.operator, "owner": kit.w.owner,
            "reviewer": kit.w.reviewer, "partner": kit.w.partner}[who]
    data = metrics.metrics_for(user, period="all")
    assert data.cases == [] and data.overall.cases == 0


def actors(kit):
    return {"coordinator": kit.w.admin, "vendor": kit.vendor, "operator": kit.operator,
            "developer": kit.w.owner, "reviewer": kit.w.reviewer, "partner": kit.w.partner,
            "anonymous": None}


ROLES = ["coordinator", "vendor", "operator", "developer", "reviewer", "partner", "anonymous"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", ["exposure_metrics", "exposure_metrics_csv"])
def test_only_the_coordinator_sees_the_page_and_the_csv(client, kit, role, name):
    user = actors(kit)[role]
    if user:
        client.force_login(user)
    response = client.get(reverse(name))
    if role == "coordinator":
        assert response.status_code == 200
    elif role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
def test_only_the_coordinator_gets_the_metrics_from_the_api(client, kit, role):
    user = actors(kit)[role]
    if user:
        client.force_login(user)
    response = client.get("/api/v1/exposure-metrics/")
    expected = {"coordinator": 200, "anonymous": 401}.get(role, 404)
    assert response.status_code == expected
    assert response["Content-Type"].startswith("application/json")


def test_the_api_gives_the_same_numbers_in_hours(client, kit):
    client.force_login(kit.w.admin)
    body = client.get("/api/v1/exposure-metrics/?period=90").json()
    assert body["period"] == "90"
    overall = body["overall"]
    assert overall["acknowledge_median_hours"] == 4.0
    assert overall["fix_median_hours"] == 96.0
    assert overall["deploy_median_hours"] == 72.0
    assert (overall["operators_exposed"], overall["operators_patched_by_embargo_end"]) == (3, 1)
    assert overall["ai_found_reproduced_percent"] == 50
    first = next(c for c in body["cases"] if c["reference"] == "CH-2026-0001")
    assert first["acknowledge_median_hours"] == 7.0 and first["time_to_fix_hours"] == 72.0
    assert SECRET_OPERATOR not in str(body) and SECRET_PRODUCT not in str(body)
    bad = client.get("/api/v1/exposure-metrics/?period=7")
    assert bad.status_code == 400 and bad.json()["field"] == "period"


def test_the_csv_has_one_row_per_case_with_counts_only(client, kit):
    client.force_login(kit.w.admin)
    response = client.get(reverse("exposure_metrics_csv") + "?period=all")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="clearinghouse-metrics-all-')
    assert disposition.endswith('.csv"')
    text = response.content.decode()
    rows = list(csv.DictReader(StringIO(text)))
    assert [r["case"] for r in rows] == ["CH-2026-0002", "CH-2026-0001", "CH-2026-0003"]
    first = rows[1]
    assert first["acknowledge_median_hours"] == "7.0"
    assert first["time_to_fix_hours"] == "72.0"
    assert first["deploy_median_hours"] == "72.0"
    assert (first["operators_exposed"], first["operators_patched_by_embargo_end"]) == ("3", "1")
    assert (first["ai_found_reports"], first["ai_found_reproduced"]) == ("2", "1")
    assert rows[0]["fix_deployed_hours"] == "72.0"
    for secret in (SECRET_OPERATOR, SECRET_PRODUCT, "Vendor A", "calc", "Third Operator"):
        assert secret not in text


def test_a_cell_that_a_spreadsheet_would_run_is_defused():
    for cell in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx"):
        assert metrics.csv_safe(cell) == "'" + cell
    assert metrics.csv_safe("CH-2026-0001") == "CH-2026-0001"
    assert metrics.csv_safe(None) == "" and metrics.csv_safe(3) == "3"


def test_the_csv_defuses_a_case_reference_that_starts_like_a_formula(client, kit):
    Case.objects.filter(pk=kit.cases[0].pk).update(reference="=HYPERLINK(1)")
    client.force_login(kit.w.admin)
    text = client.get(reverse("exposure_metrics_csv")).content.decode()
    assert "'=HYPERLINK(1)" in text


def test_the_page_draws_an_accessible_chart_per_metric_with_its_data_table(client, kit):
    client.force_login(kit.w.admin)
    response = client.get(reverse("exposure_metrics"))
    soup = BeautifulSoup(response.content.decode(), "html.parser")
    charts = soup.select("svg.metric-chart")
    assert len(charts) == 5
    for svg in charts:
        assert svg["role"] == "img"
        title = svg.find("title")
        assert title and svg["aria-labelledby"] == title["id"]
        assert svg.find("desc")["id"] == svg["aria-describedby"]
        assert not svg.find_all(style=True) and not svg.find("script")
        table = svg.find_parent("figure").find_next_sibling("details").table
        assert [th.get_text() for th in table.select("tbody th")] == ["CH-2026-0002",
                                                                      "CH-2026-0001"]
    acknowledge = soup.find("details").table
    assert "7 h" in acknowledge.get_text() and "2 h" in acknowledge.get_text()
    text = soup.get_text()
    assert "3 of 4 notified vendors acknowledged" in text
    assert "1 of 3 exposed operators" in text
    assert SECRET_OPERATOR not in text and SECRET_PRODUCT not in text
    assert client.get(reverse("exposure_metrics") + "?period=bad").status_code == 404


def test_the_page_the_csv_and_the_api_cost_the_same_queries_for_three_cases_or_thirty(
        client, kit, django_assert_max_num_queries):
    client.force_login(kit.w.admin)
    urls = [reverse("exposure_metrics") + "?period=all",
            reverse("exposure_metrics_csv") + "?period=all",
            "/api/v1/exposure-metrics/?period=all"]

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            result.append(len(queries))
        return result

    before = counts()
    for _ in range(27):
        case = kit.case(vendor_aware_at=kit.t0, fix_ready_at=kit.t0 + D)
        kit.vendor_answers(case, kit.vendor_a, notified=kit.t0, acknowledged=kit.t0 + H)
        kit.embargo(case, kit.t0 + 10 * D)
        kit.exposure(case, kit.operators[1], status="patched", released=kit.t0,
                     changed=kit.t0 + D)
        kit.ai_report(case, "reproduced")
    assert counts() == before
    with django_assert_max_num_queries(20):
        client.get(urls[0])
