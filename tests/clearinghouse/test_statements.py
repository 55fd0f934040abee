"""Vendor statements per product, remediations, and silent vendors."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from clearinghouse import cases
from clearinghouse.models import Participant, ProductStatement
from notifications.models import Notification
from review_portal.errors import ApplicationError, TransitionNotAllowed

SHA = "a" * 64


def test_a_vendor_states_known_affected_then_fixed_and_each_change_bumps_the_version(case_world):
    cw = case_world
    s = cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    s = cases.statement_update(statement=s, actor=cw.vendor, status="fixed")
    assert (s.status, s.version) == ("fixed", 3)
    events = AuditEvent.objects.filter(action="statement.updated").order_by("sequence")
    assert [(e.data["from"], e.data["to"]) for e in events] == [
        ("under_investigation", "known_affected"), ("known_affected", "fixed")]
    # The coordinator hears of each version.
    assert Notification.objects.filter(kind="case_update", user=cw.coordinator).count() == 2


def test_not_affected_needs_a_vex_justification_and_disputed_a_reason(case_world):
    cw = case_world
    with pytest.raises(ApplicationError, match="justification"):
        cases.statement_update(statement=cw.statement, actor=cw.vendor,
                               status="known_not_affected")
    with pytest.raises(ApplicationError, match="dispute"):
        cases.statement_update(statement=cw.statement, actor=cw.vendor, status="disputed")
    s = cases.statement_update(statement=cw.statement, actor=cw.vendor,
                               status="known_not_affected",
                               justification="vulnerable_code_not_present")
    assert s.justification == "vulnerable_code_not_present"


def test_moves_outside_the_transition_table_are_refused(case_world):
    cw = case_world
    s = cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    with pytest.raises(TransitionNotAllowed):
        cases.statement_update(statement=s, actor=cw.vendor, status="under_investigation")
    s = cases.statement_update(statement=s, actor=cw.vendor, status="fixed")
    with pytest.raises(ApplicationError, match="reason"):
        cases.statement_update(statement=s, actor=cw.vendor, status="known_affected")


def test_only_the_vendor_changes_its_own_statements(case_world):
    cw = case_world
    for actor in (cw.other_vendor, cw.coordinator, cw.finder, cw.operator, cw.partner):
        with pytest.raises(PermissionDenied):
            cases.statement_update(statement=cw.statement, actor=actor, status="known_affected")
    cw.statement.refresh_from_db()
    assert (cw.statement.status, cw.statement.version) == ("under_investigation", 1)


def test_a_vendor_fix_sets_fix_ready_once_and_the_sha256_is_checked(case_world):
    cw = case_world
    with pytest.raises(ApplicationError, match="64 hexadecimal"):
        cases.remediation_add(statement=cw.statement, actor=cw.vendor, category="vendor_fix",
                              details="Upgrade", artifact_sha256="xyz")
    cases.remediation_add(statement=cw.statement, actor=cw.vendor, category="workaround",
                          details="Disable headers")
    cw.case.refresh_from_db()
    assert cw.case.fix_ready_at is None
    first = cases.remediation_add(statement=cw.statement, actor=cw.vendor, category="vendor_fix",
                                  details="Upgrade to 1.4.2", fixed_range="vers:pypi/>=1.4.2",
                                  url="https://example.org/libfoo-1.4.2.tar.gz",
                                  artifact_sha256=SHA.upper())
    cases.remediation_add(statement=cw.statement, actor=cw.vendor, category="vendor_fix",
                          details="Backport to 1.3.9")
    cw.case.refresh_from_db()
    assert first.artifact_sha256 == SHA
    assert cw.case.fix_ready_at == first.created_at
    assert AuditEvent.objects.filter(action="case.state_set",
                                     data__field="fix_ready_at").count() == 1
    with pytest.raises(PermissionDenied):
        cases.remediation_add(statement=cw.statement, actor=cw.other_vendor,
                              category="mitigation", details="x")


def test_a_silent_vendor_is_reminded_at_7_and_14_days_and_becomes_no_response_at_21(
        case_world, mailoutbox, django_capture_on_commit_callbacks):
    cw = case_world
    notified = Participant.objects.get(pk=cw.participant.pk).notified_at
    with django_capture_on_commit_callbacks(execute=True):
        assert cases.vendors_sweep_silent(now=notified + timedelta(days=6)) == {
            "day_7": [], "day_14": [], "no_response": []}
        day7 = cases.vendors_sweep_silent(now=notified + timedelta(days=7, minutes=1))
        again = cases.vendors_sweep_silent(now=notified + timedelta(days=8))
        day14 = cases.vendors_sweep_silent(now=notified + timedelta(days=14, minutes=1))
        day21 = cases.vendors_sweep_silent(now=notified + timedelta(days=21, minutes=1))
        after = cases.vendors_sweep_silent(now=notified + timedelta(days=30))
    pk = cw.participant.pk
    assert (day7["day_7"], again["day_7"], day14["day_14"], day21["no_response"]) == (
        [pk], [], [pk], [pk])
    assert after == {"day_7": [], "day_14": [], "no_response": []}
    participant = Participant.objects.get(pk=pk)
    assert participant.reminded_7_at and participant.reminded_14_at and participant.no_response_at
    # Silence never reads as "not affected".
    assert list(ProductStatement.objects.values_list("status", flat=True)) == [
        "under_investigation"]
    reminders = [m for m in mailoutbox if "vendor@example.org" in m.to and "awaited" in m.subject]
    assert len(reminders) == 2
    assert AuditEvent.objects.filter(action="case_vendor.reminded").count() == 2
    assert AuditEvent.objects.filter(action="case_vendor.no_response").count() == 1


def test_a_vendor_that_answered_is_not_reminded(case_world):
    cw = case_world
    cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    notified = Participant.objects.get(pk=cw.participant.pk).notified_at
    assert cases.vendors_sweep_silent(now=notified + timedelta(days=22)) == {
        "day_7": [], "day_14": [], "no_response": []}


def test_a_suspended_vendor_can_no_longer_state_or_post(case_world):
    from clearinghouse import members
    from clearinghouse.models import MemberProfile

    cw = case_world
    profile = MemberProfile.objects.get(organisation=cw.vendor_org)
    members.member_transition(profile=profile, actor=cw.coordinator, action="suspend",
                              reason="Lost contact.")
    with pytest.raises(PermissionDenied):
        cases.statement_update(statement=cw.statement, actor=cw.vendor, status="known_affected")
    with pytest.raises(PermissionDenied):
        cases.message_post(case=cw.case, actor=cw.vendor, body="Still here?")
