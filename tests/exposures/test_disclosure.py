"""Targeted pre-disclosure (exposures/disclosure.py): who is told, when, and how often."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from clearinghouse import embargo as embargo_services
from clearinghouse.models import Case, Embargo, MemberProfile
from exposures import access, disclosure, services
from exposures.models import Exposure, VulnerabilityAssessment
from notifications.models import Notification
from tests.exposures.disc_world import accept_terms, add_fix, build_dw, open_window

K = Notification.Kind
EXPOSURE_KINDS = [K.EXPOSURE_URGENT, K.EXPOSURES_DIGEST]


@pytest.fixture
def dw(world):
    return build_dw(world)


def released(exposure) -> bool:
    exposure.refresh_from_db()
    return exposure.released_at is not None


def sweep():
    return disclosure.disclosure_sweep()


def test_both_forms_of_the_rule_agree(dw):
    def agree():
        now = timezone.now()
        for exposure in Exposure.objects.all():
            due = Exposure.objects.filter(disclosure.due_q(now), pk=exposure.pk).exists()
            assert (disclosure.release_due(exposure, now) is not None) == due

    agree()
    add_fix(dw)
    agree()
    accept_terms(dw.org_a, dw.operator)
    agree()
    open_window(dw)
    agree()
    assert disclosure.release_due(dw.exposure_a) == disclosure.PRE_DISCLOSURE


def test_an_operator_running_an_affected_version_is_told_only_once_a_fix_exists_and_the_window_opened(dw):  # noqa: E501
    accept_terms(dw.org_a, dw.operator)
    sweep()
    assert not released(dw.exposure_a)  # no fix, window closed

    open_window(dw)
    sweep()
    assert not released(dw.exposure_a)  # window open, still no fix
    assert not access.exposures_visible_to(dw.operator).exists()

    add_fix(dw)
    sweep()
    assert released(dw.exposure_a)
    assert dw.exposure_a.released_before_publication
    assert list(access.exposures_visible_to(dw.operator)) == [dw.exposure_a]
    urgent = Notification.objects.filter(kind=K.EXPOSURE_URGENT)
    assert sorted(urgent.values_list("user__username", flat=True)) == ["operator", "operator2"]
    event = AuditEvent.objects.get(action="exposure.released")
    assert event.data["before_publication"] is True and event.data["exposures"] == 1


def test_a_fix_before_the_window_opens_tells_no_one(dw):
    accept_terms(dw.org_a, dw.operator)
    add_fix(dw)
    sweep()
    assert not released(dw.exposure_a)
    assert not Notification.objects.filter(kind__in=[K.EXPOSURE_URGENT,
                                                     K.EXPOSURES_DIGEST]).exists()


def test_a_remediation_that_is_not_a_fix_workaround_or_mitigation_does_not_release(dw):
    accept_terms(dw.org_a, dw.operator)
    open_window(dw)
    add_fix(dw, category="none_available")
    sweep()
    assert not released(dw.exposure_a)
    add_fix(dw, category="mitigation")
    sweep()
    assert released(dw.exposure_a)


def test_an_operator_that_has_not_accepted_the_terms_hears_only_at_publication(dw):
    add_fix(dw)
    open_window(dw)
    sweep()
    assert not released(dw.exposure_b)
    Case.objects.filter(pk=dw.case.pk).update(status=Case.Status.PUBLISHED,
                                              public_at=timezone.now())
    sweep()
    assert released(dw.exposure_b)
    assert not dw.exposure_b.released_before_publication


def test_an_operator_whose_version_is_outside_the_range_is_told_nothing(dw):
    for user in (dw.operator, dw.operator_b, dw.operator_c):
        accept_terms(None, user)
    add_fix(dw)
    open_window(dw)
    sweep()
    assert released(dw.exposure_a) and released(dw.exposure_b)
    assert not Exposure.objects.filter(organisation=dw.org_c).exists()
    assert not Notification.objects.filter(user=dw.operator_c, kind__in=EXPOSURE_KINDS).exists()
    assert not access.exposures_visible_to(dw.operator_c).exists()


def test_a_suspended_operator_is_not_told(dw):
    accept_terms(dw.org_a, dw.operator)
    add_fix(dw)
    open_window(dw)
    MemberProfile.objects.filter(organisation=dw.org_a).update(
        status=MemberProfile.Status.SUSPENDED)
    sweep()
    assert not released(dw.exposure_a)


def test_an_embargo_that_exited_without_publication_releases_nothing_before_publication(dw):
    accept_terms(dw.org_a, dw.operator)
    add_fix(dw)
    embargo_services.embargo_exit(embargo=dw.case.embargo, actor=dw.coordinator,
                                  reason="The vendor asked.")
    sweep()
    assert not released(dw.exposure_a)


def test_publication_releases_every_matching_exposure_through_the_outbox(
        dw, django_capture_on_commit_callbacks):
    add_fix(dw)
    Embargo.objects.filter(case=dw.case).update(status=Embargo.Status.EXITED)
    Case.objects.filter(pk=dw.case.pk).update(public_at=timezone.now())
    dw.case.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        from django.db import transaction

        with transaction.atomic():
            disclosure.case_published_later(dw.case)
    assert released(dw.exposure_a) and released(dw.exposure_b)
    assert not dw.exposure_a.released_before_publication


def test_accepting_the_terms_releases_what_waited_only_for_them(dw):
    add_fix(dw)
    open_window(dw)
    sweep()
    assert not released(dw.exposure_a)
    accept_terms(dw.org_a, dw.operator)
    assert released(dw.exposure_a)
    assert AuditEvent.objects.filter(action="exposure.terms_accepted").count() == 1
    accept_terms(dw.org_a, dw.operator_a2)  # once per organisation and version
    assert AuditEvent.objects.filter(action="exposure.terms_accepted").count() == 1


def _released_urgent(dw):
    accept_terms(dw.org_a, dw.operator)
    add_fix(dw)
    open_window(dw)
    sweep()
    assert released(dw.exposure_a)
    return Notification.objects.filter(kind=K.EXPOSURE_URGENT, user=dw.operator)


def test_a_change_of_exploitation_re_notifies_exactly_once(dw):
    urgent = _released_urgent(dw)
    assert urgent.count() == 1
    assessment = VulnerabilityAssessment.objects.create(vulnerability=dw.statement.vulnerability,
                                                        exploitation="active", version=2)
    # What matching does after the assessment changed: the new priority and its version.
    Exposure.objects.filter(pk=dw.exposure_a.pk).update(assessment_version=assessment.version)
    disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="assessment_changed")
    disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="assessment_changed")
    sweep()
    assert urgent.count() == 2
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.notified_version == 2


def test_calling_exposures_changed_without_a_change_tells_nothing_new(dw):
    urgent = _released_urgent(dw)
    for _ in range(3):
        disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="rematch")
    assert urgent.count() == 1


def test_the_urgent_email_names_only_the_case_and_the_priority(dw, django_capture_on_commit_callbacks):  # noqa: E501
    with django_capture_on_commit_callbacks(execute=True):
        _released_urgent(dw)
    bodies = [m.subject + m.body for m in mail.outbox if dw.operator.email in m.to]
    assert bodies
    for text in bodies:
        assert dw.case.reference in text
        for secret in ("libfoo", "1.2.0", "CWE-787", "9.8", "Heap overflow", "Upgrade"):
            assert secret not in text


def test_the_daily_digest_is_one_notification_per_member_per_case(dw):
    for user in (dw.operator, dw.operator_b):
        accept_terms(None, user)
    add_fix(dw)
    open_window(dw)
    sweep()
    # Operator B's exposure is scheduled: not told at once.
    assert not Notification.objects.filter(user=dw.operator_b, kind__in=EXPOSURE_KINDS).exists()
    dw.exposure_b.refresh_from_db()
    second = Exposure.objects.create(**{
        **{f.attname: getattr(dw.exposure_b, f.attname) for f in Exposure._meta.concrete_fields
           if f.attname not in ("id", "asset_id")},
        "asset": type(dw.asset_b).objects.create(
            inventory=dw.asset_b.inventory, organisation=dw.org_b, identity="other",
            details_encrypted=dw.asset_b.details_encrypted, exposure="small",
            mission_impact="degraded", safety_impact="negligible"),
        "priority": "defer", "notified_version": 0})
    assert second.released_at is not None
    disclosure.digests_build()
    disclosure.digests_build()
    digests = Notification.objects.filter(kind=K.EXPOSURES_DIGEST)
    assert list(digests.values_list("user__username", flat=True)) == ["operatorb"]
    digest = digests.get()
    assert digest.occasion == f"exposures-digest-{timezone.localdate().isoformat()}"
    assert "1 scheduled, 1 defer" in digest.body
    assert "libfoo" not in digest.title + digest.body
    # Tomorrow, nothing new: no digest.
    disclosure.digests_build(now=timezone.now() + timedelta(days=1))
    assert digests.count() == 1


def test_a_change_after_todays_digest_goes_into_tomorrows(dw):
    accept_terms(None, dw.operator_b)
    add_fix(dw)
    open_window(dw)
    sweep()
    disclosure.digests_build()
    Exposure.objects.filter(pk=dw.exposure_b.pk).update(assessment_version=2)
    disclosure.digests_build()
    digests = Notification.objects.filter(kind=K.EXPOSURES_DIGEST, user=dw.operator_b)
    assert digests.count() == 1
    disclosure.digests_build(now=timezone.now() + timedelta(days=1))
    assert digests.count() == 2


def test_a_vendor_product_match_is_released_to_confirm_and_only_digested(dw):
    accept_terms(dw.org_a, dw.operator)
    Exposure.objects.filter(pk=dw.exposure_a.pk).update(
        method=Exposure.Method.PRODUCT, confidence=Exposure.Confidence.LOW, confirmed=False)
    add_fix(dw)
    open_window(dw)
    sweep()
    assert released(dw.exposure_a)
    assert not Notification.objects.filter(kind=K.EXPOSURE_URGENT).exists()
    disclosure.digests_build()
    digest = Notification.objects.get(kind=K.EXPOSURES_DIGEST, user=dw.operator)
    assert "1 to confirm" in digest.body
    services.exposure_confirm(exposure=dw.exposure_a, actor=dw.operator)
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.confirmed


def test_a_settled_exposure_reopens_when_its_priority_rises_or_a_new_fix_arrives(dw):
    accept_terms(dw.org_a, dw.operator)
    Exposure.objects.filter(pk=dw.exposure_a.pk).update(priority="scheduled")
    add_fix(dw)
    open_window(dw)
    sweep()
    services.exposure_status_set(exposure=dw.exposure_a, actor=dw.operator,
                                 status="risk_accepted", reason="Isolated network.")
    disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="rematch")
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "risk_accepted"  # nothing changed

    Exposure.objects.filter(pk=dw.exposure_a.pk).update(priority="immediate",
                                                        assessment_version=2)
    disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="assessment_changed")
    disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="assessment_changed")
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new" and dw.exposure_a.reopened_at is not None
    assert AuditEvent.objects.filter(action="exposure.reopened").count() == 1
    assert Notification.objects.filter(kind=K.EXPOSURE_URGENT, user=dw.operator).count() == 1

    services.exposure_status_set(exposure=dw.exposure_a, actor=dw.operator, status="patched")
    add_fix(dw, category="workaround")
    disclosure.exposures_changed(exposure_ids=[dw.exposure_a.pk], cause="remediation_added")
    dw.exposure_a.refresh_from_db()
    assert dw.exposure_a.status == "new"
    assert AuditEvent.objects.filter(action="exposure.reopened").count() == 2
    # Told again after the reopening: a new occasion.
    assert Notification.objects.filter(kind=K.EXPOSURE_URGENT, user=dw.operator).count() == 2
