"""The intake's pages, tried by the finder, its colleague, another AI developer, the vendor of
the report's case, another vendor, the coordinator (program admin), an agency reviewer, an
operator, a partner and an anonymous user. Anonymous users go to the login page; a report the
user may not see answers 404; an action they may not take, 403; nothing changes either way.
"""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from clearinghouse import intake
from clearinghouse.models import Report, ReportArtifact
from evaluations import services as evaluation_services
from evaluations.models import EvaluationRun
from tests.clearinghouse.conftest import (
    CVSS31,
    file_report,
    intake_actors,
    reproduce,
    vendor_case,
)
from tests.conftest import bring_to
from tests.evaluations.conftest import SAMPLE_SUITE

LOGIN = "login"
POC = b"import socket\nsocket.create_connection(('target', 80)).send(b'Range: ' + b'A' * 5000)\n"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


def as_(client, iw, actor):
    client.logout()
    user = intake_actors(iw)[actor]
    if user is not None:
        client.force_login(user)
    return user


def check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected, response.status_code


def form_data(**overrides) -> dict:
    data = {
        "title": "Heap overflow in libfoo's header parser",
        "description": "A crafted Content-Range header overflows a heap buffer in "
                       "libfoo.parse_header, giving remote code execution.",
        "attacker": "An unauthenticated remote client.",
        "capability": "Can send HTTP requests to a server that uses libfoo.",
        "trigger": "A Content-Range header longer than 4096 bytes.",
        "impact": "Code execution as the server process.",
        "cwe": "CWE-787", "cvss_vector": CVSS31, "exploitation": "poc", "timezone": "UTC",
        "products-TOTAL_FORMS": "2", "products-INITIAL_FORMS": "0",
        "products-MIN_NUM_FORMS": "0", "products-MAX_NUM_FORMS": "20",
        "products-0-purl": "pkg:pypi/libfoo@1.2.0",
        "products-0-version_range": "vers:pypi/<1.4.2",
    }
    data.update(overrides)
    return data


def released(iw, report) -> Report:
    """Valid, accepted, validated by a person and in a case with Vendor A: it reaches Vendor A."""
    vendor_case(iw, report)
    reproduce(iw, report)
    intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    return intake.report_human_validate(report=report, actor=iw.coordinator)


# --- filing -----------------------------------------------------------------------------------

def test_the_finder_files_a_report_from_the_page(client, iw):
    as_(client, iw, "finder")
    response = client.post(reverse("report_create"), form_data())
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == \
        reverse("report_detail", args=[report.pk])
    assert (report.channel, report.organisation, report.reported_by) == \
        ("web", iw.w.acme, iw.finder)
    assert report.products.get().purl_key == "pkg:pypi/libfoo"
    assert AuditEvent.objects.filter(action="report.filed", actor=iw.finder).count() == 1


@pytest.mark.parametrize("vector", ["CVSS:3.1/AV:N/AC:L", "CVSS:4.0/AV:Z/AC:L/AT:N/PR:N/UI:N/"
                                    "VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "not a vector"])
def test_an_invalid_cvss_vector_shows_on_the_form_and_nothing_is_written(client, iw, vector):
    as_(client, iw, "finder")
    response = client.post(reverse("report_create"), form_data(cvss_vector=vector))
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "CVSS vector" in html
    assert not Report.objects.exists()
    assert not AuditEvent.objects.filter(action="report.filed").exists()


def test_a_bad_package_url_names_the_product_row_on_the_form(client, iw):
    as_(client, iw, "finder")
    response = client.post(reverse("report_create"), form_data(**{"products-0-purl": "libfoo"}))
    assert response.status_code == 200 and "Product 1: The package URL is not valid" in \
        response.content.decode()
    assert not Report.objects.exists()


@pytest.mark.parametrize(("actor", "expected"), [
    ("finder", 200), ("vendor", 200), ("operator", 200), ("reviewer", 200),
    ("coordinator", 200), ("partner", 403), ("anonymous", LOGIN)])
def test_who_may_open_the_report_form(client, iw, actor, expected):
    as_(client, iw, actor)
    check(client.get(reverse("report_create")), expected)
    check(client.post(reverse("report_create"), form_data()), expected if expected != 200
          else 302)


def test_a_report_without_a_threat_model_cannot_be_made_valid_from_the_page(client, iw):
    as_(client, iw, "finder")
    client.post(reverse("report_create"), form_data(attacker="", impact=""))
    report = Report.objects.get()
    assert report.needs_more_info
    as_(client, iw, "coordinator")
    page = client.get(reverse("report_detail", args=[report.pk])).content.decode()
    assert "The threat model is incomplete" in page
    response = client.post(reverse("report_action", args=[report.pk, "validate"]),
                           {"override_reason": "Trust me."}, follow=True)
    assert "cannot become valid" in response.content.decode()
    report.refresh_from_db()
    assert report.status == "received"
    assert not AuditEvent.objects.filter(action="report.validate").exists()


# --- who sees what ----------------------------------------------------------------------------

DETAIL_BEFORE_RELEASE = [
    ("finder", 200), ("colleague", 200), ("outsider", 404), ("vendor", 404),
    ("other_vendor", 404), ("coordinator", 200), ("reviewer", 200), ("operator", 404),
    ("partner", 404), ("anonymous", LOGIN)]


@pytest.mark.parametrize(("actor", "expected"), DETAIL_BEFORE_RELEASE)
def test_the_report_page_before_it_reaches_vendors(client, iw, actor, expected):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    as_(client, iw, actor)
    check(client.get(reverse("report_detail", args=[report.pk])), expected)
    listed = client.get(reverse("report_list"))
    if expected == LOGIN:
        check(listed, LOGIN)
    else:
        assert (f"#{report.pk}</a>" in listed.content.decode()) == (expected == 200)


def test_an_ai_found_report_reaches_the_vendor_only_once_a_person_validated_it(client, iw):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    reproduce(iw, report)
    intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    intake.report_transition(report=report, actor=iw.coordinator, action="accept")
    as_(client, iw, "vendor")
    check(client.get(reverse("report_detail", args=[report.pk])), 404)
    as_(client, iw, "finder")
    page = client.get(reverse("report_detail", args=[report.pk])).content.decode()
    assert "needs a named human validator first" in page
    client.post(reverse("report_human_validate", args=[report.pk]))
    report.refresh_from_db()
    assert report.human_validated_by is None, "the filing account does not vouch for itself"
    as_(client, iw, "colleague")
    client.post(reverse("report_human_validate", args=[report.pk]))
    report.refresh_from_db()
    assert report.human_validated_by == iw.colleague
    as_(client, iw, "vendor")
    check(client.get(reverse("report_detail", args=[report.pk])), 200)
    as_(client, iw, "other_vendor")
    check(client.get(reverse("report_detail", args=[report.pk])), 404)


@pytest.mark.parametrize("actor", ["vendor", "other_vendor", "operator", "partner", "outsider"])
def test_a_stranger_cannot_validate_as_a_person(client, iw, actor):
    report = released(iw, file_report(iw.outsider)) if actor == "vendor" else \
        file_report(iw.finder)
    Report.objects.filter(pk=report.pk).update(human_validated_by=None)
    as_(client, iw, actor)
    response = client.post(reverse("report_human_validate", args=[report.pk]))
    assert response.status_code in (403, 404)
    assert not AuditEvent.objects.filter(action="report.human_validated",
                                         actor=intake_actors(iw)[actor]).exists()


@pytest.mark.parametrize(("actor", "expected"), [
    ("finder", 403), ("vendor", 403), ("reviewer", 403), ("coordinator", 200),
    ("partner", 403), ("anonymous", LOGIN)])
def test_the_triage_queue_and_the_reporters_list_are_the_coordinators(client, iw, actor,
                                                                      expected):
    report = file_report(iw.finder)
    as_(client, iw, actor)
    queue = client.get(reverse("report_triage"))
    check(queue, expected)
    check(client.get(reverse("report_reporters")), expected)
    if expected == 200:
        assert f"#{report.pk}</a>" in queue.content.decode()
        assert "no decision yet" in queue.content.decode()


@pytest.mark.parametrize(("actor", "expected"), [
    ("finder", 403), ("colleague", 403), ("reviewer", 403), ("coordinator", 302),
    ("outsider", 404), ("vendor", 404), ("partner", 404), ("anonymous", LOGIN)])
def test_only_the_coordinator_triages_from_the_page(client, iw, actor, expected):
    report = file_report(iw.finder)
    reproduce(iw, report)
    as_(client, iw, actor)
    check(client.post(reverse("report_action", args=[report.pk, "validate"])), expected)
    report.refresh_from_db()
    assert report.status == ("valid" if actor == "coordinator" else "received")


def test_the_finder_withdraws_from_the_page_and_the_coordinator_sees_the_yield(client, iw):
    report = file_report(iw.finder)
    as_(client, iw, "finder")
    confirmation = client.post(reverse("report_action", args=[report.pk, "withdraw"]))
    assert confirmation.status_code == 200 and "Withdraw report" in confirmation.content.decode()
    report.refresh_from_db()
    assert report.status == "received", "nothing happens before it is confirmed"
    client.post(reverse("report_action", args=[report.pk, "withdraw"]), {"confirm": "yes"})
    report.refresh_from_db()
    assert (report.status, report.close_reason) == ("closed", "withdrawn")
    second = file_report(iw.finder, title="Another flaw", cwe="CWE-22")
    intake.report_transition(report=second, actor=iw.coordinator, action="invalidate",
                             reason="Works as documented.")
    as_(client, iw, "coordinator")
    page = client.get(reverse("report_detail", args=[second.pk])).content.decode()
    assert "0% (0 of 1 decided reports found valid)" in page


# --- duplicates -----------------------------------------------------------------------------

def test_a_duplicate_filed_from_the_page_is_shown_to_the_coordinator_only(client, iw):
    original = file_report(iw.finder)
    as_(client, iw, "outsider")
    client.post(reverse("report_create"), form_data(
        title="libfoo: heap overflow parsing the header",
        **{"products-0-purl": "pkg:pypi/libfoo@1.3.0"}))
    later = Report.objects.exclude(pk=original.pk).get()
    assert later.duplicate_candidates.get().candidate == original
    as_(client, iw, "coordinator")
    page = client.get(reverse("report_detail", args=[later.pk])).content.decode()
    assert "Possible duplicate" in page and f"#{original.pk}</a>" in page
    as_(client, iw, "outsider")
    page = client.get(reverse("report_detail", args=[later.pk])).content.decode()
    assert "Possible duplicate" not in page
    as_(client, iw, "coordinator")
    client.post(reverse("report_action", args=[later.pk, "close"]),
                {"close_reason": "duplicate", "duplicate_of": str(original.pk), "confirm": "yes"})
    later.refresh_from_db()
    assert (later.status, later.duplicate_of) == ("closed", original)


# --- proofs of concept ----------------------------------------------------------------------

def upload(client, report, name="poc.py", content=POC, kind="poc"):
    return client.post(reverse("report_artifact_create", args=[report.pk]),
                       {"kind": kind, "file": SimpleUploadedFile(name, content)})


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("poc.py", POC)
    return buffer.getvalue()


def test_a_proof_of_concept_is_stored_encrypted_and_type_checked(client, iw, settings):
    report = file_report(iw.finder)
    as_(client, iw, "finder")
    upload(client, report)
    upload(client, report, name="poc.zip", content=zip_bytes())
    upload(client, report, name="crash.bin", content=b"\x00\xff" * 40, kind="crash_input")
    refused = upload(client, report, name="poc.zip", content=b"not a zip")
    assert refused.status_code == 302
    upload(client, report, name="tool.bin", content=b"\x7fELF\x02\x01\x01" + b"\x00" * 60)
    upload(client, report, name="tool.exe", content=b"MZ" + b"\x00" * 60)
    names = sorted(ReportArtifact.objects.values_list("filename", flat=True))
    assert names == ["crash.bin", "poc.py", "poc.zip"]
    stored = [p for p in (settings.PRIVATE_MEDIA_ROOT).rglob("*") if p.is_file()]
    assert len(stored) == 3 and all(POC not in p.read_bytes() for p in stored)
    assert AuditEvent.objects.filter(action="report_artifact.uploaded").count() == 3


DOWNLOAD = [
    ("coordinator", 200), ("vendor", 200), ("finder", 404), ("colleague", 404),
    ("other_vendor", 404), ("operator", 404), ("partner", 404), ("reviewer", 404),
    ("outsider", 404), ("anonymous", LOGIN)]


@pytest.mark.parametrize(("actor", "expected"), DOWNLOAD)
def test_every_proof_of_concept_download_is_audited_and_strangers_get_404(client, iw, actor,
                                                                       expected):
    report = file_report(iw.finder)
    as_(client, iw, "finder")
    upload(client, report)
    released(iw, report)
    artifact = ReportArtifact.objects.get()
    user = as_(client, iw, actor)
    response = client.get(reverse("report_artifact_download", args=[artifact.pk]))
    check(response, expected)
    downloads = AuditEvent.objects.filter(action="report_artifact.downloaded")
    if expected == 200:
        assert b"".join(response.streaming_content if response.streaming else
                        [response.content]) == POC
        assert response["Content-Disposition"] == 'attachment; filename="poc.py"'
        assert list(downloads.values_list("actor", flat=True)) == [user.pk]
    else:
        assert not downloads.exists()


def test_a_proof_of_concept_of_a_report_not_yet_released_is_hidden_from_the_vendor(client, iw):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    as_(client, iw, "finder")
    upload(client, report)
    as_(client, iw, "vendor")
    artifact = ReportArtifact.objects.get()
    check(client.get(reverse("report_artifact_download", args=[artifact.pk])), 404)
    assert not AuditEvent.objects.filter(action="report_artifact.downloaded").exists()


# --- from an evaluation run ------------------------------------------------------------------

@pytest.fixture
def run(iw):
    bring_to(iw.w, "in_review")
    suite_version = evaluation_services.suite_version_create(
        actor=iw.coordinator, suite_name="Unclassified sample", filename="sample.jsonl",
        content=SAMPLE_SUITE.read_bytes(), solver="multiple_choice", scorer="choice")
    return EvaluationRun.objects.create(
        request=iw.w.request, suite_version=suite_version, status="succeeded",
        started_by=iw.reviewer, suite_hash=suite_version.content_hash, inspect_version="0.3.99",
        model_identity="atlas-sim")


def test_report_to_the_clearinghouse_from_a_run_prefills_the_provenance(client, iw, run):
    as_(client, iw, "reviewer")
    run_page = client.get(reverse("run_detail", args=[run.pk])).content.decode()
    link = f"{reverse('report_create')}?run={run.pk}"
    assert link in run_page and "Report to the clearinghouse" in run_page
    form = client.get(link).content.decode()
    assert "Inspect 0.3.99 / suite Unclassified sample v1" in form
    client.post(link, form_data(evaluation_run=str(run.pk),
                                finder_model_name="Atlas", finder_model_version="1.0",
                                harness="Inspect 0.3.99 / suite Unclassified sample v1"))
    report = Report.objects.get()
    assert (report.channel, report.evaluation_run, report.finder_model) == \
        ("evaluation", run, iw.w.model)
    assert (report.finder_model_version, report.harness) == \
        ("1.0", "Inspect 0.3.99 / suite Unclassified sample v1")
    assert report.ai_found, "what a model found needs a person's validation before vendors"


@pytest.mark.parametrize("actor", ["finder", "vendor", "operator"])
def test_only_users_who_see_the_run_may_report_from_it(client, iw, run, actor):
    as_(client, iw, actor)
    link = f"{reverse('report_create')}?run={run.pk}"
    assert client.get(link).status_code == 404
    assert client.post(link, form_data(evaluation_run=str(run.pk))).status_code == 404
    assert not Report.objects.exists()


def test_the_finder_never_learns_which_reviewer_verified_or_validated(client, iw):
    report = file_report(iw.finder)
    reproduce(iw, report)
    intake.report_human_validate(report=report, actor=iw.coordinator)
    as_(client, iw, "finder")
    page = client.get(reverse("report_detail", args=[report.pk])).content.decode()
    assert "The agency" in page and iw.reviewer.username not in page
    body = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert body["human_validated_by"] == "The agency"
    verifications = client.get(f"/api/v1/reports/{report.pk}/verifications/").json()
    assert [v["verified_by"] for v in verifications["results"]] == ["The agency"]
    as_(client, iw, "coordinator")
    page = client.get(reverse("report_detail", args=[report.pk])).content.decode()
    assert iw.reviewer.username in page


def test_closing_shows_what_will_happen_first_and_a_refusal_needs_no_confirmation(client, iw):
    report = file_report(iw.finder)
    as_(client, iw, "coordinator")
    url = reverse("report_action", args=[report.pk, "close"])
    page = client.post(url, {"close_reason": "fabricated", "reason": "No such function."})
    html = page.content.decode()
    assert page.status_code == 200 and f"Close report #{report.pk}?" in html
    assert "Fabricated" in html and "No such function." in html
    assert not AuditEvent.objects.filter(action="report.close").exists()
    refused = client.post(url, {"close_reason": "fabricated"}, follow=True)
    assert "Say why the report is closed." in refused.content.decode()
    client.post(url, {"close_reason": "fabricated", "reason": "No such function.",
                      "confirm": "yes"})
    report.refresh_from_db()
    assert (report.status, report.close_reason) == ("closed", "fabricated")
    assert AuditEvent.objects.filter(action="report.close").count() == 1


@pytest.mark.parametrize("value", ["²", "١٢", "abc"])
def test_a_run_id_that_is_not_plain_digits_is_refused_cleanly_not_a_server_error(client, iw,
                                                                               value):
    as_(client, iw, "finder")
    response = client.get(f"{reverse('report_create')}?run={value}")
    assert response.status_code == 403
    assert not Report.objects.exists()
