"""The exposures' API (exposures/api_exposures.py) as every role: the owning operator lists,
reads and changes its released exposures and accepts the terms; another operator, a vendor, the
coordinator, a finder, a partner get an empty list and 404s; anonymous 401. Unreleased
exposures answer 404 to their own operator too. Errors are JSON 400s (409 for a refused
transition) with nothing written. The coordinator's SSVC assessment: read and set by the
coordinator only, a change is one new version that re-notifies an urgent exposure once."""

import pytest

from audit.models import AuditEvent
from exposures import disclosure
from exposures.models import Exposure, TermsAcceptance, VulnerabilityAssessment
from notifications.models import Notification
from tests.clearinghouse.conftest import case_world, cw  # noqa: F401 (fixtures)
from tests.exposures.disc_world import (
    accept_terms,
    add_fix,
    all_actors,
    asset_for,
    build_dw,
    exposure_for,
    open_window,
)
from tests.exposures.test_predisclosure_end_to_end import add_fix as e2e_add_fix
from tests.exposures.test_predisclosure_end_to_end import e2e, told  # noqa: F401 (fixture)
from tests.exposures.test_predisclosure_end_to_end import open_window as e2e_open_window

pytestmark = pytest.mark.django_db

POC_WORDS = ("poc", "proof")
NOT_THE_OWNER = ["operator_b", "operator_c", "vendor", "coordinator", "finder", "partner"]


@pytest.fixture
def dw(world):
    """The disclosure world with Water Works' and Hillside Clinic's exposures released (a fix,
    the terms, the window open); Prairie Savings has none."""
    dw = build_dw(world)
    dw.remediation = add_fix(dw)
    accept_terms(dw.org_a, dw.operator)
    accept_terms(dw.org_b, dw.operator_b)
    open_window(dw)
    disclosure.disclosure_sweep()
    for exposure in (dw.exposure_a, dw.exposure_b):
        exposure.refresh_from_db()
        assert exposure.released_at is not None
    return dw


def login(client, user):
    client.logout()
    if user is not None:
        client.force_login(user)


def post(client, url, data=None):
    return client.post(url, data or {}, content_type="application/json")


def url(exposure, tail=""):
    return f"/api/v1/exposures/{exposure.pk}/{tail}"


# --- the owner ------------------------------------------------------------------------------

def test_the_owning_operator_lists_its_exposures_by_priority_with_their_deadlines(client, dw):
    later = exposure_for(asset_for(dw.org_a, dw.operator, version="1.3.0", product="libfoo-ng"),
                         dw.statement, priority="scheduled", released_at=dw.exposure_a.released_at)
    login(client, dw.operator)
    body = client.get("/api/v1/exposures/").json()
    assert body["count"] == 2
    assert [r["id"] for r in body["results"]] == [dw.exposure_a.pk, later.pk]
    first = body["results"][0]
    assert first["priority"] == "immediate" and first["due_at"]
    assert first["asset_label"] == "libfoo 1.2.0"
    assert first["case"] == dw.case.pk and first["case_public"] is False
    assert dw.exposure_b.pk not in [r["id"] for r in body["results"]]
    assert "Hillside" not in str(body)


def test_the_case_filter_keeps_one_cases_exposures_and_a_bad_id_matches_nothing(client, dw):
    login(client, dw.operator)
    assert client.get("/api/v1/exposures/", {"case": dw.case.pk}).json()["count"] == 1
    for value in (dw.case.pk + 1000, "abc", "-1", str(2**63), "²"):
        response = client.get("/api/v1/exposures/", {"case": value})
        assert response.status_code == 200 and response.json()["count"] == 0, value


def test_the_detail_is_what_the_page_shows_with_remediations_and_never_a_report(client, dw):
    login(client, dw.operator)
    body = client.get(url(dw.exposure_a)).json()
    assert body["id"] == dw.exposure_a.pk
    assert (body["method"], body["confidence"], body["priority"]) == ("purl", "high",
                                                                      "immediate")
    assert body["status"] == "new" and body["case_public"] is False
    assert body["asset_purl"] == "pkg:pypi/libfoo@1.2.0"
    assert body["allowed_statuses"] == ["acknowledged"] or "acknowledged" in \
        body["allowed_statuses"]
    [remediation] = body["remediations"]
    assert remediation["url"] == "https://vendor-a.example/libfoo-1.4.2.tar.gz"
    assert remediation["artifact_sha256"] == "a" * 64
    assert remediation["signature"] == dw.remediation.signature
    text = str(body)
    report = dw.cw.report
    assert report.description not in text and report.trigger not in text
    assert dw.exposure_a.vulnerability.description not in text
    assert "Hillside" not in text and "operatorb" not in text


def test_the_owner_moves_the_status_along_with_an_audit_event_for_each_step(client, dw):
    login(client, dw.operator)
    response = post(client, url(dw.exposure_a, "status/"), {"status": "acknowledged"})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "acknowledged"
    response = post(client, url(dw.exposure_a, "status/"),
                    {"status": "not_affected", "justification": "vulnerable_code_not_present"})
    assert response.status_code == 200, response.json()
    dw.exposure_a.refresh_from_db()
    assert (dw.exposure_a.status, dw.exposure_a.justification) == (
        "not_affected", "vulnerable_code_not_present")
    assert dw.exposure_a.status_changed_by == dw.operator
    events = AuditEvent.objects.filter(action="exposure.status_changed",
                                       object_id=str(dw.exposure_a.pk)).order_by("id")
    assert [(e.data["from"], e.data["to"]) for e in events] == [
        ("new", "acknowledged"), ("acknowledged", "not_affected")]


def test_accepting_the_risk_needs_a_reason_and_records_it(client, dw):
    login(client, dw.operator)
    post(client, url(dw.exposure_a, "status/"), {"status": "acknowledged"})
    refused = post(client, url(dw.exposure_a, "status/"), {"status": "risk_accepted"})
    assert refused.status_code == 400 and refused.json()["detail"]
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "acknowledged"
    done = post(client, url(dw.exposure_a, "status/"),
                {"status": "risk_accepted", "reason": "Isolated network, replacing in Q1."})
    assert done.status_code == 200
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status_reason == "Isolated network, replacing in Q1."


@pytest.mark.parametrize("payload", [
    {}, {"status": "bogus"}, {"status": "not_affected"},
    {"status": "not_affected", "justification": "because"},
    {"status": "acknowledged", "justification": "component_not_present"},
    {"status": "acknowledged", "reason": "x" * 2001}, [1, 2],
])
def test_bad_status_input_is_a_json_400_and_nothing_changes(client, dw, payload):
    login(client, dw.operator)
    before = AuditEvent.objects.count()
    response = client.post(url(dw.exposure_a, "status/"), payload,
                           content_type="application/json")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/json") and response.json()
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new" and dw.exposure_a.status_changed_at is None
    assert AuditEvent.objects.count() == before


def test_a_transition_the_workflow_forbids_is_a_json_409_and_nothing_changes(client, dw):
    login(client, dw.operator)
    response = post(client, url(dw.exposure_a, "status/"), {"status": "new"})
    assert response.status_code in (400, 409) and response.json()["detail"]
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new" and dw.exposure_a.status_changed_at is None


def test_a_name_match_is_confirmed_once_and_then_takes_statuses(client, dw):
    dw.exposure_a.__class__.objects.filter(pk=dw.exposure_a.pk).update(
        confirmed=False, method="product", confidence="low")
    login(client, dw.operator)
    assert client.get(url(dw.exposure_a)).json()["allowed_statuses"] == []
    assert post(client, url(dw.exposure_a, "status/"),
                {"status": "acknowledged"}).status_code == 409
    response = post(client, url(dw.exposure_a, "confirm/"))
    assert response.status_code == 200 and response.json()["confirmed"] is True
    assert AuditEvent.objects.filter(action="exposure.match_confirmed",
                                     object_id=str(dw.exposure_a.pk)).count() == 1
    again = post(client, url(dw.exposure_a, "confirm/"))
    assert again.status_code == 409
    assert AuditEvent.objects.filter(action="exposure.match_confirmed").count() == 1


def test_a_name_match_is_rejected_as_not_affected_with_the_reason(client, dw):
    Exposure.objects.filter(pk=dw.exposure_a.pk).update(confirmed=False, method="product",
                                                        confidence="low")
    login(client, dw.operator)
    refused = post(client, url(dw.exposure_a, "reject/"), {"reason": "x" * 2001})
    assert refused.status_code == 400
    response = post(client, url(dw.exposure_a, "reject/"), {"reason": "We run libfoo-ng."})
    assert response.status_code == 200, response.json()
    dw.exposure_a.refresh_from_db()
    assert (dw.exposure_a.status, dw.exposure_a.justification, dw.exposure_a.status_reason) == (
        "not_affected", "component_not_present", "We run libfoo-ng.")
    assert AuditEvent.objects.filter(action="exposure.match_rejected",
                                     object_id=str(dw.exposure_a.pk)).count() == 1
    assert post(client, url(dw.exposure_a, "reject/")).status_code == 409


def test_rejecting_a_confirmed_exposure_is_refused(client, dw):
    login(client, dw.operator)
    assert post(client, url(dw.exposure_a, "reject/")).status_code == 409
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new"


# --- everyone else --------------------------------------------------------------------------

@pytest.mark.parametrize("role", NOT_THE_OWNER + ["anonymous"])
def test_no_one_but_the_owner_sees_or_changes_an_exposure(client, dw, role):
    user = all_actors(dw)[role]
    login(client, user)
    missing = 401 if user is None else 404
    assert client.get(url(dw.exposure_a)).status_code == missing
    for tail, data in (("status/", {"status": "acknowledged"}), ("confirm/", {}),
                       ("reject/", {"reason": "no"})):
        response = post(client, url(dw.exposure_a, tail), data)
        assert response.status_code == missing, (tail, response.content)
        assert response.json()["detail"]
    listed = client.get("/api/v1/exposures/")
    if user is None:
        assert listed.status_code == 401
    else:
        ids = [r["id"] for r in listed.json()["results"]]
        assert dw.exposure_a.pk not in ids
        assert ids == ([dw.exposure_b.pk] if role == "operator_b" else [])
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new" and dw.exposure_a.confirmed
    assert not AuditEvent.objects.filter(object_id=str(dw.exposure_a.pk),
                                         action__startswith="exposure.status").exists()


def test_a_colleague_at_the_same_operator_sees_and_acts_on_it(client, dw):
    login(client, dw.operator_a2)
    assert client.get(url(dw.exposure_a)).status_code == 200
    assert post(client, url(dw.exposure_a, "status/"),
                {"status": "acknowledged"}).status_code == 200


def test_an_unreleased_exposure_is_404_to_its_own_operator(client, world):
    dw = build_dw(world)  # no fix, terms not accepted, window closed: nothing released
    login(client, dw.operator)
    assert client.get("/api/v1/exposures/").json()["count"] == 0
    assert client.get(url(dw.exposure_a)).status_code == 404
    assert post(client, url(dw.exposure_a, "status/"),
                {"status": "acknowledged"}).status_code == 404
    assert post(client, url(dw.exposure_a, "confirm/")).status_code == 404
    assert post(client, url(dw.exposure_a, "reject/")).status_code == 404
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new"


# --- the list's queries ---------------------------------------------------------------------

@pytest.mark.parametrize("extra", [0, 9])
def test_the_list_takes_the_same_number_of_queries_for_1_or_10_exposures(
        client, dw, extra, django_assert_max_num_queries):
    for i in range(extra):
        asset = asset_for(dw.org_a, dw.operator, version="1.0.0", product=f"lib{i}")
        exposure_for(asset, dw.statement, released_at=dw.exposure_a.released_at)
    login(client, dw.operator)
    with django_assert_max_num_queries(9):
        body = client.get("/api/v1/exposures/").json()
    assert body["count"] == 1 + extra


# --- terms ----------------------------------------------------------------------------------

def test_an_operator_reads_the_terms_and_accepts_them_once_for_its_organisation(client, dw):
    login(client, dw.operator_c)
    body = client.get("/api/v1/exposure-terms/").json()
    assert body["accepted"] is False and body["version"] and body["accepted_at"] is None
    first = post(client, "/api/v1/exposure-terms/")
    assert first.status_code == 201 and first.json()["accepted"] is True
    assert first.json()["accepted_by"] == "operatorc"
    again = post(client, "/api/v1/exposure-terms/")
    assert again.status_code == 200
    rows = TermsAcceptance.objects.filter(organisation=dw.org_c)
    assert rows.count() == 1 and rows.get().accepted_by == dw.operator_c
    assert rows.get().terms_version == body["version"]
    assert AuditEvent.objects.filter(action="exposure.terms_accepted",
                                     object_id=str(rows.get().pk)).count() == 1
    assert client.get("/api/v1/exposure-terms/").json()["accepted"] is True


def test_the_owner_sees_its_organisations_acceptance(client, dw):
    login(client, dw.operator_a2)
    body = client.get("/api/v1/exposure-terms/").json()
    assert body["accepted"] is True and body["accepted_by"] == "operator"


@pytest.mark.parametrize("role", ["vendor", "coordinator", "finder", "partner", "anonymous"])
def test_no_one_but_an_operator_reads_or_accepts_the_terms(client, dw, role):
    user = all_actors(dw)[role]
    login(client, user)
    missing = 401 if user is None else 404
    before = TermsAcceptance.objects.count()
    assert client.get("/api/v1/exposure-terms/").status_code == missing
    assert post(client, "/api/v1/exposure-terms/").status_code == missing
    assert TermsAcceptance.objects.count() == before


# --- the coordinator's assessment -----------------------------------------------------------

def assessment_url(vulnerability):
    return f"/api/v1/vulnerabilities/{vulnerability.pk}/assessment/"


def test_the_coordinator_reads_the_assessment_as_the_report_said(client, dw):
    login(client, dw.coordinator)
    body = client.get(assessment_url(dw.exposure_a.vulnerability)).json()
    assert body["version"] == 1 and body["source"] == "report"
    assert body["exploitation"] in ("none", "public_poc", "active")
    assert body["automatable"] == "no" and body["history"] == []


def test_the_coordinator_sets_the_assessment_and_sees_its_history(client, dw):
    vulnerability = dw.exposure_a.vulnerability
    login(client, dw.coordinator)
    response = post(client, assessment_url(vulnerability), {
        "exploitation": "active", "automatable": "yes", "reason": "CISA KEV entry."})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["exploitation"], body["automatable"], body["version"]) == ("active", "yes", 2)
    assert body["source"] == "coordinator" and body["reason"] == "CISA KEV entry."
    assert body["updated_by"] == dw.coordinator.username
    [change] = body["history"]
    assert change["version"] == 2 and change["reason"] == "CISA KEV entry."
    assert change["action"] == "exposure.assessment_set"
    row = VulnerabilityAssessment.objects.get(vulnerability=vulnerability)
    assert (row.exploitation, row.automatable, row.version) == ("active", "yes", 2)
    assert AuditEvent.objects.filter(action="exposure.assessment_set").count() == 1
    # The same values again: no new version, no new event.
    same = post(client, assessment_url(vulnerability), {
        "exploitation": "active", "automatable": "yes", "reason": "Again."})
    assert same.status_code == 200 and same.json()["version"] == 2
    assert AuditEvent.objects.filter(action="exposure.assessment_set").count() == 1


@pytest.mark.parametrize("payload", [
    {}, {"exploitation": "active", "automatable": "yes"},
    {"exploitation": "active", "automatable": "yes", "reason": "  "},
    {"exploitation": "lots", "automatable": "yes", "reason": "r"},
    {"exploitation": "active", "automatable": "maybe", "reason": "r"},
])
def test_a_bad_assessment_is_a_json_400_and_nothing_is_written(client, dw, payload):
    vulnerability = dw.exposure_a.vulnerability
    login(client, dw.coordinator)
    response = post(client, assessment_url(vulnerability), payload)
    assert response.status_code == 400 and response.json()["detail"]
    assert not VulnerabilityAssessment.objects.filter(vulnerability=vulnerability,
                                                      version__gt=1).exists()
    assert not AuditEvent.objects.filter(action="exposure.assessment_set").exists()


@pytest.mark.parametrize("role", ["operator", "operator_b", "vendor", "finder", "partner",
                                  "anonymous"])
def test_no_one_but_the_coordinator_reads_or_sets_an_assessment(client, dw, role):
    user = all_actors(dw)[role]
    login(client, user)
    missing = 401 if user is None else 404
    vulnerability = dw.exposure_a.vulnerability
    assert client.get(assessment_url(vulnerability)).status_code == missing
    response = post(client, assessment_url(vulnerability), {
        "exploitation": "active", "automatable": "yes", "reason": "Trust me."})
    assert response.status_code == missing
    assert not AuditEvent.objects.filter(action="exposure.assessment_set").exists()
    assert not VulnerabilityAssessment.objects.filter(vulnerability=vulnerability,
                                                      version__gt=1).exists()


def test_an_unknown_vulnerability_is_404_to_the_coordinator(client, dw):
    login(client, dw.coordinator)
    assert client.get("/api/v1/vulnerabilities/999999/assessment/").status_code == 404


def test_an_assessment_set_through_the_api_re_notifies_an_urgent_exposure_exactly_once(
        client, e2e):  # noqa: F811
    e2e_add_fix(e2e)
    e2e_open_window(e2e)
    disclosure.disclosure_sweep()
    exposure = told(e2e.operator).get()
    assert exposure.priority not in disclosure.URGENT
    urgent = Notification.objects.filter(
        kind=Notification.Kind.EXPOSURE_URGENT,
        user__membership__organisation=e2e.operator.membership.organisation)
    assert urgent.count() == 0
    vulnerability = e2e.statement.vulnerability
    login(client, e2e.coordinator)
    payload = {"exploitation": "active", "automatable": "yes",
               "reason": "Attacks reported by two sector ISACs."}
    with e2e.run(execute=True):
        response = post(client, assessment_url(vulnerability), payload)
    assert response.status_code == 200 and response.json()["version"] == 2
    exposure.refresh_from_db()
    assert exposure.priority == "immediate"
    assert urgent.count() == 1
    with e2e.run(execute=True):
        again = post(client, assessment_url(vulnerability), payload)
    assert again.json()["version"] == 2
    disclosure.disclosure_sweep()
    assert urgent.count() == 1
    assert VulnerabilityAssessment.objects.get(vulnerability=vulnerability).version == 2
    # The operator sees the new priority through its own API.
    login(client, e2e.operator)
    assert client.get(url(exposure)).json()["priority"] == "immediate"


# --- the assessment form on the coordinator's case page -------------------------------------

def page_url(dw):
    return f"/clearinghouse/cases/{dw.case.pk}/"


def form_url(vulnerability):
    return f"/clearinghouse/vulnerabilities/{vulnerability.pk}/assessment/"


def test_the_coordinator_sets_the_assessment_from_the_case_page(client, dw):
    vulnerability = dw.exposure_a.vulnerability
    login(client, dw.coordinator)
    page = client.get(page_url(dw))
    assert page.status_code == 200
    assert form_url(vulnerability) in page.content.decode()
    assert not VulnerabilityAssessment.objects.exists()  # reading the page writes nothing
    prefix = f"v{vulnerability.pk}-"
    response = client.post(form_url(vulnerability), {
        prefix + "exploitation": "public_poc", prefix + "automatable": "yes",
        prefix + "reason": "PoC on a public repository."}, follow=True)
    assert response.status_code == 200
    assert "Assessment recorded (version 2)." in response.content.decode()
    row = VulnerabilityAssessment.objects.get(vulnerability=vulnerability)
    assert (row.exploitation, row.automatable, row.version) == ("public_poc", "yes", 2)
    event = AuditEvent.objects.get(action="exposure.assessment_set")
    assert event.data["reason"] == "PoC on a public repository."


def test_a_bad_assessment_form_changes_nothing(client, dw):
    vulnerability = dw.exposure_a.vulnerability
    login(client, dw.coordinator)
    prefix = f"v{vulnerability.pk}-"
    response = client.post(form_url(vulnerability), {
        prefix + "exploitation": "active", prefix + "automatable": "yes",
        prefix + "reason": ""}, follow=True)
    assert response.status_code == 200
    assert "give the evidence" in response.content.decode()
    assert not VulnerabilityAssessment.objects.filter(version__gt=1).exists()
    assert not AuditEvent.objects.filter(action="exposure.assessment_set").exists()


@pytest.mark.parametrize("role", ["operator", "operator_b", "vendor", "finder", "partner",
                                  "anonymous"])
def test_no_one_but_the_coordinator_gets_the_assessment_form(client, dw, role):
    user = all_actors(dw)[role]
    login(client, user)
    vulnerability = dw.exposure_a.vulnerability
    page = client.get(page_url(dw))
    assert form_url(vulnerability) not in page.content.decode()
    prefix = f"v{vulnerability.pk}-"
    response = client.post(form_url(vulnerability), {
        prefix + "exploitation": "active", prefix + "automatable": "yes",
        prefix + "reason": "Trust me."})
    assert response.status_code == (302 if user is None else 404)
    assert not VulnerabilityAssessment.objects.filter(version__gt=1).exists()
    assert not AuditEvent.objects.filter(action="exposure.assessment_set").exists()
