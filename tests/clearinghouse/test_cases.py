"""Opening cases, suggesting and confirming vendors, the thread and case-state timestamps."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from accounts.models import Organisation
from audit.models import AuditEvent
from clearinghouse import cases
from clearinghouse.models import Case, Participant, ProductStatement
from notifications.models import Notification
from review_portal.errors import ApplicationError
from tests.clearinghouse.conftest import make_report, vet
from tests.factories import OrganisationFactory, UserFactory


def test_a_coordinator_opens_a_case_with_its_vulnerability_participants_and_suggested_vendor(cw):
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    assert case.reference.startswith(f"CH-{case.year}-") and case.reference.endswith("0001")
    vulnerability = case.vulnerabilities.get()
    assert (vulnerability.cwe, vulnerability.cvss_score) == ("CWE-787", cw.report.cvss_score)
    roles = {(p.organisation.name, p.role, p.confirmed) for p in case.participants.all()}
    assert roles == {("Acme AI", "finder", True), ("Acme AI", "reporter", True),
                     ("Program Office", "coordinator", True), ("Vendor A", "vendor", False)}
    cw.report.refresh_from_db()
    assert (cw.report.case, cw.report.vulnerability) == (case, vulnerability)
    assert AuditEvent.objects.filter(action="case.opened", object_id=str(case.pk)).exists()
    assert not ProductStatement.objects.exists()  # nothing before the vendor is confirmed


def test_cases_are_numbered_per_year_one_after_the_other(cw):
    first = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    second = cases.case_open(actor=cw.coordinator,
                             reports=[make_report(cw.w.acme, cw.finder, title="Second")])
    assert second.number == first.number + 1
    assert second.reference == f"CH-{second.year}-{second.number:04d}"


@pytest.mark.django_db(transaction=True)
def test_two_coordinators_opening_cases_at_once_get_two_numbers():
    from tests.clearinghouse.conftest import build_cw
    from tests.conftest import build_world

    cw = build_cw(build_world())
    other = make_report(cw.w.acme, cw.finder, title="Other")
    barrier, errors = threading.Barrier(2), []

    def open_one(report):
        try:
            barrier.wait()
            cases.case_open(actor=cw.coordinator, reports=[report])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_one, args=(r,)) for r in (cw.report, other)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(Case.objects.values_list("number", flat=True)) == [1, 2]


def test_only_a_coordinator_opens_a_case_and_only_from_valid_or_accepted_reports(cw):
    with pytest.raises(PermissionDenied):
        cases.case_open(actor=cw.vendor, reports=[cw.report])
    received = make_report(cw.w.acme, cw.finder, status="received")
    with pytest.raises(ApplicationError, match="valid or accepted"):
        cases.case_open(actor=cw.coordinator, reports=[received])
    assert not Case.objects.exists()


def test_an_ai_found_report_without_a_validator_reaches_no_vendor(cw):
    unvalidated = make_report(cw.w.acme, cw.finder, ai_found=True)
    case = cases.case_open(actor=cw.coordinator, reports=[unvalidated])
    assert not case.participants.filter(role="vendor").exists()  # none suggested
    with pytest.raises(ApplicationError, match="may reach vendors"):
        cases.vendor_add(case=case, organisation=cw.vendor_org, actor=cw.coordinator)
    assert not ProductStatement.objects.exists()
    assert not Participant.objects.filter(role="vendor", confirmed=True).exists()


def test_confirming_a_vendor_notifies_it_and_opens_its_statements_under_investigation(
        cw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cw = __import__("tests.clearinghouse.conftest", fromlist=["open_case"]).open_case(cw)
    cw.participant.refresh_from_db()
    assert cw.participant.confirmed and cw.participant.notified_at is not None
    assert cw.case.vendor_aware_at == cw.participant.notified_at
    statement = ProductStatement.objects.get()
    assert (statement.vendor, statement.status, statement.product_name) == (
        cw.vendor_org, "under_investigation", "libfoo")
    assert AuditEvent.objects.filter(action="case_vendor.confirmed").count() == 1
    to_vendor = [m for m in mailoutbox if "vendor@example.org" in m.to]
    assert to_vendor and f"Case {cw.case.reference}" in to_vendor[0].subject
    # No vulnerability detail in the email: no title, product, CWE or score.
    for text in (to_vendor[0].subject, to_vendor[0].body):
        for secret in ("libfoo", "Heap overflow", "CWE-787", "9.8"):
            assert secret not in text


def test_a_vendor_added_by_hand_is_confirmed_at_once(case_world):
    cw = case_world
    participant = cases.vendor_add(case=cw.case, organisation=cw.other_vendor_org,
                                   actor=cw.coordinator)
    assert participant.confirmed and participant.notified_at
    assert ProductStatement.objects.filter(vendor=cw.other_vendor_org).count() == 1
    with pytest.raises(ApplicationError, match="vendor organisation"):
        cases.vendor_add(case=cw.case, organisation=cw.w.acme, actor=cw.coordinator)


def test_a_participant_posts_in_the_thread_and_the_others_are_told(case_world):
    cw = case_world
    message = cases.message_post(case=cw.case, actor=cw.vendor, body="Looking into it.")
    told = set(Notification.objects.filter(kind="case_message").values_list(
        "user__username", flat=True))
    assert {"owner", "colleague", "admin", "vendor2"} <= told and "vendor" not in told
    assert AuditEvent.objects.filter(action="case.message_posted",
                                     object_id=str(message.pk)).exists()
    with pytest.raises(PermissionDenied):
        cases.message_post(case=cw.case, actor=cw.other_vendor, body="Hi")


def test_case_states_are_set_once_and_never_cleared(case_world):
    cw = case_world
    cases.case_state_set(case=cw.case, actor=cw.coordinator, field="fix_deployed_at")
    with pytest.raises(ApplicationError, match="set already"):
        cases.case_state_set(case=cw.case, actor=cw.coordinator, field="fix_deployed_at")
    with pytest.raises(PermissionDenied):
        cases.case_state_set(case=cw.case, actor=cw.vendor, field="public_at")
    with pytest.raises(ApplicationError, match="time zone"):
        from datetime import datetime
        cases.case_state_set(case=cw.case, actor=cw.coordinator, field="public_at",
                             at=datetime(2026, 1, 1, 12, 0))
    cw.case.refresh_from_db()
    assert cw.case.fix_deployed_at is not None and cw.case.public_at is None


def test_a_public_exploit_makes_the_vulnerability_public_too(case_world):
    cw = case_world
    cases.case_state_set(case=cw.case, actor=cw.coordinator, field="exploit_public_at")
    cw.case.refresh_from_db()
    assert cw.case.public_at == cw.case.exploit_public_at is not None


def test_a_vendor_added_by_hand_gets_one_placeholder_statement_not_the_other_vendors_products(
        case_world):
    cw = case_world
    org = OrganisationFactory(name="Vendor C", kind=Organisation.Kind.VENDOR)
    vet(cw.coordinator, UserFactory(username="vendorc", organisation=org))
    cases.vendor_add(case=cw.case, organisation=org, actor=cw.coordinator)
    statements = list(ProductStatement.objects.filter(vendor=org).values_list(
        "product_name", "purl", "cpe", "status"))
    assert statements == [("Vendor C products (to be specified)", "", "", "under_investigation")]
    assert ProductStatement.objects.filter(vendor=cw.vendor_org).count() == 1
