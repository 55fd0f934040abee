"""Who sees which vulnerability, report and proof of concept of a case with two
vulnerabilities: each vendor only what affects it, each reporter only its own reports."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from clearinghouse import cases
from clearinghouse.models import ProductStatement, ReportArtifact
from tests.clearinghouse.conftest import make_report

pytestmark = pytest.mark.django_db(transaction=False)

POC = b"#!/bin/sh\necho crafted\n"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def two(cw, client):
    """A case from the libfoo report (Vendor A's product) and a barjs report of Other AI
    (Vendor B's product), both validated; both vendors confirmed; a proof of concept on the
    barjs report."""
    cw.other_report = make_report(cw.w.other_org, cw.w.outsider, purl_key="pkg:npm/barjs",
                                  product="barjs", title="Prototype pollution in barjs",
                                  validated_by=cw.w.outsider)
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report, cw.other_report])
    for participant in case.participants.filter(role="vendor"):
        cases.participant_confirm(participant=participant, actor=cw.coordinator)
    cw.case = case
    cw.report.refresh_from_db()
    cw.other_report.refresh_from_db()
    client.force_login(cw.w.outsider)
    response = client.post(f"/api/v1/reports/{cw.other_report.pk}/artifacts/", {
        "kind": "repro_script", "file": SimpleUploadedFile("repro.sh", POC)})
    assert response.status_code == 201, response.content
    client.logout()
    cw.artifact = ReportArtifact.objects.get()
    return cw


def test_a_vendor_gets_404_for_the_report_and_proof_of_concept_of_a_vulnerability_not_its_own(
        two, api, client):
    assert two.case.vulnerabilities.count() == 2
    vendor_a = api.as_(two.vendor)
    assert vendor_a.get(f"/api/v1/reports/{two.report.pk}/").status_code == 200
    assert vendor_a.get(f"/api/v1/reports/{two.other_report.pk}/").status_code == 404
    listed = vendor_a.get("/api/v1/reports/").json()["results"]
    assert [r["id"] for r in listed] == [two.report.pk]
    assert vendor_a.get(
        f"/api/v1/report-artifacts/{two.artifact.pk}/download/").status_code == 404
    client.force_login(two.vendor)
    assert client.get(reverse("report_detail", args=[two.other_report.pk])).status_code == 404
    assert client.get(reverse("report_artifact_download",
                              args=[two.artifact.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="report_artifact.downloaded").exists()

    vendor_b = api.as_(two.other_vendor).get(
        f"/api/v1/report-artifacts/{two.artifact.pk}/download/")
    assert vendor_b.status_code == 200 and vendor_b.content == POC
    assert list(AuditEvent.objects.filter(action="report_artifact.downloaded")
                .values_list("actor__username", flat=True)) == ["othervendor"]


LIBFOO, BARJS = "Heap overflow in libfoo", "Prototype pollution in barjs"


@pytest.mark.parametrize(("actor", "expected"), [
    ("coordinator", [LIBFOO, BARJS]), ("vendor", [LIBFOO]), ("other_vendor", [BARJS]),
    ("finder", [LIBFOO]), ("outsider", [BARJS]),
])
def test_each_participant_sees_only_the_vulnerabilities_it_is_affected_by_or_reported(
        two, api, client, actor, expected):
    user = {"coordinator": two.coordinator, "vendor": two.vendor,
            "other_vendor": two.other_vendor, "finder": two.finder,
            "outsider": two.w.outsider}[actor]
    body = api.as_(user).get(f"/api/v1/cases/{two.case.pk}/").json()
    assert [v["title"] for v in body["vulnerabilities"]] == expected
    client.force_login(user)
    page = client.get(reverse("case_detail", args=[two.case.pk])).content.decode()
    assert [t for t in (LIBFOO, BARJS) if f"<strong>{t}</strong>" in page] == expected


def test_an_ai_finding_no_person_validated_is_not_shown_to_the_vendor_on_page_or_api(
        cw, api, client):
    ai = make_report(cw.w.other_org, cw.w.outsider, ai_found=True, title="Unvalidated AI claim")
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report, ai])
    cases.participant_confirm(participant=case.participants.get(role="vendor",
                                                                organisation=cw.vendor_org),
                              actor=cw.coordinator)
    ai.refresh_from_db()
    ProductStatement.objects.get_or_create(vulnerability=ai.vulnerability, vendor=cw.vendor_org,
                                           product_name="libfoo")
    body = api.as_(cw.vendor).get(f"/api/v1/cases/{case.pk}/").json()
    assert [v["title"] for v in body["vulnerabilities"]] == [LIBFOO]
    client.force_login(cw.vendor)
    page = client.get(reverse("case_detail", args=[case.pk]))
    assert page.status_code == 200 and b"Unvalidated AI claim" not in page.content
    coordinator = api.as_(cw.coordinator).get(f"/api/v1/cases/{case.pk}/").json()
    assert [v["title"] for v in coordinator["vulnerabilities"]] == [LIBFOO,
                                                                    "Unvalidated AI claim"]


def test_a_case_opened_from_an_unvalidated_ai_finding_gets_a_neutral_title_and_summary(cw):
    ai = make_report(cw.w.other_org, cw.w.outsider, ai_found=True, title="Unvalidated AI claim")
    case = cases.case_open(actor=cw.coordinator, reports=[ai])
    assert (case.title, case.summary) == (f"Case {case.reference}",
                                          "Details follow once a report is validated.")


def test_a_case_opened_from_a_validated_report_defaults_to_its_title_and_description(cw):
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    assert (case.title, case.summary) == (cw.report.title, cw.report.description)


def test_a_vendor_sees_only_its_own_products_of_a_report_that_claims_another_vendors_too(
        cw, client, api):
    from clearinghouse.models import ProductClaim

    ProductClaim.objects.create(report=cw.report, purl="pkg:npm/barjs@2.0.0",
                                purl_key="pkg:npm/barjs", product_name="barjs")
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    for participant in case.participants.filter(role="vendor"):
        cases.participant_confirm(participant=participant, actor=cw.coordinator)
    url = reverse("report_detail", args=[cw.report.pk])
    for user, expected in ((cw.vendor, {"libfoo"}), (cw.other_vendor, {"barjs"}),
                           (cw.coordinator, {"libfoo", "barjs"}),
                           (cw.finder, {"libfoo", "barjs"})):
        body = api.as_(user).get(f"/api/v1/reports/{cw.report.pk}/").json()
        assert {p["product_name"] for p in body["products"]} == expected, user
        client.force_login(user)
        html = client.get(url).content.decode()
        # The report's title names libfoo: look for the claims' package URLs.
        for product, purl in (("libfoo", "pkg:pypi/libfoo@"), ("barjs", "pkg:npm/barjs@")):
            assert (purl in html) == (product in expected), (user, product)
