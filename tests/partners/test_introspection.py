import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import api_token_create
from partners import services
from tests.partners.conftest import end_grant, make_live_grant

URL = reverse("api-introspect")


@pytest.fixture
def gateway(client):
    """The developer's model gateway, calling with a personal API token of a developer."""

    def call(user, token):
        _, key = api_token_create(user=user, name="gateway")
        return client.post(URL, {"token": token}, HTTP_AUTHORIZATION=f"Bearer {key}")

    return call


@pytest.fixture
def live(pw):
    grant = make_live_grant(pw)
    grant, token = services.grant_issue_token(grant=grant, actor=pw.w.partner)
    return grant, token


def test_a_token_is_active_inside_the_window(pw, live, gateway):
    grant, token = live
    body = gateway(pw.w.owner, token).json()
    assert {key: body[key] for key in ("active", "model", "organisation", "exp", "aud")} == {
        "active": True, "model": pw.w.model.pk, "organisation": "Rural Hospital",
        "exp": int(grant.ends_at.timestamp()), "aud": f"model:{pw.w.model.pk}"}
    assert grant.token_hash != token and token not in grant.token_hash


def test_it_is_inactive_one_second_after_the_end(pw, live, gateway):
    grant, token = live
    end_grant(grant)
    assert gateway(pw.w.owner, token).json() == {"active": False}


def test_it_is_inactive_after_revocation(pw, live, gateway):
    grant, token = live
    services.grant_revoke(grant=grant, actor=pw.w.admin, reason="Misuse.")
    assert gateway(pw.w.owner, token).json() == {"active": False}


def test_it_is_inactive_for_a_suspended_organisation(pw, live, gateway):
    _, token = live
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")
    assert gateway(pw.w.owner, token).json() == {"active": False}


def test_another_developer_organisation_learns_nothing(pw, live, gateway):
    _, token = live
    assert gateway(pw.w.outsider, token).json() == {"active": False}


def test_an_unknown_or_rotated_token_is_inactive(pw, live, gateway):
    grant, token = live
    assert gateway(pw.w.owner, "frg_nonsense").json() == {"active": False}
    services.grant_issue_token(grant=grant, actor=pw.w.partner)
    assert gateway(pw.w.owner, token).json() == {"active": False}


def test_only_authenticated_callers_introspect(pw, live, client):
    _, token = live
    assert client.post(URL, {"token": token}).status_code in (401, 403)


def test_a_partner_or_reviewer_gets_inactive(pw, live, gateway):
    _, token = live
    assert gateway(pw.w.partner, token).json() == {"active": False}


def test_the_view_runs_at_most_two_queries(pw, live, client, django_assert_max_num_queries):
    _, token = live
    client.force_login(pw.w.owner)
    # Session authentication costs the session and the user with its membership; prime them so
    # the count below is the view's own.
    from accounts.models import User

    user = User.objects.select_related("membership").get(pk=pw.w.owner.pk)
    from partners.services import introspect

    # The first use in a USAGE_RESOLUTION window also records the use mark's job (one outbox
    # row); every later call in the window is the lookup alone.
    with django_assert_max_num_queries(2):
        assert introspect(token=token, caller=user)["active"] is True
    with django_assert_max_num_queries(1):
        assert introspect(token=token, caller=user)["active"] is True
    with django_assert_max_num_queries(2 + 3):  # session, user, membership + the view's own
        assert client.post(URL, {"token": token}).json()["active"] is True


def test_a_gateway_introspecting_with_its_api_token_costs_two_queries(pw, live, client):
    """Authentication included: the caller's token, then the grant. The token's use (once a
    minute) and the grant's use (once per USAGE_RESOLUTION) are recorded on the first call."""
    _, token = live
    _, key = api_token_create(user=pw.w.owner, name="gateway")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.post(URL, {"token": token}, **headers).json()["active"] is True
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert client.post(URL, {"token": token}, **headers).json()["active"] is True
        assert len(queries) == 2, [q["sql"] for q in queries]
