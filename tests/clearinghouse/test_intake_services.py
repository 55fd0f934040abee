"""The intake's rules, at the service (pages and API: test_reports_pages.py, test_reports_api.py).
"""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from clearinghouse import access, intake, intake_selectors
from clearinghouse.models import (
    DuplicateCandidate,
    ProductClaim,
    ProductStatement,
    Report,
    Vulnerability,
)
from notifications.models import Notification
from review_portal.errors import ApplicationError
from tests.clearinghouse.conftest import (
    CVSS40,
    file_report,
    reproduce,
    vendor_case,
)

pytestmark = pytest.mark.django_db(transaction=False)


def actions(report):
    return list(AuditEvent.objects.filter(object_type="clearinghouse.report",
                                          object_id=str(report.pk))
                .order_by("id").values_list("action", flat=True))


def test_a_complete_report_is_filed_scored_keyed_and_audited(iw):
    report = file_report(iw.finder)
    assert report.status == "received" and not report.needs_more_info
    assert (report.cvss_version, float(report.cvss_score), report.cvss_severity) == \
        ("3.1", 9.8, "Critical")
    claim = report.products.get()
    assert (claim.purl, claim.purl_key, claim.product_name) == \
        ("pkg:pypi/libfoo@1.2.0", "pkg:pypi/libfoo", "libfoo")
    assert report.ai_found, "a report from an AI developer organisation counts as AI-found"
    assert actions(report) == ["report.filed"]


def test_a_cvss_4_vector_is_scored_and_a_cpe_is_keyed_by_vendor_and_product(iw):
    report = file_report(iw.reviewer, cvss_vector=CVSS40, products=[
        {"cpe": "cpe:2.3:a:OpenSSL:openssl:3.0.1:*:*:*:*:*:*:*"}])
    assert (report.cvss_version, float(report.cvss_score)) == ("4.0", 9.3)
    claim = report.products.get()
    assert (claim.cpe_key, claim.vendor_name, claim.product_name) == \
        ("openssl:openssl", "OpenSSL", "openssl")
    assert not report.ai_found, "an agency's own report names no model"


@pytest.mark.parametrize(("field", "value"), [
    ("cvss_vector", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"),
    ("cvss_vector", "CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    ("cvss_vector", "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P"),
    ("cvss_vector", "CVSS:4.0/AV:N/AC:L"),
    ("cwe", "787x"),
])
def test_an_invalid_cvss_vector_or_cwe_is_refused_and_nothing_is_written(iw, field, value):
    with pytest.raises(ApplicationError) as refused:
        file_report(iw.finder, **{field: value})
    assert refused.value.field == field
    assert not Report.objects.exists() and not ProductClaim.objects.exists()
    assert not AuditEvent.objects.filter(action="report.filed").exists()


@pytest.mark.parametrize("product", [
    {"purl": "not a purl"}, {"cpe": "cpe:2.3:a:openssl"},
    {"purl": "pkg:pypi/libfoo", "version_range": "pypi/<1.4"},
    {"purl": "pkg:pypi/libfoo", "version_range": "vers:pypi/<1.4||>2"},
    {"product_name": "only a product"},
])
def test_a_bad_product_identifier_or_vers_range_is_refused(iw, product):
    with pytest.raises(ApplicationError) as refused:
        file_report(iw.finder, products=[product])
    assert refused.value.field == "products" and "Product 1" in refused.value.message
    assert not Report.objects.exists()


def test_a_report_without_a_threat_model_is_filed_but_never_becomes_valid(iw):
    report = file_report(iw.finder, attacker="", trigger="  ")
    assert report.status == "received" and report.needs_more_info
    reproduce(iw, report)
    with pytest.raises(ApplicationError) as refused:
        intake.report_transition(report=report, actor=iw.coordinator, action="validate",
                                 override_reason="I am sure.")
    assert refused.value.code == "needs_threat_model"
    report.refresh_from_db()
    assert report.status == "received"
    assert "report.validate" not in actions(report)


def test_a_report_without_a_product_never_becomes_valid(iw):
    report = file_report(iw.finder, products=[])
    assert report.needs_more_info
    with pytest.raises(ApplicationError) as refused:
        intake.report_transition(report=report, actor=iw.coordinator, action="validate",
                                 override_reason="I am sure.")
    assert refused.value.code == "needs_product"


def test_valid_needs_a_reproduction_a_vendor_confirmation_or_a_written_override(iw):
    report = file_report(iw.finder)
    with pytest.raises(ApplicationError) as refused:
        intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    assert refused.value.code == "needs_verification"
    reproduce(iw, report, result="not_reproduced", successes=0)
    with pytest.raises(ApplicationError):
        intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    reproduce(iw, report, method="vendor_confirmed", actor=iw.coordinator)
    report = intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    assert (report.status, report.valid_basis) == ("valid", "vendor_confirmation")

    other = file_report(iw.outsider, title="Another flaw entirely", cwe="CWE-79")
    other = intake.report_transition(report=other, actor=iw.coordinator, action="validate",
                                     override_reason="The vendor's advisory describes it.")
    assert (other.valid_basis, other.status_reason) == \
        ("coordinator_override", "The vendor's advisory describes it.")
    event = AuditEvent.objects.get(action="report.validate", object_id=str(other.pk))
    assert event.data == {"from": "received", "to": "valid", "basis": "coordinator_override"}


def test_only_the_coordinator_triages(iw):
    report = file_report(iw.finder)
    reproduce(iw, report)
    for user in (iw.finder, iw.reviewer, iw.vendor, iw.operator):
        with pytest.raises(PermissionDenied):
            intake.report_transition(report=report, actor=user, action="validate")
    assert Report.objects.get(pk=report.pk).status == "received"


def test_every_transition_is_audited_and_tells_the_reporter_without_detail(
        iw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = file_report(iw.finder)
        reproduce(iw, report)
        for action in ("validate", "accept", "defer", "accept"):
            intake.report_transition(report=report, actor=iw.coordinator, action=action)
        intake.report_transition(report=report, actor=iw.coordinator, action="close",
                                 close_reason="coordinated", reason="Advisory published.")
    assert actions(report) == ["report.filed", "report.validate", "report.accept",
                               "report.defer", "report.accept", "report.close"]
    titles = set(Notification.objects.filter(user=iw.finder, kind="report_status")
                 .values_list("title", flat=True))
    assert f"Report #{report.pk}: found valid" in titles
    assert f"Report #{report.pk}: closed" in titles
    assert len(titles) >= 6
    recipients = {a for m in mailoutbox for a in m.to}
    assert {"owner@example.org", "colleague@example.org", "admin@example.org"} <= recipients
    assert "outsider@example.org" not in recipients
    for message in mailoutbox:
        text = message.subject + message.body
        assert "libfoo" not in text and "Heap overflow" not in text and "CWE" not in text


def test_a_closed_report_says_why_and_a_duplicate_names_its_original(iw):
    first = file_report(iw.finder)
    second = file_report(iw.outsider)
    with pytest.raises(ApplicationError) as refused:
        intake.report_transition(report=second, actor=iw.coordinator, action="close",
                                 close_reason="duplicate")
    assert refused.value.field == "duplicate_of"
    with pytest.raises(ApplicationError) as refused:
        intake.report_transition(report=second, actor=iw.coordinator, action="close",
                                 close_reason="fabricated")
    assert refused.value.field == "reason"
    second = intake.report_transition(report=second, actor=iw.coordinator, action="close",
                                      close_reason="duplicate", duplicate_of=first)
    assert (second.status, second.close_reason, second.duplicate_of) == \
        ("closed", "duplicate", first)


def test_the_reporter_may_withdraw_its_own_report_and_nobody_elses(iw):
    report = file_report(iw.finder)
    with pytest.raises(PermissionDenied):
        intake.report_transition(report=report, actor=iw.outsider, action="withdraw")
    report = intake.report_transition(report=report, actor=iw.colleague, action="withdraw")
    assert (report.status, report.close_reason) == ("closed", "withdrawn")
    assert actions(report)[-1] == "report.withdraw"


def test_an_ai_found_report_without_a_human_validator_never_reaches_a_vendor(iw):
    report = file_report(iw.finder)
    vendor_case(iw, report)
    reproduce(iw, report)
    report = intake.report_transition(report=report, actor=iw.coordinator, action="validate")
    report = intake.report_transition(report=report, actor=iw.coordinator, action="accept")
    assert report.ai_found and not access.report_reaches_vendors(report)
    assert not access.reports_visible_to(iw.vendor).filter(pk=report.pk).exists()

    with pytest.raises(PermissionDenied):
        intake.report_human_validate(report=report, actor=iw.vendor)
    report = intake.report_human_validate(report=report, actor=iw.colleague)
    assert report.human_validated_by == iw.colleague and report.human_validated_at
    assert access.report_reaches_vendors(report)
    assert access.reports_visible_to(iw.vendor).filter(pk=report.pk).exists()
    assert not access.reports_visible_to(iw.other_vendor).filter(pk=report.pk).exists()
    assert AuditEvent.objects.filter(action="report.human_validated",
                                     actor=iw.colleague).count() == 1
    with pytest.raises(ApplicationError):
        intake.report_human_validate(report=report, actor=iw.finder)


def test_a_duplicate_is_caught_at_intake_and_the_earlier_report_is_the_original(iw):
    original = file_report(iw.finder)
    unrelated = file_report(iw.outsider, title="Cross-site scripting in the admin",
                            description="The admin page echoes a query parameter.",
                            cwe="CWE-79")
    later = file_report(iw.outsider, title="libfoo header parser heap overflow",
                        description="Sending a crafted, overlong Content-Range header to a "
                                    "server using libfoo.parse_header overflows a heap buffer: "
                                    "remote code execution.",
                        products=[{"purl": "pkg:pypi/libfoo@1.3.0"}])
    candidate = later.duplicate_candidates.get()
    assert (candidate.candidate, candidate.kind) == (original, "duplicate")
    assert candidate.score >= intake.DUPLICATE_SIMILARITY_THRESHOLD
    assert not original.duplicate_candidates.exists()
    assert not unrelated.duplicate_candidates.exists()
    assert later.status == "received", "nothing is closed automatically"
    event = AuditEvent.objects.get(action="report.filed", object_id=str(later.pk))
    assert event.data["candidates"] == [original.pk]


def test_the_same_product_and_cwe_with_a_different_story_is_no_candidate(iw):
    file_report(iw.finder)
    later = file_report(iw.outsider, title="Timing side channel in token comparison",
                        description="Tokens are compared with == so an attacker measures "
                                    "response times to guess them byte by byte.")
    assert not later.duplicate_candidates.exists()


def test_a_match_against_a_fixed_vulnerability_is_flagged_as_a_regression(iw):
    original = file_report(iw.finder)
    case = vendor_case(iw, original)
    vulnerability = Vulnerability.objects.create(
        case=case, title="v", description="d", cwe="CWE-787", cvss_vector=original.cvss_vector,
        cvss_version="3.1", cvss_score=original.cvss_score, cvss_severity="Critical")
    ProductStatement.objects.create(vulnerability=vulnerability, vendor=iw.vendor_org,
                                    product_name="libfoo", status="fixed")
    later = file_report(iw.outsider, products=[{"purl": "pkg:pypi/libfoo@1.5.0"}])
    candidate = later.duplicate_candidates.get()
    assert (candidate.candidate, candidate.kind) == (original, DuplicateCandidate.Kind.REGRESSION)


def test_a_verification_needs_a_verifier_and_consistent_counts(iw):
    report = file_report(iw.finder)
    for user in (iw.finder, iw.vendor, iw.operator):
        with pytest.raises(PermissionDenied):
            reproduce(iw, report, actor=user)
    with pytest.raises(ApplicationError) as refused:
        reproduce(iw, report, runs=3, successes=4)
    assert refused.value.field == "successes"
    with pytest.raises(ApplicationError):
        reproduce(iw, report, successes=0)
    verification = reproduce(iw, report, runs=10, successes=7)
    assert (verification.runs, verification.successes, verification.verified_by) == \
        (10, 7, iw.reviewer)
    assert AuditEvent.objects.filter(action="verification.recorded").count() == 1


def test_a_reporters_yield_is_the_share_of_its_decided_reports_found_valid(iw):
    reports = [file_report(iw.finder, title=f"Flaw number {n}", cwe=f"CWE-{100 + n}")
               for n in range(4)]
    reproduce(iw, reports[0])
    intake.report_transition(report=reports[0], actor=iw.coordinator, action="validate")
    intake.report_transition(report=reports[1], actor=iw.coordinator, action="invalidate",
                             reason="Not reproducible.")
    intake.report_transition(report=reports[2], actor=iw.finder, action="withdraw")
    result = intake_selectors.yield_of(iw.w.acme.pk)
    assert (result.filed, result.decided, result.found_valid, result.percent) == (4, 2, 1, 50)
    rows = {o.name: (o.filed, o.decided, o.found_valid)
            for o in intake_selectors.reporter_organisations_with_yield(iw.coordinator)}
    assert rows == {"Acme AI": (4, 2, 1)}
    assert list(intake_selectors.reporter_organisations_with_yield(iw.outsider)) == []
    assert list(intake_selectors.reporter_organisations_with_yield(iw.partner)) == []

