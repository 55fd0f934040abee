"""Publishing a case's advisory (clearinghouse/publication.py): the gate (embargo, vendor
statements, a draft that still matches the case, validation), what publication writes, and the
public CSAF provider directory at /.well-known/csaf/."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.models import Organisation
from audit.models import AuditEvent
from clearinghouse.exports.validate import validate_csaf, validate_provider_metadata
from clearinghouse.models import (
    Advisory,
    Case,
    Embargo,
    MemberProfile,
    Participant,
    ProductStatement,
    Remediation,
    Report,
    Vulnerability,
)
from clearinghouse.publication import PublicationRefused, advisory_generate, advisory_publish
from clearinghouse.selectors_snapshot import case_snapshot
from jobs.models import OutboxMessage
from notifications.models import Notification
from tests.factories import OrganisationFactory, UserFactory

K = Organisation.Kind
PS = ProductStatement.Status
DOC = "/.well-known/csaf/white/{year}/ch-2026-0001.json"


@pytest.fixture
def csaf_root(settings, tmp_path):
    settings.CLEARINGHOUSE_CSAF_ROOT = tmp_path / "csaf"
    settings.PORTAL_BASE_URL = "https://portal.example.gov"
    return settings.CLEARINGHOUSE_CSAF_ROOT


def _case(world, number=1):
    return Case.objects.create(reference=f"CH-2026-{number:04d}", year=2026, number=number,
                               title="Flaws in fastparse", summary="A heap overflow.",
                               created_by=world.admin)


def _vulnerability(case, **fields):
    return Vulnerability.objects.create(**{
        "case": case, "title": "Heap overflow in fastparse's header parser",
        "description": "A crafted header makes fastparse write past a heap buffer.",
        "cve_id": "CVE-2026-12345", "cwe": "CWE-787",
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "cvss_version": "3.1",
        "cvss_score": "9.8", "cvss_severity": "Critical", **fields})


@pytest.fixture
def case(world, csaf_root):
    """A case found by Acme AI's model: Example Soft fixed fastparse, Quiet Corp never answered
    (its statement on quietd is still under investigation, and it is not yet marked no
    response), and the embargo is active."""
    world.soft = OrganisationFactory(name="Example Soft", kind=K.VENDOR)
    world.quiet = OrganisationFactory(name="Quiet Corp", kind=K.VENDOR)
    world.soft_user = UserFactory(username="soft", organisation=world.soft)
    world.quiet_user = UserFactory(username="quiet", organisation=world.quiet)
    _vet(world.soft, world.soft_user)
    _vet(world.quiet, world.quiet_user)
    case = _case(world)
    vuln = _vulnerability(case)
    contacted = timezone.now() - timedelta(days=30)
    Participant.objects.create(case=case, organisation=world.acme, role=Participant.Role.FINDER)
    for org in (world.soft, world.quiet):
        Participant.objects.create(case=case, organisation=org, role=Participant.Role.VENDOR,
                                   notified_at=contacted)
    Report.objects.create(
        organisation=world.acme, reported_by=world.owner, title="Heap overflow",
        description="Found by a model.", attacker="remote", capability="none",
        trigger="header", impact="code execution", cwe="CWE-787",
        cvss_vector=vuln.cvss_vector, cvss_version="3.1", cvss_score="9.8",
        cvss_severity="Critical", ai_found=True, finder_model=world.model,
        human_validated_by=world.owner, human_validated_at=contacted,
        status=Report.Status.ACCEPTED, case=case, vulnerability=vuln)
    fixed = ProductStatement.objects.create(
        vulnerability=vuln, vendor=world.soft, product_name="fastparse",
        purl="pkg:pypi/fastparse", version_range="vers:pypi/>=1.0.0|<1.4.2", status=PS.FIXED)
    Remediation.objects.create(statement=fixed, category=Remediation.Category.VENDOR_FIX,
                               details="Upgrade to 1.4.2.", fixed_range="vers:pypi/>=1.4.2",
                               url="https://example.com/fastparse/1.4.2",
                               created_by=world.soft_user)
    ProductStatement.objects.create(
        vulnerability=vuln, vendor=world.quiet, product_name="quietd",
        purl="pkg:golang/example.com/quietd", version_range="vers:golang/<0.9.0")
    Embargo.objects.create(case=case, status=Embargo.Status.ACTIVE,
                           ends_at=timezone.now() + timedelta(days=5), proposed_by=world.admin)
    return case


def _vet(organisation, user):
    """Vendors take part in cases only while the program office has them vetted."""
    MemberProfile.objects.create(organisation=organisation, description="Vendor.",
                                 security_contact="security@example.org",
                                 status=MemberProfile.Status.VETTED, applied_by=user)


def _ready(case):
    """The embargo exited and Quiet Corp marked no response after 21 days of silence."""
    Embargo.objects.filter(case=case).update(status=Embargo.Status.EXITED,
                                             exited_at=timezone.now())
    Participant.objects.filter(case=case, organisation__name="Quiet Corp").update(
        no_response_at=timezone.now())


def _refusal(advisory, by) -> list[str]:
    with pytest.raises(PublicationRefused) as refused:
        advisory_publish(advisory=advisory, by=by)
    return refused.value.reasons


def _nothing_published(case, csaf_root):
    assert Advisory.objects.get(case=case).status == Advisory.Status.DRAFT
    assert Case.objects.get(pk=case.pk).status == Case.Status.OPEN
    assert not AuditEvent.objects.filter(action="clearinghouse.advisory_published").exists()
    assert not Notification.objects.filter(kind=Notification.Kind.ADVISORY_PUBLISHED).exists()
    assert not csaf_root.exists()


# --- the gate ------------------------------------------------------------------------------

def test_publication_is_refused_while_the_embargo_is_active(world, case, csaf_root):
    _ready(case)
    Embargo.objects.filter(case=case).update(status=Embargo.Status.ACTIVE)
    advisory = advisory_generate(case=case, by=world.admin)
    assert advisory.validation["ok"]

    reasons = _refusal(advisory, world.admin)

    assert len(reasons) == 1 and reasons[0].startswith("The embargo is active (ends ")
    _nothing_published(case, csaf_root)


def test_publication_is_refused_while_a_silent_vendor_is_not_yet_no_response(world, case,
                                                                           csaf_root):
    Embargo.objects.filter(case=case).update(status=Embargo.Status.EXITED)
    advisory = advisory_generate(case=case, by=world.admin)

    reasons = _refusal(advisory, world.admin)

    assert reasons == ["Quiet Corp has not yet stated the status of quietd."]
    _nothing_published(case, csaf_root)


def test_publication_is_refused_for_a_vendor_that_made_no_statement_at_all(world, case,
                                                                           csaf_root):
    _ready(case)
    late = OrganisationFactory(name="Late Vendor", kind=K.VENDOR)
    Participant.objects.create(case=case, organisation=late, role=Participant.Role.VENDOR,
                               notified_at=timezone.now())
    advisory = advisory_generate(case=case, by=world.admin)

    assert _refusal(advisory, world.admin) == [
        "Late Vendor has made no statement and is not yet marked as no response."]


def test_publication_is_refused_when_an_export_does_not_validate(world, case, csaf_root):
    _ready(case)
    Vulnerability.objects.filter(case=case).update(cwe="CWE-999999")
    advisory = advisory_generate(case=case, by=world.admin)
    assert not advisory.validation["ok"]
    assert advisory.validation["csaf"]["errors"][0]["test"] == "6.1.11"

    reasons = _refusal(advisory, world.admin)

    assert len(reasons) == 1 and reasons[0].startswith("The exports do not validate")
    assert "CWE-999999 is not a known CWE identifier" in reasons[0]
    _nothing_published(case, csaf_root)


def test_publication_is_refused_when_the_case_changed_after_the_draft(world, case, csaf_root):
    _ready(case)
    advisory = advisory_generate(case=case, by=world.admin)
    ProductStatement.objects.filter(product_name="fastparse").update(
        version_range="vers:pypi/>=0.9.0|<1.4.2")

    assert _refusal(advisory, world.admin) == [
        "The case changed after this draft was generated; generate the advisory again."]


def test_only_the_coordinator_generates_and_publishes(world, case, csaf_root):
    _ready(case)
    for user in (world.soft_user, world.owner, world.reviewer):
        with pytest.raises(PermissionDenied):
            advisory_generate(case=case, by=user)
    advisory = advisory_generate(case=case, by=world.admin)
    with pytest.raises(PermissionDenied):
        advisory_publish(advisory=advisory, by=world.soft_user)
    _nothing_published(case, csaf_root)


def test_publication_after_the_embargo_with_the_silent_vendor_marked_no_response(
        world, case, csaf_root, django_capture_on_commit_callbacks):
    _ready(case)
    advisory = advisory_generate(case=case, by=world.admin)

    with django_capture_on_commit_callbacks(execute=True):
        advisory = advisory_publish(advisory=advisory, by=world.admin)

    advisory.refresh_from_db()
    case.refresh_from_db()
    assert advisory.status == Advisory.Status.PUBLISHED and advisory.published_by == world.admin
    assert case.status == Case.Status.PUBLISHED and case.public_at is not None
    event = AuditEvent.objects.get(action="clearinghouse.advisory_published")
    assert event.object_id == str(advisory.pk) and event.data["hash"] == advisory.hashes["csaf"]
    assert AuditEvent.objects.filter(action="clearinghouse.advisory_generated").count() == 1
    told = Notification.objects.filter(kind=Notification.Kind.ADVISORY_PUBLISHED)
    assert {n.user for n in told} >= {world.owner, world.soft_user, world.quiet_user}
    for note in told:  # a link and the case reference, no vulnerability detail
        text = note.title + note.body
        assert note.title == "Case CH-2026-0001: the advisory is published"
        assert "fastparse" not in text
        assert "overflow" not in text.lower() and "CVE-" not in text
        assert note.link == DOC.format(year=timezone.now().year)
    # The silent vendor: contact attempted, its product under investigation, never cleared.
    vuln = advisory.vex["vulnerabilities"][0]
    assert vuln["product_status"]["under_investigation"] == ["CSAFPID-P2"]
    assert "known_not_affected" not in vuln["product_status"]
    assert [i["status"] for i in vuln["involvements"]] == ["completed", "contact_attempted"]
    quiet = advisory.cve[0]["container"]["affected"][1]
    assert quiet["vendor"] == "Quiet Corp" and quiet["versions"][0]["status"] == "unknown"
    credits = advisory.cve[0]["container"]["credits"]
    assert [c["type"] for c in credits] == ["tool", "finder"]
    assert credits[0]["value"].startswith(world.model.name)
    assert (csaf_root / "provider-metadata.json").is_file()
    # Written by a worker job recorded in the publishing transaction (run eagerly in tests).
    assert OutboxMessage.objects.filter(task="clearinghouse.provider_directory_write",
                                        ref=f"clearinghouse.advisory:{advisory.pk}").exists()


def test_a_second_revision_keeps_the_first_in_its_history(world, case, csaf_root,
                                                           django_capture_on_commit_callbacks):
    _ready(case)
    with django_capture_on_commit_callbacks(execute=True):
        advisory_publish(advisory=advisory_generate(case=case, by=world.admin), by=world.admin)
    ProductStatement.objects.filter(product_name="quietd").update(status=PS.KNOWN_AFFECTED)

    with django_capture_on_commit_callbacks(execute=True):
        second = advisory_publish(advisory=advisory_generate(case=case, by=world.admin),
                                  by=world.admin)

    tracking = second.csaf["document"]["tracking"]
    assert second.revision == 2 and tracking["version"] == "2"
    assert [r["number"] for r in tracking["revision_history"]] == ["1", "2"]
    assert validate_csaf(second.csaf)["ok"]
    served = (csaf_root / "white" / str(timezone.now().year) / "ch-2026-0001.json").read_bytes()
    assert json.loads(served)["document"]["tracking"]["version"] == "2"


def test_the_snapshot_takes_the_same_queries_for_one_or_many_vulnerabilities(
        world, case, django_assert_num_queries):
    now = timezone.now()
    with django_assert_num_queries(6):
        case_snapshot(case, release_date=now)
    for n in range(3):
        vuln = _vulnerability(case, cve_id=f"CVE-2026-2000{n}")
        for vendor in (world.soft, world.quiet):
            st = ProductStatement.objects.create(vulnerability=vuln, vendor=vendor,
                                                 product_name=f"p{n}", status=PS.KNOWN_AFFECTED)
            Remediation.objects.create(statement=st, category="workaround", details="Off.",
                                       created_by=world.admin)
    with django_assert_num_queries(6):
        snapshot = case_snapshot(case, release_date=now)
    assert len(snapshot.vulnerabilities) == 4


# --- /.well-known/csaf/ --------------------------------------------------------------------

@pytest.fixture
def published(world, case, csaf_root, django_capture_on_commit_callbacks):
    _ready(case)
    with django_capture_on_commit_callbacks(execute=True):
        return advisory_publish(advisory=advisory_generate(case=case, by=world.admin),
                                by=world.admin)


def test_anyone_reads_the_provider_metadata_and_the_published_documents(client, published):
    year = timezone.now().year
    metadata = client.get("/.well-known/csaf/provider-metadata.json")
    assert metadata.status_code == 200 and metadata["Content-Type"] == "application/json"
    assert validate_provider_metadata(metadata.json())["ok"]
    assert metadata.json()["distributions"] == [
        {"directory_url": "https://portal.example.gov/.well-known/csaf/white/"}]

    doc = client.get(DOC.format(year=year))
    assert doc.status_code == 200
    assert hashlib.sha256(doc.content).hexdigest() == published.hashes["csaf"]
    assert doc.json()["document"]["tracking"]["id"] == "CH-2026-0001"
    digest = client.get(DOC.format(year=year) + ".sha256").content.decode()
    assert digest == f"{published.hashes['csaf']}  ch-2026-0001.json\n"
    assert client.get(f"/.well-known/csaf/white/{year}/ch-2026-0001-vex.json").status_code == 200

    index = client.get("/.well-known/csaf/white/index.txt").content.decode().splitlines()
    assert index == [f"{year}/ch-2026-0001-vex.json", f"{year}/ch-2026-0001.json"]
    changes = client.get("/.well-known/csaf/white/changes.csv")
    assert changes["Content-Type"].startswith("text/csv")
    assert changes.content.decode().startswith(f'"{year}/ch-2026-0001')
    listing = client.get(f"/.well-known/csaf/white/{year}/")
    assert listing.status_code == 200 and b"ch-2026-0001.json" in listing.content


def test_a_draft_is_not_served_and_unknown_paths_answer_404(world, client, published):
    other = _case(world, number=2)
    _vulnerability(other, cve_id="CVE-2026-99999")
    advisory_generate(case=other, by=world.admin)
    year = timezone.now().year

    assert client.get(f"/.well-known/csaf/white/{year}/ch-2026-0002.json").status_code == 404
    assert b"0002" not in client.get("/.well-known/csaf/white/index.txt").content
    for path in ("amber/index.txt", "white/../../etc/passwd", "white/2026/x.txt", "nothing"):
        assert client.get(f"/.well-known/csaf/{path}").status_code == 404, path


def test_before_anything_is_published_the_directory_answers_404(client, csaf_root):
    assert client.get("/.well-known/csaf/provider-metadata.json").status_code == 404
    assert client.get("/.well-known/csaf/white/index.txt").status_code == 404


# --- /api/v1/advisories/ -------------------------------------------------------------------

def test_the_coordinator_generates_and_publishes_through_the_api(world, api, case,
                                                                 django_capture_on_commit_callbacks):
    created = api.as_(world.admin).post("/api/v1/advisories/", {"case": case.pk})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["status"] == "draft" and body["valid"] and body["tracking_id"] == "CH-2026-0001"
    assert body["validation"]["csaf"]["validator"].startswith("csaf 2026.10.25")

    refused = api.as_(world.admin).post(f"/api/v1/advisories/{body['id']}/publish/", {})
    assert refused.status_code == 409 and refused.json()["code"] == "publication_refused"
    assert "The embargo is active" in refused.json()["detail"]
    assert "Quiet Corp has not yet stated the status of quietd." in refused.json()["detail"]

    _ready(case)
    stale = api.as_(world.admin).post(f"/api/v1/advisories/{body['id']}/publish/", {})
    assert stale.status_code == 409 and "generate the advisory again" in stale.json()["detail"]
    again = api.as_(world.admin).post("/api/v1/advisories/", {"case": case.pk}).json()
    assert again["revision"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        done = api.as_(world.admin).post(f"/api/v1/advisories/{again['id']}/publish/", {})
    assert done.status_code == 200 and done.json()["status"] == "published"
    assert done.json()["csaf"]["document"]["tracking"]["version"] == "1"
    assert Advisory.objects.get(pk=body["id"]).status == Advisory.Status.DRAFT


def test_vendors_see_no_drafts_and_cannot_generate_or_publish(world, api, case,
                                                              django_capture_on_commit_callbacks):
    _ready(case)
    draft = advisory_generate(case=case, by=world.admin)
    vendor = api.as_(world.soft_user)

    assert vendor.get("/api/v1/advisories/").json()["results"] == []
    assert vendor.get(f"/api/v1/advisories/{draft.pk}/").status_code == 404
    assert vendor.post(f"/api/v1/advisories/{draft.pk}/publish/", {}).status_code == 404
    assert vendor.post("/api/v1/advisories/", {"case": case.pk}).status_code == 403
    assert api.as_(world.outsider).get(f"/api/v1/advisories/{draft.pk}/").status_code == 404
    assert api.as_(None).get("/api/v1/advisories/").status_code in (401, 403)

    with django_capture_on_commit_callbacks(execute=True):
        advisory_publish(advisory=draft, by=world.admin)
    listed = api.as_(world.soft_user).get("/api/v1/advisories/").json()["results"]
    assert [a["id"] for a in listed] == [draft.pk]
    assert api.as_(world.soft_user).post(f"/api/v1/advisories/{draft.pk}/publish/",
                                         {}).status_code == 403
    assert api.as_(world.outsider).get(f"/api/v1/advisories/{draft.pk}/").status_code == 404


# --- pages ---------------------------------------------------------------------------------

def test_the_coordinator_sees_what_blocks_publication_then_generates_and_publishes_on_pages(
        world, client, case, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    page = client.get(f"/clearinghouse/cases/{case.pk}/advisories/").content.decode()
    assert "The embargo is active" in page and "Quiet Corp has not yet stated" in page

    _ready(case)
    generated = client.post(f"/clearinghouse/cases/{case.pk}/advisories/new/")
    advisory = Advisory.objects.get(case=case)
    assert generated.status_code == 302
    assert generated.url == f"/clearinghouse/advisories/{advisory.pk}/"
    detail = client.get(generated.url).content.decode()
    assert "csaf 2026.10.25" in detail and "Publish…" in detail

    confirm = client.post(f"/clearinghouse/advisories/{advisory.pk}/publish/")
    assert confirm.status_code == 200 and "Publish the advisory" in confirm.content.decode()
    assert Advisory.objects.get(pk=advisory.pk).status == Advisory.Status.DRAFT
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(f"/clearinghouse/advisories/{advisory.pk}/publish/",
                           {"confirm": "yes"})
    assert done.status_code == 302
    assert Advisory.objects.get(pk=advisory.pk).status == Advisory.Status.PUBLISHED
    download = client.get(f"/clearinghouse/advisories/{advisory.pk}/csaf.json")
    assert hashlib.sha256(download.content).hexdigest() == advisory.hashes["csaf"]
    assert 'filename="ch-2026-0001.json"' in download["Content-Disposition"]


def test_vendors_outsiders_and_anonymous_users_get_no_draft_pages(world, client, case):
    _ready(case)
    draft = advisory_generate(case=case, by=world.admin)

    client.force_login(world.soft_user)
    listing = client.get(f"/clearinghouse/cases/{case.pk}/advisories/")
    assert listing.status_code == 200 and "No advisory yet." in listing.content.decode()
    assert client.get(f"/clearinghouse/advisories/{draft.pk}/").status_code == 404
    assert client.get(f"/clearinghouse/advisories/{draft.pk}/csaf.json").status_code == 404
    assert client.post(f"/clearinghouse/advisories/{draft.pk}/publish/",
                       {"confirm": "yes"}).status_code == 404
    assert client.post(f"/clearinghouse/cases/{case.pk}/advisories/new/").status_code == 403
    client.force_login(world.outsider)
    assert client.get(f"/clearinghouse/cases/{case.pk}/advisories/").status_code == 404
    client.logout()
    assert client.get(f"/clearinghouse/advisories/{draft.pk}/").status_code == 302
    assert Advisory.objects.get().status == Advisory.Status.DRAFT


def test_a_withdrawn_advisory_leaves_the_public_directory_and_no_older_revision_returns(
        world, api, client, case, django_capture_on_commit_callbacks):
    _ready(case)
    with django_capture_on_commit_callbacks(execute=True):
        advisory_publish(advisory=advisory_generate(case=case, by=world.admin), by=world.admin)
    ProductStatement.objects.filter(product_name="quietd").update(status=PS.KNOWN_AFFECTED)
    with django_capture_on_commit_callbacks(execute=True):
        second = advisory_publish(advisory=advisory_generate(case=case, by=world.admin),
                                  by=world.admin)
    year = timezone.now().year
    assert client.get(DOC.format(year=year)).status_code == 200

    assert api.as_(world.admin).post(f"/api/v1/advisories/{second.pk}/withdraw/",
                                     {}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = api.as_(world.admin).post(f"/api/v1/advisories/{second.pk}/withdraw/",
                                             {"reason": "The fix was incomplete."})

    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    assert AuditEvent.objects.get(action="clearinghouse.advisory_withdrawn").data["reason"] == \
        "The fix was incomplete."
    client.logout()
    assert client.get(DOC.format(year=year)).status_code == 404
    assert client.get("/.well-known/csaf/white/index.txt").content == b""
    assert client.get("/.well-known/csaf/provider-metadata.json").status_code == 200


def test_the_coordinator_withdraws_on_the_page_after_confirming(world, client, published,
                                                                django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    page = client.get(f"/clearinghouse/advisories/{published.pk}/").content.decode()
    assert "Withdraw…" in page
    url = f"/clearinghouse/advisories/{published.pk}/withdraw/"
    confirm = client.post(url, {"reason": "Wrong product."})
    assert "Withdraw the advisory" in confirm.content.decode()
    assert Advisory.objects.get(pk=published.pk).status == Advisory.Status.PUBLISHED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"reason": "Wrong product.", "confirm": "yes"})
    assert Advisory.objects.get(pk=published.pk).status == Advisory.Status.WITHDRAWN


def test_the_management_command_writes_the_directory_again(published, csaf_root):
    import shutil
    from io import StringIO

    from django.core.management import call_command

    shutil.rmtree(csaf_root)
    out = StringIO()
    call_command("csaf_provider_write", stdout=out)

    assert "2 CSAF document(s); provider metadata valid" in out.getvalue()
    assert (csaf_root / "white" / "index.txt").read_text().count(".json") == 2


@pytest.mark.parametrize("value", ["²", "١٢", "abc"])
def test_a_case_filter_that_is_not_plain_digits_answers_a_json_400_not_a_server_error(api, world,
                                                                                     value):
    response = api.as_(world.admin).get(f"/api/v1/advisories/?case={value}")
    assert response.status_code == 400
    assert response.json()["field"] == "case"


def _second_vulnerability(world, case, *, title, **report_fields):
    """Another vulnerability of the case, found by Acme AI's model, Example Soft's product."""
    vuln = _vulnerability(case, title=title, cve_id="")
    Report.objects.create(**{
        "organisation": world.acme, "reported_by": world.owner, "title": title,
        "description": "Found by a model.", "attacker": "remote", "capability": "none",
        "trigger": "header", "impact": "code execution", "cwe": "CWE-787",
        "cvss_vector": vuln.cvss_vector, "cvss_version": "3.1", "cvss_score": "9.8",
        "cvss_severity": "Critical", "ai_found": True, "finder_model": world.model,
        "status": Report.Status.VALID, "case": case, "vulnerability": vuln, **report_fields})
    fixed = ProductStatement.objects.create(vulnerability=vuln, vendor=world.soft,
                                            product_name="fastparse-cli", status=PS.FIXED)
    Remediation.objects.create(statement=fixed, category=Remediation.Category.VENDOR_FIX,
                               details="Upgrade to 2.0.1.", created_by=world.soft_user)
    return vuln


def test_publication_is_refused_while_a_vulnerability_has_only_an_unvalidated_ai_finding(
        world, case, csaf_root):
    _ready(case)
    _second_vulnerability(world, case, title="Unvalidated overflow in fastparse-cli")
    advisory = advisory_generate(case=case, by=world.admin)

    reasons = _refusal(advisory, world.admin)

    assert reasons == ["Vulnerability \u201cUnvalidated overflow in fastparse-cli\u201d has no "
                       "report that a person validated and that is valid, accepted or closed "
                       "as coordinated (an AI finding no person validated is never published); "
                       "validate its report first."]
    _nothing_published(case, csaf_root)


@pytest.mark.parametrize("reason", ["fabricated", "not_a_vulnerability", "withdrawn",
                                    "out_of_scope"])
def test_a_vulnerability_whose_only_report_was_closed_as_not_real_is_left_out_and_publishes(
        world, case, csaf_root, reason, django_capture_on_commit_callbacks):
    _ready(case)
    _second_vulnerability(world, case, title="Imagined overflow", status=Report.Status.CLOSED,
                          close_reason=reason, human_validated_by=world.owner,
                          human_validated_at=timezone.now())
    snapshot = case_snapshot(case, release_date=timezone.now())
    assert [v.title for v in snapshot.vulnerabilities] == [
        "Heap overflow in fastparse's header parser"]

    with django_capture_on_commit_callbacks(execute=True):
        advisory = advisory_publish(advisory=advisory_generate(case=case, by=world.admin),
                                    by=world.admin)
    assert advisory.status == Advisory.Status.PUBLISHED
    assert "Imagined overflow" not in json.dumps(advisory.csaf)
