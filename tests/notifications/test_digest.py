"""A user who chose the daily digest gets no immediate email and one digest, once."""

from notifications.models import Notification, NotificationPreference
from notifications.services import preference_set
from notifications.tasks import send_digests_task
from tests.partners.conftest import request_access


def test_digest_users_get_no_immediate_email_and_one_digest(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    preference_set(user=pw.w.owner, delivery=NotificationPreference.Delivery.DIGEST)
    with django_capture_on_commit_callbacks(execute=True):
        request_access(pw)
    recipients = {a for m in mailoutbox for a in m.to}
    assert "owner@example.org" not in recipients
    assert {"colleague@example.org", "partner@example.org"} <= recipients
    mailoutbox.clear()
    assert send_digests_task.delay().get() == [pw.w.owner.pk]
    assert send_digests_task.delay().get() == []
    assert [m.to for m in mailoutbox] == [["owner@example.org"]]
    assert "approval needed" in mailoutbox[0].body
    assert not Notification.objects.filter(user=pw.w.owner, emailed_at__isnull=True).exists()


def test_immediate_users_already_emailed_get_no_digest(
        pw, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        request_access(pw)
    mailoutbox.clear()
    assert send_digests_task.delay().get() == []
    assert mailoutbox == []


def test_the_preference_page_saves_the_choice(pw, client):
    client.force_login(pw.w.partner)
    assert client.get("/inbox/preferences/").status_code == 200
    response = client.post("/inbox/preferences/", {"delivery": "digest"})
    assert response.status_code == 302
    assert NotificationPreference.objects.get(user=pw.w.partner).delivery == "digest"
    client.post("/inbox/preferences/", {"delivery": "hourly"})
    assert NotificationPreference.objects.get(user=pw.w.partner).delivery == "digest"


def test_the_preference_page_needs_a_login(client):
    response = client.get("/inbox/preferences/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
