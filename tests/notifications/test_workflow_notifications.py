"""Request, assignment and window events go through the one notification path: an inbox item
for each recipient, then an immediate email or the daily digest as the recipient chose."""

from datetime import timedelta

from django.utils import timezone

from notifications.models import Notification, NotificationPreference
from notifications.services import preference_set
from notifications.tasks import send_digests_task
from submissions import services
from submissions.window_services import window_schedule, windows_recheck_for_model
from tests.conftest import bring_to

K = Notification.Kind
DIGEST = NotificationPreference.Delivery.DIGEST


def _to(mailoutbox, user) -> list:
    return [m for m in mailoutbox if user.email in m.to]


def _digest(mailoutbox, user):
    mailoutbox.clear()
    assert user.pk in send_digests_task.delay().get()
    [digest] = _to(mailoutbox, user)
    return digest


def test_a_request_move_is_an_inbox_item_and_one_email_for_immediate_users(
        world, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.request_submit(review_request=world.request, actor=world.owner)
    [item] = Notification.objects.filter(user=world.admin, kind=K.REQUEST_STATUS)
    assert item.object_id == world.request.pk and item.link == f"/requests/{world.request.pk}/"
    assert item.emailed_at is not None
    [email] = _to(mailoutbox, world.admin)
    assert f"Request #{world.request.pk}" in email.subject and "submitted" in email.subject


def test_a_digest_user_gets_no_immediate_request_email_but_the_item_and_the_digest(
        world, mailoutbox, django_capture_on_commit_callbacks):
    bring_to(world, "in_review")
    preference_set(user=world.owner, delivery=DIGEST)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_ask_information(review_request=world.request, actor=world.reviewer,
                                         question="SECRET-QUESTION: which scaffolds?")
    assert _to(mailoutbox, world.owner) == []
    assert len(_to(mailoutbox, world.colleague)) == 1  # an immediate colleague, once
    item = Notification.objects.filter(user=world.owner, kind=K.REQUEST_STATUS).latest("id")
    assert "information requested" in item.title.lower() and item.emailed_at is None
    digest = _digest(mailoutbox, world.owner)
    assert item.title in digest.body
    assert "SECRET-QUESTION" not in digest.body  # a message's text stays behind the login
    assert Notification.objects.get(pk=item.pk).emailed_at is not None
    assert send_digests_task.delay().get() == []


def test_each_message_is_its_own_inbox_item(world, django_capture_on_commit_callbacks):
    bring_to(world, "in_review")
    for body in ("First note.", "Second note."):
        services.message_post(review_request=world.request, actor=world.owner, body=body)
    items = Notification.objects.filter(user=world.reviewer, kind=K.REQUEST_STATUS)
    assert items.count() == 2
    assert all("sent a new message" in n.title for n in items)


def test_an_assignment_is_an_inbox_item_and_one_email_for_an_immediate_reviewer(
        world, mailoutbox, django_capture_on_commit_callbacks):
    bring_to(world, "submitted")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer,
                                 actor=world.admin)
    assert Notification.objects.filter(user=world.reviewer, kind=K.REVIEWER_ASSIGNED).count() == 1
    assigned = [m for m in _to(mailoutbox, world.reviewer) if "assigned" in m.subject]
    assert len(assigned) == 1


def test_a_digest_reviewer_hears_of_an_assignment_in_the_digest_only(
        world, mailoutbox, django_capture_on_commit_callbacks):
    bring_to(world, "submitted")
    preference_set(user=world.reviewer, delivery=DIGEST)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.reviewer_assign(review_request=world.request, reviewer=world.reviewer,
                                 actor=world.admin)
    assert _to(mailoutbox, world.reviewer) == []
    item = Notification.objects.get(user=world.reviewer, kind=K.REVIEWER_ASSIGNED)
    assert item.emailed_at is None
    assert item.title in _digest(mailoutbox, world.reviewer).body


def _flag(world, django_capture_on_commit_callbacks):
    bring_to(world, "determined")
    now = timezone.now()
    window_schedule(model=world.model, actor=world.owner, starts_at=now + timedelta(days=1),
                    ends_at=now + timedelta(days=11))
    with django_capture_on_commit_callbacks(execute=True):
        services.model_update(model=world.model, actor=world.owner,
                              planned_partner_release_at=now + timedelta(days=5))


def test_a_flagged_window_is_an_inbox_item_and_one_email_for_immediate_admins(
        world, mailoutbox, django_capture_on_commit_callbacks):
    _flag(world, django_capture_on_commit_callbacks)
    [item] = Notification.objects.filter(user=world.admin, kind=K.WINDOW_FLAGGED)
    assert "planned release to trusted partners" in item.body
    flagged = [m for m in _to(mailoutbox, world.admin) if "flagged" in m.subject]
    assert len(flagged) == 1


def test_a_digest_admin_hears_of_a_flagged_window_in_the_digest_only(
        world, mailoutbox, django_capture_on_commit_callbacks):
    preference_set(user=world.admin, delivery=DIGEST)
    _flag(world, django_capture_on_commit_callbacks)
    assert [m for m in _to(mailoutbox, world.admin) if "flagged" in m.subject] == []
    item = Notification.objects.get(user=world.admin, kind=K.WINDOW_FLAGGED)
    assert item.title in _digest(mailoutbox, world.admin).body


def test_a_recheck_that_changes_nothing_notifies_nobody_again(
        world, django_capture_on_commit_callbacks):
    _flag(world, django_capture_on_commit_callbacks)
    windows_recheck_for_model(model=world.model)
    assert Notification.objects.filter(kind=K.WINDOW_FLAGGED).count() == 1
