"""Session lifetimes per role: government users are signed out 30 minutes after their last
request and 8 hours after signing in, however active; developers and partners keep 14 days.
Time is moved with a clock that every caller of django.utils.timezone.now() sees, the session
store included; nothing sleeps."""

from datetime import timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts import sessions
from review_portal.settings.base import env_int


class Clock:
    def __init__(self, monkeypatch):
        self.now = timezone.now()
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def signed_in(client) -> bool:
    return SESSION_KEY in client.session


def sent_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_reviewer_is_signed_out_after_30_minutes_without_a_request(world, client, clock):
    client.force_login(world.reviewer)
    assert client.get("/requests/").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/requests/").status_code == 200
    clock.advance(minutes=29)  # 58 minutes after sign-in, 29 after the last request
    assert client.get("/requests/").status_code == 200
    clock.advance(minutes=30, seconds=1)
    response = client.get("/requests/")
    assert sent_to_login(response)
    assert not signed_in(client)
    assert "without activity" in client.get(response["Location"]).content.decode()


def test_an_active_program_admin_is_signed_out_8_hours_after_signing_in(world, client, clock):
    client.force_login(world.admin)
    for _ in range(8 * 3):  # a request every 20 minutes for 8 hours
        assert client.get("/audit/").status_code == 200
        clock.advance(minutes=20)
    clock.advance(minutes=1)  # 8 h 1 min after sign-in
    assert sent_to_login(client.get("/audit/"))
    assert not signed_in(client)


def test_a_government_session_expires_in_the_session_store_at_its_absolute_end(world, client,
                                                                                clock):
    client.force_login(world.reviewer)
    started = clock.now
    assert client.session.get_expiry_date() == started + timedelta(hours=8)
    client.get("/requests/")
    clock.advance(minutes=10)
    client.get("/requests/")
    # Activity never pushes the end back.
    assert client.session.get_expiry_date() == started + timedelta(hours=8)


def test_an_idle_government_session_gets_403_json_from_the_api(world, client, clock):
    client.force_login(world.reviewer)
    assert client.get("/api/v1/review-requests/").status_code == 200
    clock.advance(minutes=31)
    response = client.get("/api/v1/review-requests/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"
    assert not signed_in(client)


def test_a_government_session_without_the_policys_limits_is_ended(world, client, clock):
    client.force_login(world.reviewer)
    session = client.session
    del session[sessions.ENDS_KEY]
    session.set_expiry(None)  # as a 14-day session from before this policy
    session.save()
    assert sent_to_login(client.get("/requests/"))


@pytest.mark.parametrize("actor", ["owner", "partner"])
def test_developers_and_partners_keep_a_14_day_session(world, client, clock, actor):
    client.force_login(getattr(world, actor))
    path = "/models/" if actor == "owner" else "/partners/requests/"
    assert client.get(path).status_code == 200
    clock.advance(days=3)  # idle for days: still signed in
    assert client.get(path).status_code == 200
    assert signed_in(client)
    clock.advance(days=14)
    assert sent_to_login(client.get(path))


def test_a_government_user_who_signs_in_again_gets_a_fresh_8_hours(world, client, clock):
    client.force_login(world.reviewer)
    clock.advance(hours=7, minutes=50)
    client.logout()
    client.force_login(world.reviewer)
    for _ in range(3):  # active until 8 h 50 min after the first sign-in
        clock.advance(minutes=20)
        assert client.get("/requests/").status_code == 200


@pytest.mark.parametrize(("name", "raw"), [
    ("GOVERNMENT_SESSION_MAX_AGE", str(13 * 3600)),
    ("GOVERNMENT_SESSION_IDLE_TIMEOUT", str(31 * 60)),
    ("SESSION_COOKIE_AGE", str(31 * 24 * 3600)),
])
def test_session_lifetimes_cannot_be_set_past_their_bounds(monkeypatch, tmp_path, name, raw):
    import runpy
    from pathlib import Path

    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    monkeypatch.setenv(name, raw)
    base = Path(__file__).resolve().parent.parent.parent / "review_portal/settings/base.py"
    with pytest.raises(ImproperlyConfigured, match=name):
        runpy.run_path(str(base))


def test_session_lifetimes_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("GOVERNMENT_SESSION_IDLE_TIMEOUT", "900")
    assert env_int("GOVERNMENT_SESSION_IDLE_TIMEOUT", 1800, minimum=60, maximum=1800) == 900
