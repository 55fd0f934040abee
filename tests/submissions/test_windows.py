"""The government pre-release access window: the service, the page and the API.

The `covered` world: `model` (Acme's) is determined covered, its planned partner release is 60
days away and its public release 90 days away.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from review_portal.errors import ApplicationError
from review_portal.settings.base import env_int
from submissions import services
from submissions.models import AccessWindow
from submissions.tasks import windows_check_rules_task
from submissions.window_services import (
    window_cancel,
    window_change,
    window_schedule,
    windows_check_rules,
)

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def soon(days: float = 1) -> datetime:
    """A future instant on a whole minute (the page's resolution)."""
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def schedule(world, *, days: float = 30, start_in: float = 1, actor=None) -> AccessWindow:
    starts_at = soon(start_in)
    return window_schedule(model=world.model, actor=actor or world.owner, starts_at=starts_at,
                           ends_at=starts_at + timedelta(days=days))


def schedule_for(model, actor, *, days: float) -> AccessWindow:
    starts_at = soon(1)
    return window_schedule(model=model, actor=actor, starts_at=starts_at,
                           ends_at=starts_at + timedelta(days=days))


def window_events(action: str):
    return AuditEvent.objects.filter(action=action, object_type="submissions.accesswindow")


def page_data(starts_at: datetime, ends_at: datetime, tz: str = "UTC") -> dict:
    return {"starts_at": starts_at.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": ends_at.strftime("%Y-%m-%dT%H:%M"), "timezone": tz}


def api_data(world, starts_at: datetime, ends_at: datetime) -> dict:
    return {"model": world.model.pk, "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat()}


def change_url(window) -> str:
    return f"/api/v1/windows/{window.pk}/"


# --- scheduling: the service ------------------------------------------------------------------

def test_it_accepts_a_30_day_window_and_records_it(covered):
    starts_at = soon(1)
    window = window_schedule(model=covered.model, actor=covered.owner, starts_at=starts_at,
                             ends_at=starts_at + timedelta(days=30))

    row = AccessWindow.objects.get()
    assert row.pk == window.pk
    assert row.model == covered.model
    assert row.kind == AccessWindow.Kind.GOVERNMENT
    assert row.status == AccessWindow.Status.SCHEDULED
    assert (row.starts_at, row.ends_at) == (starts_at, starts_at + timedelta(days=30))
    assert row.flag_reason == ""
    event = window_events("window.scheduled").get()
    assert event.actor == covered.owner
    assert event.object_id == str(row.pk)
    assert event.organisation == covered.acme
    assert event.data["ends_at"] == (starts_at + timedelta(days=30)).isoformat()


def test_it_rejects_a_31_day_window_naming_the_30_day_limit(covered):
    with pytest.raises(ApplicationError) as exc:
        schedule(covered, days=31)

    assert "at most 30 days" in exc.value.message
    assert "31 days" in exc.value.message
    assert exc.value.field == "ends_at"
    assert exc.value.status == 400
    assert not AccessWindow.objects.exists()
    assert not window_events("window.scheduled").exists()


def test_it_rejects_a_window_one_second_longer_than_30_days(covered):
    starts_at = soon(1)
    with pytest.raises(ApplicationError, match="at most 30 days"):
        window_schedule(model=covered.model, actor=covered.owner, starts_at=starts_at,
                        ends_at=starts_at + timedelta(days=30, seconds=1))
    assert not AccessWindow.objects.exists()


@pytest.mark.parametrize(("start_in", "length", "message"), [
    (5, timedelta(days=-1), "start before it ends"),
    (5, timedelta(0), "start before it ends"),
    (-1 / 24, timedelta(days=10), "cannot start in the past"),
    (40, timedelta(days=21), "no later than the planned release to trusted partners"),
])
def test_it_rejects_a_window_that_breaks_a_rule(covered, start_in, length, message):
    starts_at = timezone.now() + timedelta(days=start_in)
    with pytest.raises(ApplicationError, match=message):
        window_schedule(model=covered.model, actor=covered.owner, starts_at=starts_at,
                        ends_at=starts_at + length)
    assert not AccessWindow.objects.exists()


def test_a_window_may_end_exactly_at_the_planned_partner_release(covered):
    ends_at = covered.model.planned_partner_release_at
    window = window_schedule(model=covered.model, actor=covered.owner,
                             starts_at=ends_at - timedelta(days=30), ends_at=ends_at)
    assert window.ends_at == ends_at


def test_it_checks_the_partner_release_of_the_locked_row_not_a_stale_copy(covered):
    """The page loaded the model before a colleague moved its partner release earlier."""
    stale = type(covered.model).objects.get(pk=covered.model.pk)
    _move_partner_release(covered, timezone.now() + timedelta(days=20))
    with pytest.raises(ApplicationError, match="trusted partners"):
        schedule_for(stale, covered.owner, days=25)
    assert not AccessWindow.objects.exists()


def test_it_rejects_naive_datetimes(covered):
    naive = datetime.now() + timedelta(days=2)  # noqa: DTZ005 - the point of the test
    with pytest.raises(ApplicationError, match="time zone"):
        window_schedule(model=covered.model, actor=covered.owner, starts_at=naive,
                        ends_at=naive + timedelta(days=5))
    assert not AccessWindow.objects.exists()


def test_it_stores_an_aware_datetime_in_utc(covered):
    starts_at = soon(2).astimezone(NEW_YORK)
    window = window_schedule(model=covered.model, actor=covered.owner, starts_at=starts_at,
                             ends_at=starts_at + timedelta(days=3))
    assert window.starts_at.tzinfo == UTC
    assert AccessWindow.objects.get().starts_at == starts_at


def test_it_refuses_a_model_not_determined_covered(world):
    with pytest.raises(ApplicationError, match="covered frontier model") as exc:
        schedule(world, days=10)
    assert exc.value.status == 409
    assert not AccessWindow.objects.exists()


def test_it_refuses_a_model_determined_not_covered(world):
    services.request_submit(review_request=world.request, actor=world.owner)
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer,
                             actor=world.admin)
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="not_covered", rationale="Below the program's level.")
    with pytest.raises(ApplicationError) as exc:
        schedule(world, days=10)
    assert exc.value.status == 409
    assert not AccessWindow.objects.exists()


def test_it_refuses_a_second_scheduled_window(covered):
    first = schedule(covered, days=10)
    with pytest.raises(ApplicationError, match="already has a government window") as exc:
        schedule(covered, days=5, start_in=20)
    assert exc.value.status == 409
    assert list(AccessWindow.objects.all()) == [first]


def test_a_new_window_can_be_scheduled_after_the_old_one_is_cancelled(covered):
    first = schedule(covered, days=10)
    window_cancel(window=first, actor=covered.owner)
    second = schedule(covered, days=5, start_in=20)
    assert AccessWindow.objects.filter(status=AccessWindow.Status.SCHEDULED).get() == second


@pytest.mark.parametrize("who", ["reviewer", "admin", "outsider", "partner"])
def test_only_developers_of_the_organisation_schedule(covered, who):
    with pytest.raises(PermissionDenied):
        schedule(covered, days=10, actor=getattr(covered, who))
    assert not AccessWindow.objects.exists()


def test_a_colleague_can_schedule(covered):
    window = schedule(covered, days=10, actor=covered.colleague)
    assert window.created_by == covered.colleague
    assert window_events("window.scheduled").get().actor == covered.colleague


# --- the cap is a setting whose default and ceiling is 30 --------------------------------------

def test_a_lower_max_days_setting_lowers_the_cap(covered, settings):
    settings.ACCESS_WINDOW_MAX_DAYS = 10
    with pytest.raises(ApplicationError, match="at most 10 days"):
        schedule(covered, days=11)
    assert not AccessWindow.objects.exists()
    schedule(covered, days=10)
    row = AccessWindow.objects.get()
    assert row.ends_at - row.starts_at == timedelta(days=10)


def test_the_window_page_states_the_lowered_cap(covered, client, settings):
    settings.ACCESS_WINDOW_MAX_DAYS = 7
    client.force_login(covered.owner)
    response = client.get(reverse("window_edit", args=[covered.model.pk]))
    assert response.status_code == 200
    assert "at most 7 days long" in response.content.decode()


def test_env_int_refuses_a_max_days_above_30(monkeypatch):
    monkeypatch.setenv("ACCESS_WINDOW_MAX_DAYS", "31")
    with pytest.raises(ImproperlyConfigured, match="between 1 and 30"):
        env_int("ACCESS_WINDOW_MAX_DAYS", 30, minimum=1, maximum=30)


@pytest.mark.parametrize(("raw", "expected"), [("", 30), ("30", 30), ("1", 1), ("12", 12)])
def test_env_int_accepts_values_within_bounds(monkeypatch, raw, expected):
    monkeypatch.setenv("ACCESS_WINDOW_MAX_DAYS", raw)
    assert env_int("ACCESS_WINDOW_MAX_DAYS", 30, minimum=1, maximum=30) == expected


@pytest.mark.parametrize("raw", ["0", "-5", "thirty", "30.5", "1e1"])
def test_env_int_refuses_nonsense(monkeypatch, raw):
    monkeypatch.setenv("ACCESS_WINDOW_MAX_DAYS", raw)
    with pytest.raises(ImproperlyConfigured):
        env_int("ACCESS_WINDOW_MAX_DAYS", 30, minimum=1, maximum=30)


# --- scheduling: the page ---------------------------------------------------------------------

def test_the_page_schedules_a_30_day_window(covered, client):
    client.force_login(covered.owner)
    starts_at = soon(1)
    response = client.post(reverse("window_edit", args=[covered.model.pk]),
                           page_data(starts_at, starts_at + timedelta(days=30)))

    assert response.status_code == 302
    assert response["Location"] == reverse("model_detail", args=[covered.model.pk])
    row = AccessWindow.objects.get()
    assert (row.starts_at, row.ends_at) == (starts_at, starts_at + timedelta(days=30))
    assert window_events("window.scheduled").get().actor == covered.owner


def test_the_page_shows_the_30_day_limit_when_a_31_day_window_is_refused(covered, client):
    client.force_login(covered.owner)
    starts_at = soon(1)
    response = client.post(reverse("window_edit", args=[covered.model.pk]),
                           page_data(starts_at, starts_at + timedelta(days=31)))

    assert response.status_code == 200
    errors = response.context["form"].errors["ends_at"]
    assert any("at most 30 days" in e for e in errors)
    assert "at most 30 days long; this one is 31 days" in response.content.decode()
    assert not AccessWindow.objects.exists()
    assert not window_events("window.scheduled").exists()


def test_the_page_refuses_a_start_in_the_past(covered, client):
    client.force_login(covered.owner)
    starts_at = soon(-1)
    response = client.post(reverse("window_edit", args=[covered.model.pk]),
                           page_data(starts_at, starts_at + timedelta(days=5)))
    assert response.status_code == 200
    assert "cannot start in the past" in response.content.decode()
    assert not AccessWindow.objects.exists()


def test_the_page_refuses_a_model_not_determined_covered(world, client):
    client.force_login(world.owner)
    starts_at = soon(1)
    response = client.post(reverse("window_edit", args=[world.model.pk]),
                           page_data(starts_at, starts_at + timedelta(days=5)))
    assert response.status_code == 200
    assert "determined to be a covered frontier model" in response.content.decode()
    assert not AccessWindow.objects.exists()


def test_the_page_stores_a_new_york_time_as_the_right_utc_instant(covered, client):
    client.force_login(covered.owner)
    day = (timezone.now() + timedelta(days=3)).date()
    local_start = datetime(day.year, day.month, day.day, 9, 30)
    local_end = local_start + timedelta(days=10)
    response = client.post(reverse("window_edit", args=[covered.model.pk]),
                           page_data(local_start, local_end, tz="America/New_York"))

    assert response.status_code == 302
    row = AccessWindow.objects.get()
    assert row.starts_at == local_start.replace(tzinfo=NEW_YORK)
    assert row.ends_at == local_end.replace(tzinfo=NEW_YORK)
    # 09:30 in New York is 13:30 or 14:30 UTC, never 09:30 UTC.
    assert row.starts_at.astimezone(UTC).hour in (13, 14)
    assert row.starts_at.astimezone(UTC).minute == 30


@pytest.mark.parametrize(("who", "status"), [
    ("colleague", 200), ("outsider", 404), ("reviewer", 403), ("reviewer2", 404),
    ("admin", 403), ("partner", 404),
])
def test_only_the_developers_reach_the_window_page(covered, client, who, status):
    client.force_login(getattr(covered, who))
    url = reverse("window_edit", args=[covered.model.pk])
    assert client.get(url).status_code == status
    starts_at = soon(1)
    response = client.post(url, page_data(starts_at, starts_at + timedelta(days=5)))
    assert response.status_code == (302 if status == 200 else status)
    assert AccessWindow.objects.exists() == (status == 200)


def test_the_window_page_sends_anonymous_users_to_log_in(covered, client):
    response = client.get(reverse("window_edit", args=[covered.model.pk]))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- scheduling: the API ----------------------------------------------------------------------

def test_the_api_schedules_a_30_day_window(covered, api):
    starts_at = soon(1)
    response = api.as_(covered.owner).post(
        "/api/v1/windows/", api_data(covered, starts_at, starts_at + timedelta(days=30)))

    assert response.status_code == 201, response.json()
    row = AccessWindow.objects.get()
    assert response.json()["id"] == row.pk
    assert (row.starts_at, row.ends_at) == (starts_at, starts_at + timedelta(days=30))
    assert window_events("window.scheduled").get().actor == covered.owner


def test_the_api_refuses_a_31_day_window_with_a_json_error(covered, api):
    starts_at = soon(1)
    response = api.as_(covered.owner).post(
        "/api/v1/windows/", api_data(covered, starts_at, starts_at + timedelta(days=31)))

    assert response.status_code == 400
    body = response.json()
    assert "at most 30 days" in body["detail"]
    assert body["field"] == "ends_at"
    assert not AccessWindow.objects.exists()
    assert not window_events("window.scheduled").exists()


def test_the_api_answers_409_for_a_model_not_determined_covered(world, api):
    starts_at = soon(1)
    response = api.as_(world.owner).post(
        "/api/v1/windows/", api_data(world, starts_at, starts_at + timedelta(days=5)))
    assert response.status_code == 409
    assert "covered" in response.json()["detail"]
    assert not AccessWindow.objects.exists()


def test_the_api_answers_409_for_a_second_window(covered, api):
    schedule(covered, days=5)
    starts_at = soon(20)
    response = api.as_(covered.owner).post(
        "/api/v1/windows/", api_data(covered, starts_at, starts_at + timedelta(days=5)))
    assert response.status_code == 409
    assert AccessWindow.objects.count() == 1


def test_the_api_refuses_an_end_after_the_partner_release(covered, api):
    starts_at = soon(50)
    response = api.as_(covered.owner).post(
        "/api/v1/windows/", api_data(covered, starts_at, starts_at + timedelta(days=15)))
    assert response.status_code == 400
    assert "trusted partners" in response.json()["detail"]
    assert not AccessWindow.objects.exists()


@pytest.mark.parametrize(("who", "status"), [
    ("outsider", 404), ("reviewer2", 404), ("partner", 404), ("reviewer", 403), ("admin", 403),
])
def test_the_api_lets_only_the_developers_schedule(covered, api, who, status):
    starts_at = soon(1)
    response = api.as_(getattr(covered, who)).post(
        "/api/v1/windows/", api_data(covered, starts_at, starts_at + timedelta(days=5)))
    assert response.status_code == status
    assert not AccessWindow.objects.exists()


def test_the_api_refuses_anonymous_users(covered, api):
    starts_at = soon(1)
    response = api.as_(None).post(
        "/api/v1/windows/", api_data(covered, starts_at, starts_at + timedelta(days=5)))
    assert response.status_code in (401, 403)
    assert not AccessWindow.objects.exists()


# --- changing and cancelling ------------------------------------------------------------------

def test_it_refuses_a_change_that_extends_past_the_cap(covered):
    window = schedule(covered, days=20)
    with pytest.raises(ApplicationError, match="at most 30 days"):
        window_change(window=window, actor=covered.owner, starts_at=window.starts_at,
                      ends_at=window.starts_at + timedelta(days=31))
    row = AccessWindow.objects.get()
    assert row.ends_at == window.starts_at + timedelta(days=20)
    assert not window_events("window.changed").exists()


def test_a_change_within_the_rules_is_saved_and_recorded(covered):
    window = schedule(covered, days=20)
    new_end = window.starts_at + timedelta(days=30)
    window_change(window=window, actor=covered.colleague, starts_at=window.starts_at,
                  ends_at=new_end)
    assert AccessWindow.objects.get().ends_at == new_end
    event = window_events("window.changed").get()
    assert event.actor == covered.colleague
    assert event.data["before"]["ends_at"] == (window.starts_at + timedelta(days=20)).isoformat()
    assert event.data["after"]["ends_at"] == new_end.isoformat()


def _make_active(window: AccessWindow, *, started_days_ago: float = 2) -> AccessWindow:
    """Let time pass: the window started some days ago (its length is kept)."""
    length = window.ends_at - window.starts_at
    starts_at = timezone.now() - timedelta(days=started_days_ago)
    AccessWindow.objects.filter(pk=window.pk).update(starts_at=starts_at,
                                                     ends_at=starts_at + length)
    window.refresh_from_db()
    return window


def test_an_active_window_can_change_its_end_keeping_its_past_start(covered):
    window = _make_active(schedule(covered, days=10))
    new_end = window.starts_at + timedelta(days=25)
    window_change(window=window, actor=covered.owner, starts_at=window.starts_at,
                  ends_at=new_end)
    row = AccessWindow.objects.get()
    assert (row.starts_at, row.ends_at) == (window.starts_at, new_end)
    assert window_events("window.changed").count() == 1


def test_an_active_window_cannot_move_its_start_to_another_past_time(covered):
    window = _make_active(schedule(covered, days=10))
    with pytest.raises(ApplicationError, match="cannot start in the past"):
        window_change(window=window, actor=covered.owner,
                      starts_at=window.starts_at - timedelta(hours=1), ends_at=window.ends_at)
    assert AccessWindow.objects.get().starts_at == window.starts_at


def test_an_active_window_cannot_be_extended_past_the_cap(covered):
    window = _make_active(schedule(covered, days=10), started_days_ago=5)
    with pytest.raises(ApplicationError, match="at most 30 days"):
        window_change(window=window, actor=covered.owner, starts_at=window.starts_at,
                      ends_at=window.starts_at + timedelta(days=30, minutes=1))
    assert AccessWindow.objects.get().ends_at == window.ends_at


def test_a_window_that_has_ended_cannot_change(covered):
    window = schedule(covered, days=5)
    AccessWindow.objects.filter(pk=window.pk).update(
        starts_at=timezone.now() - timedelta(days=6), ends_at=timezone.now() - timedelta(days=1))
    window.refresh_from_db()
    with pytest.raises(ApplicationError, match="has ended") as exc:
        window_change(window=window, actor=covered.owner, starts_at=window.starts_at,
                      ends_at=timezone.now() + timedelta(days=3))
    assert exc.value.status == 409


def test_cancel_marks_the_window_cancelled_and_records_the_reason(covered):
    window = schedule(covered, days=10)
    window_cancel(window=window, actor=covered.owner, reason="  Schedule slipped. ")
    assert AccessWindow.objects.get().status == AccessWindow.Status.CANCELLED
    event = window_events("window.cancelled").get()
    assert event.actor == covered.owner
    assert event.data == {"reason": "Schedule slipped."}


def test_a_cancelled_window_cannot_change_or_be_cancelled_again(covered):
    window = window_cancel(window=schedule(covered, days=10), actor=covered.owner)
    with pytest.raises(ApplicationError, match="cancelled window cannot be changed") as exc:
        window_change(window=window, actor=covered.owner, starts_at=window.starts_at,
                      ends_at=window.ends_at - timedelta(days=1))
    assert exc.value.status == 409
    with pytest.raises(ApplicationError, match="already cancelled"):
        window_cancel(window=window, actor=covered.owner)
    row = AccessWindow.objects.get()
    assert row.ends_at == window.ends_at
    assert window_events("window.changed").count() == 0
    assert window_events("window.cancelled").count() == 1


@pytest.mark.parametrize("who", ["reviewer", "admin", "outsider", "partner"])
def test_only_developers_of_the_organisation_change_or_cancel(covered, who):
    window = schedule(covered, days=10)
    actor = getattr(covered, who)
    with pytest.raises(PermissionDenied):
        window_change(window=window, actor=actor, starts_at=window.starts_at,
                      ends_at=window.ends_at - timedelta(days=1))
    with pytest.raises(PermissionDenied):
        window_cancel(window=window, actor=actor)
    row = AccessWindow.objects.get()
    assert (row.status, row.ends_at) == (AccessWindow.Status.SCHEDULED, window.ends_at)


def test_the_api_changes_a_window_for_a_colleague(covered, api):
    window = schedule(covered, days=10)
    new_end = window.starts_at + timedelta(days=12)
    response = api.as_(covered.colleague).patch(change_url(window), {
        "starts_at": window.starts_at.isoformat(), "ends_at": new_end.isoformat()})
    assert response.status_code == 200, response.json()
    assert AccessWindow.objects.get().ends_at == new_end
    assert window_events("window.changed").get().actor == covered.colleague


def test_the_api_refuses_a_change_past_the_cap(covered, api):
    window = schedule(covered, days=10)
    response = api.as_(covered.owner).patch(change_url(window), {
        "starts_at": window.starts_at.isoformat(),
        "ends_at": (window.starts_at + timedelta(days=31)).isoformat()})
    assert response.status_code == 400
    assert "at most 30 days" in response.json()["detail"]
    assert AccessWindow.objects.get().ends_at == window.ends_at


def test_the_api_keeps_an_active_windows_past_start(covered, api):
    window = _make_active(schedule(covered, days=10))
    new_end = window.starts_at + timedelta(days=20)
    response = api.as_(covered.owner).patch(change_url(window), {
        "starts_at": window.starts_at.isoformat(), "ends_at": new_end.isoformat()})
    assert response.status_code == 200, response.json()
    assert AccessWindow.objects.get().ends_at == new_end


@pytest.mark.parametrize(("who", "status"), [
    ("outsider", 404), ("reviewer2", 404), ("partner", 404), ("reviewer", 403), ("admin", 403),
])
def test_the_api_lets_only_the_developers_change_or_cancel(covered, api, who, status):
    window = schedule(covered, days=10)
    client = api.as_(getattr(covered, who))
    response = client.patch(change_url(window), {
        "starts_at": window.starts_at.isoformat(),
        "ends_at": (window.ends_at - timedelta(days=1)).isoformat()})
    assert response.status_code == status
    assert client.post(change_url(window) + "cancel/").status_code == status
    row = AccessWindow.objects.get()
    assert (row.status, row.ends_at) == (AccessWindow.Status.SCHEDULED, window.ends_at)
    assert not window_events("window.changed").exists()
    assert not window_events("window.cancelled").exists()


def test_the_api_cancels_and_then_refuses_to_change(covered, api):
    window = schedule(covered, days=10)
    client = api.as_(covered.colleague)
    response = client.post(change_url(window) + "cancel/", {"reason": "Not needed."})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    assert window_events("window.cancelled").get().data == {"reason": "Not needed."}

    response = client.patch(change_url(window), {
        "starts_at": window.starts_at.isoformat(), "ends_at": window.ends_at.isoformat()})
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]
    assert client.post(change_url(window) + "cancel/").status_code == 409
    assert window_events("window.cancelled").count() == 1


def test_the_page_changes_the_existing_window(covered, client):
    window = schedule(covered, days=10)
    client.force_login(covered.owner)
    url = reverse("window_edit", args=[covered.model.pk])
    form = client.get(url).context["form"]
    assert form.initial["starts_at"] == window.starts_at.strftime("%Y-%m-%dT%H:%M")
    new_end = window.starts_at + timedelta(days=14)
    response = client.post(url, page_data(window.starts_at, new_end))
    assert response.status_code == 302
    assert AccessWindow.objects.get().ends_at == new_end
    assert AccessWindow.objects.count() == 1


def test_the_page_extends_an_active_window_scheduled_with_seconds(covered, client):
    """A window scheduled through the API to the second, once started, must stay changeable
    from the page, whose fields only carry minutes."""
    starts_at = timezone.now() + timedelta(minutes=5)
    window = window_schedule(model=covered.model, actor=covered.owner, starts_at=starts_at,
                             ends_at=starts_at + timedelta(days=10))
    window = _make_active(window)
    assert window.starts_at.second or window.starts_at.microsecond
    client.force_login(covered.owner)
    url = reverse("window_edit", args=[covered.model.pk])
    initial = client.get(url).context["form"].initial
    new_end = soon(15)
    response = client.post(url, {"starts_at": initial["starts_at"],
                                 "ends_at": new_end.strftime("%Y-%m-%dT%H:%M"),
                                 "timezone": "UTC"})
    assert response.status_code == 302, response.context["form"].errors
    row = AccessWindow.objects.get()
    assert row.ends_at == new_end


def test_the_page_cancels_a_window(covered, client):
    window = schedule(covered, days=10)
    client.force_login(covered.colleague)
    response = client.post(reverse("window_cancel", args=[window.pk]),
                           {"reason": "Later.", "confirm": "yes"})
    assert response.status_code == 302
    assert AccessWindow.objects.get().status == AccessWindow.Status.CANCELLED
    assert window_events("window.cancelled").get().actor == covered.colleague


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("reviewer", 403)])
def test_the_cancel_page_refuses_other_people(covered, client, who, status):
    window = schedule(covered, days=10)
    client.force_login(getattr(covered, who))
    response = client.post(reverse("window_cancel", args=[window.pk]))
    assert response.status_code == status
    assert AccessWindow.objects.get().status == AccessWindow.Status.SCHEDULED


# --- flagging when a date moves or the cap is lowered -----------------------------------------

def _move_partner_release(world, when: datetime):
    return services.model_update(model=world.model, actor=world.owner,
                                 planned_partner_release_at=when)


def test_moving_the_partner_release_before_the_window_end_flags_it(
        covered, django_capture_on_commit_callbacks, mailoutbox):
    window = schedule(covered, days=30)
    with django_capture_on_commit_callbacks(execute=True):
        _move_partner_release(covered, window.ends_at - timedelta(days=5))

    row = AccessWindow.objects.get()
    assert "planned release to trusted partners" in row.flag_reason
    assert (row.starts_at, row.ends_at, row.status) == (
        window.starts_at, window.ends_at, AccessWindow.Status.SCHEDULED)
    event = window_events("window.flagged").get()
    assert event.actor == covered.owner
    assert event.data["reason"] == row.flag_reason
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [covered.admin.email]
    assert "Atlas 1.0" in mailoutbox[0].subject


def test_moving_the_partner_release_back_unflags_the_window(
        covered, django_capture_on_commit_callbacks, mailoutbox):
    window = schedule(covered, days=30)
    original = covered.model.planned_partner_release_at
    _move_partner_release(covered, window.ends_at - timedelta(days=5))
    with django_capture_on_commit_callbacks(execute=True):
        _move_partner_release(covered, original)

    row = AccessWindow.objects.get()
    assert row.flag_reason == ""
    assert (row.starts_at, row.ends_at) == (window.starts_at, window.ends_at)
    assert window_events("window.unflagged").count() == 1
    assert mailoutbox == []


def test_moving_the_partner_release_later_leaves_the_window_alone(covered):
    schedule(covered, days=30)
    _move_partner_release(covered, covered.model.planned_partner_release_at + timedelta(days=1))
    assert AccessWindow.objects.get().flag_reason == ""
    assert not window_events("window.flagged").exists()


def test_a_flagged_window_is_listed_for_admins(covered, client):
    window = schedule(covered, days=30)
    _move_partner_release(covered, window.ends_at - timedelta(days=5))
    client.force_login(covered.admin)
    response = client.get(reverse("window_list") + "?flagged=1")
    assert list(response.context["windows"]) == [window]


def test_the_window_page_shows_the_flag_to_the_developer(covered, client):
    window = schedule(covered, days=30)
    _move_partner_release(covered, window.ends_at - timedelta(days=5))
    client.force_login(covered.owner)
    page = client.get(reverse("window_edit", args=[covered.model.pk])).content.decode()
    assert "Flagged to the program admins" in page
    assert window.ends_at.strftime("%Y-%m-%d %H:%M UTC") in page


def test_fixing_a_flagged_window_clears_its_flag(covered):
    window = schedule(covered, days=30)
    new_release = window.ends_at - timedelta(days=5)
    _move_partner_release(covered, new_release)
    covered.model.refresh_from_db()
    window_change(window=window, actor=covered.owner, starts_at=window.starts_at,
                  ends_at=new_release)
    assert AccessWindow.objects.get().flag_reason == ""


def test_the_sweep_task_run_twice_flags_once_and_sends_one_email(
        covered, settings, django_capture_on_commit_callbacks, mailoutbox):
    window = schedule(covered, days=20)
    settings.ACCESS_WINDOW_MAX_DAYS = 10
    with django_capture_on_commit_callbacks(execute=True):
        first = windows_check_rules_task.delay().get()
        second = windows_check_rules_task.delay().get()

    assert first == [window.pk]
    assert second == []
    row = AccessWindow.objects.get()
    assert "at most 10 days" in row.flag_reason
    assert row.ends_at - row.starts_at == timedelta(days=20)
    event = window_events("window.flagged").get()
    assert event.actor is None
    assert event.actor_label == "system"
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [covered.admin.email]


def test_the_sweep_ignores_cancelled_and_ended_windows(covered, settings):
    cancelled = window_cancel(window=schedule(covered, days=20), actor=covered.owner)
    ended = schedule(covered, days=20)
    AccessWindow.objects.filter(pk=ended.pk).update(
        starts_at=timezone.now() - timedelta(days=21), ends_at=timezone.now() - timedelta(days=1))
    settings.ACCESS_WINDOW_MAX_DAYS = 10
    assert windows_check_rules() == []
    assert set(AccessWindow.objects.values_list("flag_reason", flat=True)) == {""}
    assert AccessWindow.objects.filter(pk__in=[cancelled.pk, ended.pk]).count() == 2
    assert not window_events("window.flagged").exists()


def test_a_window_cannot_be_moved_while_a_reconsideration_is_open_but_can_be_cancelled(covered):
    w = covered
    now = timezone.now()
    window = window_schedule(model=w.model, actor=w.owner, starts_at=now + timedelta(days=1),
                             ends_at=now + timedelta(days=10))
    services.request_reconsideration(review_request=w.request, actor=w.owner, reason="Why?")
    with pytest.raises(ApplicationError, match="cancelled but not changed"):
        window_change(window=window, actor=w.owner, starts_at=window.starts_at,
                      ends_at=now + timedelta(days=20))
    window.refresh_from_db()
    assert window.ends_at - now < timedelta(days=11)
    window_cancel(window=window, actor=w.owner)
    window.refresh_from_db()
    assert window.status == AccessWindow.Status.CANCELLED
