"""The inbox page and the API show the user's own notifications, nothing else."""

import pytest

from notifications.models import Notification
from tests.partners.conftest import request_access

ACTORS = ["owner", "colleague", "outsider", "reviewer", "admin", "partner"]


def make(user, n=1, kind="approval_needed"):
    return [Notification.objects.create(user=user, kind=kind, object_type="partners.accessrequest",
                                        object_id=i + 1, title=f"Item {i} of {user.username}",
                                        link="/partners/requests/") for i in range(n)]


@pytest.mark.parametrize("actor", ACTORS)
def test_every_user_sees_only_their_own_in_the_inbox(world, client, actor):
    for user in world.actors().values():
        if user is not None:
            make(user)
    client.force_login(getattr(world, actor))
    response = client.get("/inbox/")
    assert response.status_code == 200
    assert f"Item 0 of {actor}".encode() in response.content
    others = [name for name in ACTORS if name != actor]
    assert not any(f"of {name}<".encode() in response.content for name in others)


@pytest.mark.parametrize("actor", ACTORS)
def test_every_user_sees_only_their_own_in_the_api(world, api, actor):
    for user in world.actors().values():
        if user is not None:
            make(user)
    body = api.as_(getattr(world, actor)).get("/api/v1/notifications/").json()
    assert [item["title"] for item in body["results"]] == [f"Item 0 of {actor}"]
    assert body["results"][0]["is_read"] is False


def test_anonymous_users_get_neither_inbox_nor_api(world, client, api):
    response = client.get("/inbox/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert api.as_(None).get("/api/v1/notifications/").status_code in (401, 403)
    mine = make(world.partner)[0]
    assert api.as_(None).post(f"/api/v1/notifications/{mine.pk}/read/").status_code in (401, 403)
    mine.refresh_from_db()
    assert mine.read_at is None


def test_marking_read_works_on_own_and_answers_404_on_another_users(world, api, client):
    mine, theirs = make(world.partner)[0], make(world.owner)[0]
    response = api.as_(world.partner).post(f"/api/v1/notifications/{mine.pk}/read/")
    assert response.status_code == 200 and response.json()["is_read"] is True
    assert api.as_(world.partner).post(
        f"/api/v1/notifications/{theirs.pk}/read/").status_code == 404
    assert api.as_(world.partner).get(f"/api/v1/notifications/{theirs.pk}/").status_code == 404
    client.force_login(world.partner)
    assert client.post(f"/inbox/{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    mine.refresh_from_db()
    assert theirs.read_at is None and mine.read_at is not None


def test_opening_a_notification_marks_it_read_and_follows_its_link(world, client):
    mine = make(world.partner)[0]
    client.force_login(world.partner)
    response = client.post(f"/inbox/{mine.pk}/read/", {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/partners/requests/"
    mine.refresh_from_db()
    assert mine.read_at is not None


def test_an_outside_link_is_never_followed(world, client):
    mine = make(world.partner)[0]
    Notification.objects.filter(pk=mine.pk).update(link="https://evil.example/")
    client.force_login(world.partner)
    assert client.post(f"/inbox/{mine.pk}/read/", {"open": "1"})["Location"] == "/inbox/"


def test_mark_all_read_touches_only_the_users_own(world, api):
    make(world.partner, 3)
    theirs = make(world.owner)[0]
    assert api.as_(world.partner).post("/api/v1/notifications/read-all/").json() == {
        "marked": 3}
    assert Notification.objects.filter(user=world.partner, read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None
    body = api.as_(world.partner).get("/api/v1/notifications/?unread=1").json()
    assert body["results"] == []


def test_real_notifications_land_in_the_partners_inbox(pw, client):
    access_request = request_access(pw)
    client.force_login(pw.w.partner)
    response = client.get("/inbox/")
    assert f"Early-access request #{access_request.pk}".encode() in response.content
    assert b"We protect patients." not in response.content


def test_the_inbox_and_the_api_run_a_fixed_number_of_queries(world, client, api,
                                                             django_assert_max_num_queries):
    def count(url, c):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    client.force_login(world.partner)
    make(world.partner, 1)
    one_page, one_api = count("/inbox/", client), count("/api/v1/notifications/", client)
    Notification.objects.all().delete()
    make(world.partner, 40)
    assert count("/inbox/", client) == one_page
    assert count("/api/v1/notifications/", client) == one_api
    with django_assert_max_num_queries(8):
        client.get("/inbox/")
