"""/api/v1/reports and friends, tried by every actor of the clearinghouse world. JSON errors for
bad input (400 with the field, never a 500), 404 for what the caller may not see."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from clearinghouse import intake
from clearinghouse.models import DuplicateCandidate, ProductClaim, Report, ReportArtifact
from tests.clearinghouse.conftest import (
    CVSS40,
    file_report,
    intake_actors,
    report_payload,
    reproduce,
    vendor_case,
)

URL = "/api/v1/reports/"
POC = b"#!/bin/sh\ncurl -H \"Range: $(head -c 5000 /dev/zero | tr '\\0' A)\" http://target/\n"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def as_(api, iw, actor):
    return api.as_(intake_actors(iw)[actor])


def test_the_finder_files_a_report_through_the_api(api, iw):
    response = as_(api, iw, "finder").post(URL, report_payload(cvss_vector=CVSS40))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["cvss_version"], body["cvss_score"], body["channel"]) == ("4.0", "9.3", "api")
    assert body["products"][0]["purl_key"] == "pkg:pypi/libfoo"
    assert body["ai_found"] and not body["reaches_vendors"] and body["candidates"] is None
    assert AuditEvent.objects.filter(action="report.filed",
                                     object_id=str(body["id"])).count() == 1


@pytest.mark.parametrize(("payload", "field"), [
    (report_payload(cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:Q"), "cvss_vector"),
    (report_payload(cvss_vector="CVSS:4.0/AV:N"), "cvss_vector"),
    (report_payload(cvss_vector=""), "cvss_vector"),
    (report_payload(cwe="787"), None),
    (report_payload(cwe="buffer overflow"), "cwe"),
    (report_payload(products=[{"purl": "pkg:"}]), "products"),
    (report_payload(products=[{"cpe": "cpe:2.3:a:x"}]), "products"),
    (report_payload(products="pkg:pypi/libfoo"), "products"),
    (report_payload(reporter_deadline="2027-01-01T00:00:00"), "reporter_deadline"),
    (report_payload(evaluation_run=999999), "evaluation_run"),
    (report_payload(finder_model=999999), "finder_model"),
    ({"title": "only a title"}, "description"),
])
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(api, iw, payload, field):
    response = as_(api, iw, "finder").post(URL, payload)
    if field is None:  # "787" is read as CWE-787
        assert response.status_code == 201
        assert Report.objects.get().cwe == "CWE-787"
        return
    assert response.status_code == 400, response.content
    body = response.json()
    assert body.get("field") == field or field in body.get("errors", {}), body
    assert not Report.objects.exists() and not ProductClaim.objects.exists()


def test_a_report_without_a_threat_model_cannot_become_valid_through_the_api(api, iw):
    body = as_(api, iw, "finder").post(URL, report_payload(attacker="", capability="")).json()
    assert body["needs_more_info"] and not body["has_threat_model"]
    report = Report.objects.get()
    reproduce(iw, report)
    response = as_(api, iw, "coordinator").post(f"{URL}{report.pk}/validate/",
                                                {"override_reason": "Obvious."})
    assert response.status_code == 409
    assert response.json()["code"] == "needs_threat_model"
    report.refresh_from_db()
    assert report.status == "received"


def test_the_coordinator_validates_accepts_and_closes_through_the_api(api, iw):
    report = file_report(iw.finder)
    coordinator = as_(api, iw, "coordinator")
    assert coordinator.post(f"{URL}{report.pk}/validate/").status_code == 409
    verification = coordinator.post(f"{URL}{report.pk}/verifications/", {
        "method": "sandbox", "environment": "python:3.11-slim, libfoo 1.2.0", "runs": 4,
        "successes": 3, "result": "reproduced"})
    assert verification.status_code == 201, verification.json()
    body = coordinator.post(f"{URL}{report.pk}/validate/").json()
    assert (body["status"], body["valid_basis"]) == ("valid", "reproduction")
    assert body["reporter_yield"] == {"filed": 1, "decided": 1, "found_valid": 1,
                                      "percent": 100}
    assert coordinator.post(f"{URL}{report.pk}/accept/").json()["status"] == "accepted"
    refused = coordinator.post(f"{URL}{report.pk}/close/", {"close_reason": "coordinated"})
    assert refused.status_code == 400 and refused.json()["field"] == "reason"
    closed = coordinator.post(f"{URL}{report.pk}/close/", {"close_reason": "coordinated",
                                                            "reason": "Advisory out."})
    assert closed.json()["status"] == "closed"
    assert coordinator.post(f"{URL}{report.pk}/accept/").status_code == 409
    assert list(AuditEvent.objects.filter(object_type="clearinghouse.report")
                .order_by("id").values_list("action", flat=True)) == [
        "report.filed", "report.validate", "report.accept", "report.close"]


@pytest.mark.parametrize("actor", ["finder", "reviewer", "vendor", "operator"])
def test_only_the_coordinator_triages_through_the_api(api, iw, actor):
    report = file_report(iw.finder)
    reproduce(iw, report)
    response = as_(api, iw, actor).post(f"{URL}{report.pk}/validate/")
    assert response.status_code == (404 if actor in ("vendor", "operator") else 403)
    assert Report.objects.get(pk=report.pk).status == "received"


def test_an_ai_found_report_reaches_a_vendor_only_after_human_validation_api(api, iw):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    reproduce(iw, report)
    intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    assert as_(api, iw, "vendor").get(f"{URL}{report.pk}/").status_code == 404
    assert as_(api, iw, "vendor").get(URL).json()["results"] == []
    assert as_(api, iw, "vendor").post(f"{URL}{report.pk}/human-validate/").status_code == 404
    body = as_(api, iw, "colleague").post(f"{URL}{report.pk}/human-validate/").json()
    assert body["human_validated_by"] == "colleague" and body["reaches_vendors"]
    assert as_(api, iw, "vendor").get(f"{URL}{report.pk}/").status_code == 200
    assert [r["id"] for r in as_(api, iw, "vendor").get(URL).json()["results"]] == [report.pk]
    assert as_(api, iw, "other_vendor").get(f"{URL}{report.pk}/").status_code == 404


def test_the_account_that_filed_an_ai_found_report_cannot_validate_it_itself_api(api, iw):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    reproduce(iw, report)
    intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    response = as_(api, iw, "finder").post(f"{URL}{report.pk}/human-validate/")
    assert response.status_code == 409
    assert "cannot also validate" in response.json()["detail"]
    report.refresh_from_db()
    assert report.human_validated_by is None
    assert not AuditEvent.objects.filter(action="report.human_validated").exists()
    assert as_(api, iw, "vendor").get(f"{URL}{report.pk}/").status_code == 404
    body = as_(api, iw, "coordinator").post(f"{URL}{report.pk}/human-validate/").json()
    assert body["reaches_vendors"]


RETRIEVE = [("finder", 200), ("colleague", 200), ("outsider", 404), ("vendor", 404),
            ("other_vendor", 404), ("coordinator", 200), ("reviewer", 200), ("operator", 404),
            ("partner", 404), ("anonymous", 403)]


@pytest.mark.parametrize(("actor", "expected"), RETRIEVE)
def test_each_actor_reads_a_report_or_gets_404(api, iw, actor, expected):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    response = as_(api, iw, actor).get(f"{URL}{report.pk}/")
    if actor == "anonymous":
        assert response.status_code in (401, 403)
        return
    assert response.status_code == expected
    listed = as_(api, iw, actor).get(URL)
    assert listed.status_code == 200
    assert ([r["id"] for r in listed.json()["results"]] == [report.pk]) == (expected == 200)


def test_a_duplicate_is_caught_at_intake_and_shown_to_the_coordinator_only(api, iw):
    original = file_report(iw.finder)
    body = as_(api, iw, "outsider").post(URL, report_payload(
        title="Heap overflow in the libfoo header parser",
        products=[{"cpe": "cpe:2.3:a:libfoo:libfoo:1.3:*:*:*:*:*:*:*"},
                  {"purl": "pkg:pypi/libfoo"}])).json()
    assert body["candidates"] is None
    coordinator_view = as_(api, iw, "coordinator").get(f"{URL}{body['id']}/").json()
    assert [(c["candidate"], c["kind"]) for c in coordinator_view["candidates"]] == \
        [(original.pk, "duplicate")]
    assert DuplicateCandidate.objects.count() == 1


def test_a_regression_is_flagged_when_the_case_recorded_a_fix(api, iw):
    original = file_report(iw.finder)
    case = vendor_case(iw, original)
    case.fix_deployed_at = case.created_at
    case.save(update_fields=["fix_deployed_at"])
    body = as_(api, iw, "outsider").post(URL, report_payload()).json()
    candidate = DuplicateCandidate.objects.get(report_id=body["id"])
    assert (candidate.candidate, candidate.kind) == (original, "regression")


def test_proofs_of_concept_go_up_encrypted_and_every_download_is_audited(api, iw, client):
    report = file_report(iw.finder)
    client.force_login(iw.finder)
    response = client.post(f"{URL}{report.pk}/artifacts/", {
        "kind": "repro_script", "file": SimpleUploadedFile("repro.sh", POC)})
    assert response.status_code == 201, response.json()
    artifact = ReportArtifact.objects.get()
    assert (artifact.content_type, artifact.size_bytes) == ("text/plain", len(POC))
    refused = client.post(f"{URL}{report.pk}/artifacts/", {
        "kind": "poc", "file": SimpleUploadedFile("image.png", b"\x89PNG\r\n\x1a\n")})
    assert refused.status_code == 400 and refused.json()["field"] == "file"
    assert ReportArtifact.objects.count() == 1
    listed = client.get(f"{URL}{report.pk}/artifacts/").json()
    assert [a["filename"] for a in listed["results"]] == ["repro.sh"]

    vendor_case(iw, report)
    reproduce(iw, report)
    intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    intake.report_human_validate(report=report, actor=iw.colleague)
    download = f"/api/v1/report-artifacts/{artifact.pk}/download/"
    for actor, expected in [("coordinator", 200), ("vendor", 200), ("finder", 404),
                            ("other_vendor", 404), ("operator", 404), ("partner", 404),
                            ("reviewer", 404)]:
        response = as_(api, iw, actor).get(download)
        assert response.status_code == expected, actor
        if expected == 200:
            assert response.content == POC
    assert as_(api, iw, "anonymous").get(download).status_code in (401, 403)
    actors = AuditEvent.objects.filter(action="report_artifact.downloaded").values_list(
        "actor__username", flat=True)
    assert sorted(actors) == ["admin", "vendor"]


@pytest.mark.parametrize(("actor", "expected"), [
    ("coordinator", {"Acme AI": 1, "Other AI": 1}), ("finder", {"Acme AI": 1}),
    ("vendor", {}), ("partner", {})])
def test_reporter_yields_are_the_coordinators_and_each_reporter_sees_its_own(api, iw, actor,
                                                                           expected):
    file_report(iw.finder)
    file_report(iw.outsider, title="Something else", cwe="CWE-22")
    response = as_(api, iw, actor).get("/api/v1/reporter-yields/")
    assert response.status_code == 200
    assert {r["organisation"]: r["filed"] for r in response.json()["results"]} == expected


def test_the_intake_endpoints_are_in_the_openapi_schema(api, iw):
    schema = as_(api, iw, "finder").get("/api/v1/schema/?format=json").json()
    for path in ("/api/v1/reports/", "/api/v1/reports/{id}/validate/",
                 "/api/v1/reports/{id}/human-validate/", "/api/v1/reports/{id}/verifications/",
                 "/api/v1/reports/{id}/artifacts/", "/api/v1/report-artifacts/{id}/download/",
                 "/api/v1/reporter-yields/"):
        assert path in schema["paths"], path
