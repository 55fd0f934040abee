"""Each partner notification is created and emailed once, whatever runs twice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import partner_events
from notifications.models import GrantUsage, Notification
from notifications.tasks import partner_reminders_task, send_notification_task
from partners import services
from partners.models import AccessGrant
from partners.tasks import grants_sweep_ended_task
from tests.partners.conftest import approve_both, end_grant, make_live_grant, request_access

K = Notification.Kind


def rows(kind):
    return Notification.objects.filter(kind=kind)


def users_of(kind):
    return sorted(rows(kind).values_list("user__username", flat=True))


def emails_to(mailoutbox, needle):
    return sorted(a for m in mailoutbox if needle in m.subject for a in m.to)


def test_a_new_request_tells_the_partner_it_is_received_and_the_approvers_to_act(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        access_request = request_access(pw)
    assert users_of(K.REQUEST_RECEIVED) == ["partner"]
    assert users_of(K.APPROVAL_NEEDED) == ["admin", "colleague", "owner"]
    assert emails_to(mailoutbox, "received") == ["partner@example.org"]
    assert emails_to(mailoutbox, "approval needed") == [
        "admin@example.org", "colleague@example.org", "owner@example.org"]
    assert rows(K.APPROVAL_NEEDED).first().link == f"/partners/requests/{access_request.pk}/"
    assert not rows(K.APPROVAL_NEEDED).filter(emailed_at__isnull=True).exists()


def test_notifying_and_sending_twice_creates_and_emails_once(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        access_request = request_access(pw)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        partner_events.request_received(access_request)
    about_request = Notification.objects.filter(object_type="partners.accessrequest")
    for notification in about_request:
        assert send_notification_task.delay(notification.pk).get() is False
    assert about_request.count() == 4
    assert mailoutbox == []


def test_a_send_task_run_twice_sends_one_email(pw, mailoutbox):
    request_access(pw)  # on_commit not run: nothing sent yet
    notification = rows(K.REQUEST_RECEIVED).get()
    assert send_notification_task.delay(notification.pk).get() is True
    assert send_notification_task.delay(notification.pk).get() is False
    assert [m.to for m in mailoutbox] == [["partner@example.org"]]


def test_approved_and_denied_reach_the_partner_once_and_again_after_reconsideration(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    access_request = request_access(pw)
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_deny(access_request=access_request, actor=pw.w.owner,
                                     reason="secret denial reason")
    assert users_of(K.DENIED) == ["partner"]
    with django_capture_on_commit_callbacks(execute=True):
        services.access_request_reconsider(access_request=access_request, actor=pw.w.partner,
                                           reason="secret reconsideration reason")
        partner_events.reconsideration_requested(access_request)  # twice: still once
    assert rows(K.APPROVAL_NEEDED).filter(occasion="reconsidered").count() == 3
    with django_capture_on_commit_callbacks(execute=True):
        approve_both(pw, access_request)
        access_request.refresh_from_db()
        partner_events.request_approved(access_request)
    assert users_of(K.APPROVED) == ["colleague", "owner", "partner"]
    assert emails_to(mailoutbox, "approved by both sides") == [
        "colleague@example.org", "owner@example.org", "partner@example.org"]
    assert len(emails_to(mailoutbox, "denied")) == 1


def test_a_grant_tells_granted_then_revoked_once_each(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        grant = make_live_grant(pw)
    assert users_of(K.ACCESS_GRANTED) == ["colleague", "owner", "partner"]
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_revoke(grant=grant, actor=pw.w.admin, reason="secret revoke reason")
        partner_events.grant_event(grant, "revoked")
    assert users_of(K.ACCESS_REVOKED) == ["colleague", "owner", "partner"]
    assert len(emails_to(mailoutbox, "revoked")) == 3


def test_partner_status_changes_are_told_to_admins_and_members(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                    reason="secret incident")
    suspended = rows(K.PARTNER_STATUS).filter(occasion__startswith="suspended")
    assert sorted(suspended.values_list("user__username", flat=True)) == ["admin", "partner"]
    assert emails_to(mailoutbox, "suspended") == ["admin@example.org", "partner@example.org"]


def test_the_window_start_reminder_is_sent_once_when_the_job_runs_twice(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    grant = make_live_grant(pw)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = partner_reminders_task.delay().get()
        second = partner_reminders_task.delay().get()
    assert first["starts"] == [grant.pk] and second["starts"] == []
    assert users_of(K.WINDOW_STARTS) == ["partner"]
    assert emails_to(mailoutbox, "has started") == ["partner@example.org"]
    assert first["ends_soon"] == [] and first["unused"] == []


def test_the_ends_within_3_days_reminder_is_sent_once(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    grant = make_live_grant(pw)
    AccessGrant.objects.filter(pk=grant.pk).update(ends_at=timezone.now() + timedelta(days=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert partner_reminders_task.delay().get()["ends_soon"] == [grant.pk]
        assert partner_reminders_task.delay().get()["ends_soon"] == []
    assert users_of(K.WINDOW_ENDS_SOON) == ["partner"]
    assert emails_to(mailoutbox, "ends within 3 days") == ["partner@example.org"]


def unused_for_8_days(grant):
    now = timezone.now()
    AccessGrant.objects.filter(pk=grant.pk).update(starts_at=now - timedelta(days=8),
                                                   ends_at=now + timedelta(days=5))


def test_an_unused_grant_7_days_in_is_told_once_to_partner_and_developer(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    grant = make_live_grant(pw)
    unused_for_8_days(grant)
    with django_capture_on_commit_callbacks(execute=True):
        assert partner_reminders_task.delay().get()["unused"] == [grant.pk]
        assert partner_reminders_task.delay().get()["unused"] == []
    assert users_of(K.ACCESS_UNUSED) == ["colleague", "owner", "partner"]
    assert len(emails_to(mailoutbox, "not used")) == 3


def test_a_grant_whose_token_was_introspected_active_is_not_unused(
        pw, django_capture_on_commit_callbacks):
    grant = make_live_grant(pw)
    _, token = services.grant_issue_token(grant=grant, actor=pw.w.partner)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.introspect(token=token, caller=pw.w.owner)["active"] is True
    assert GrantUsage.objects.filter(grant=grant).exists()
    unused_for_8_days(grant)
    assert partner_reminders_task.delay().get()["unused"] == []


def test_a_grant_whose_model_page_was_viewed_is_not_unused(pw):
    from notifications.services import granted_model_viewed

    grant = make_live_grant(pw)
    granted_model_viewed(organisation_id=pw.w.partner.membership.organisation_id,
                         model_id=pw.w.model.pk)
    usage = GrantUsage.objects.get(grant=grant)
    granted_model_viewed(organisation_id=pw.w.partner.membership.organisation_id,
                         model_id=pw.w.model.pk)  # within 5 minutes: unchanged
    assert GrantUsage.objects.get(grant=grant).last_used_at == usage.last_used_at
    unused_for_8_days(grant)
    assert partner_reminders_task.delay().get()["unused"] == []


def test_an_ended_or_revoked_grant_gets_no_reminders(pw):
    end_grant(make_live_grant(pw))
    assert partner_reminders_task.delay().get() == {"starts": [], "ends_soon": [], "unused": []}


def test_window_ended_is_told_once_when_the_sweep_runs_twice(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    grant = end_grant(make_live_grant(pw))
    with django_capture_on_commit_callbacks(execute=True):
        grants_sweep_ended_task.delay().get()
        grants_sweep_ended_task.delay().get()
        partner_events.grant_event(grant, "ended")
    assert users_of(K.WINDOW_ENDED) == ["partner"]
    assert emails_to(mailoutbox, ": ended") == ["partner@example.org"]


@pytest.mark.parametrize("secret", ["We protect patients.", "Use it for defence only.",
                                    "secret denial reason", "secret revoke reason", "frg_"])
def test_no_confidential_content_in_any_email_or_notification(
        pw, mailoutbox, django_capture_on_commit_callbacks, secret):
    with django_capture_on_commit_callbacks(execute=True):
        denied = request_access(pw)
        services.access_request_deny(access_request=denied, actor=pw.w.owner,
                                     reason="secret denial reason")
        grant = make_live_grant(pw, pw.other_partner)
        services.grant_issue_token(grant=grant, actor=pw.other_partner)
        unused_for_8_days(grant)
        partner_reminders_task.delay().get()
        services.grant_revoke(grant=grant, actor=pw.w.owner, reason="secret revoke reason")
    assert len(mailoutbox) >= 10
    for message in mailoutbox:
        html = message.alternatives[0][0]
        assert secret not in message.subject + message.body + html
    for notification in Notification.objects.all():
        assert secret not in notification.title + notification.body
