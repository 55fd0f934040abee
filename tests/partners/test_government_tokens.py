"""The government access window's token, and introspection of it by the developer's gateway."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import api_token_create
from audit.models import AuditEvent
from review_portal.errors import TransitionNotAllowed
from submissions.models import AccessWindow
from submissions.window_services import window_cancel, window_issue_token

INTROSPECT = reverse("api-introspect")


def token_url(window):
    return reverse("api-window-token", args=[window.pk])


@pytest.mark.parametrize("who,code,holder", [
    ("admin", 201, "Program Office"), ("reviewer", 201, "Agency"), ("reviewer2", 404, None),
    ("owner", 403, None), ("outsider", 404, None), ("partner", 404, None),
    ("anonymous", 401, None)])
def test_who_issues_the_token(pw, api, who, code, holder):
    response = api.as_(pw.w.actors()[who]).post(token_url(pw.window))
    assert response.status_code == code
    pw.window.refresh_from_db()
    if code != 201:
        assert pw.window.token_hash is None
        assert not AuditEvent.objects.filter(action="window.token_issued").exists()
        return
    token = response.json()["token"]
    assert token.startswith(AccessWindow.TOKEN_PREFIX)
    assert pw.window.token_hash == AccessWindow.hash_token(token) != token
    assert pw.window.token_organisation.name == holder
    event = AuditEvent.objects.get(action="window.token_issued")
    assert event.object_id == str(pw.window.pk) and token not in str(event.data)


def test_no_token_for_a_cancelled_or_ended_window(pw):
    AccessWindow.objects.filter(pk=pw.window.pk).update(
        starts_at=timezone.now() - timedelta(days=3), ends_at=timezone.now() - timedelta(1))
    with pytest.raises(TransitionNotAllowed, match="ended"):
        window_issue_token(window=pw.window, actor=pw.w.admin)
    AccessWindow.objects.filter(pk=pw.window.pk).update(ends_at=timezone.now() + timedelta(1))
    window_cancel(window=pw.window, actor=pw.w.owner)
    with pytest.raises(TransitionNotAllowed, match="cancelled"):
        window_issue_token(window=pw.window, actor=pw.w.admin)


@pytest.fixture
def gateway(client):
    def call(user, token):
        _, key = api_token_create(user=user, name="gateway")
        return client.post(INTROSPECT, {"token": token}, HTTP_AUTHORIZATION=f"Bearer {key}")

    return call


@pytest.fixture
def issued(pw):
    _, token = window_issue_token(window=pw.window, actor=pw.w.admin)
    return token


def open_window(pw):
    now = timezone.now()
    AccessWindow.objects.filter(pk=pw.window.pk).update(starts_at=now - timedelta(hours=1),
                                                        ends_at=now + timedelta(days=2))
    pw.window.refresh_from_db()


def test_it_is_active_inside_the_window_for_the_agency(pw, issued, gateway):
    open_window(pw)
    body = gateway(pw.w.owner, issued).json()
    assert {key: body[key] for key in ("active", "model", "organisation", "exp", "aud")} == {
        "active": True, "model": pw.w.model.pk, "organisation": "Program Office",
        "exp": int(pw.window.ends_at.timestamp()), "aud": f"model:{pw.w.model.pk}"}


def test_it_is_inactive_before_the_window_starts(pw, issued, gateway):
    assert gateway(pw.w.owner, issued).json() == {"active": False}


def test_it_is_inactive_one_second_after_the_end(pw, issued, gateway):
    AccessWindow.objects.filter(pk=pw.window.pk).update(
        starts_at=timezone.now() - timedelta(days=2),
        ends_at=timezone.now() - timedelta(seconds=1))
    assert gateway(pw.w.owner, issued).json() == {"active": False}


def test_it_is_inactive_once_the_window_is_cancelled(pw, issued, gateway):
    open_window(pw)
    window_cancel(window=pw.window, actor=pw.w.owner)
    assert gateway(pw.w.owner, issued).json() == {"active": False}


def test_other_callers_and_rotated_tokens_learn_nothing(pw, issued, gateway):
    open_window(pw)
    assert gateway(pw.w.outsider, issued).json() == {"active": False}
    assert gateway(pw.w.partner, issued).json() == {"active": False}
    assert gateway(pw.w.owner, "fgw_unknown").json() == {"active": False}
    window_issue_token(window=pw.window, actor=pw.w.admin)
    assert gateway(pw.w.owner, issued).json() == {"active": False}


def test_introspection_of_a_window_token_runs_at_most_two_queries(
        pw, issued, client, django_assert_max_num_queries):
    open_window(pw)
    from partners.tracking import window_token_introspect

    user = User.objects.select_related("membership").get(pk=pw.w.owner.pk)
    with django_assert_max_num_queries(1):
        assert window_token_introspect(token=issued, caller=user)["active"] is True
    client.force_login(pw.w.owner)
    with django_assert_max_num_queries(2 + 3):  # session, user, membership + the view's own
        assert client.post(INTROSPECT, {"token": issued}).json()["active"] is True
