"""Introspection as a standard OAuth 2.0 client calls it: Authlib's `introspect_token` with a
gateway client's credentials (client_secret_basic, RFC 7662 §2.1), the RFC 7662 claims, the
caching guidance, form and JSON bodies, and the query count with gateway authentication."""

import base64
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.services import api_token_create
from partners import gateway, services
from partners.models import GatewayClient
from submissions.models import AccessWindow
from submissions.window_services import window_issue_token
from tests.partners.conftest import end_grant, make_live_grant

URL = "http://testserver" + reverse("api-introspect")


class DjangoTransport(requests.adapters.BaseAdapter):
    """Carries the requests that Authlib builds (headers and body exactly as it sends them)
    into the portal through Django's test client, so the whole stack below the socket runs."""

    def __init__(self, client):
        super().__init__()
        self.client = client

    def send(self, request, **kwargs):
        body = request.body or b""
        headers = {k: v for k, v in request.headers.items()
                   if k.lower() not in ("content-type", "content-length")}
        answer = self.client.generic(
            request.method, urlsplit(request.url).path,
            data=body.encode() if isinstance(body, str) else body,
            content_type=request.headers.get("Content-Type", ""), headers=headers)
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers.update(dict(answer.items()))
        response.url, response.request = request.url, request
        return response

    def close(self):
        pass


@pytest.fixture
def live(pw):
    grant = make_live_grant(pw)
    grant, token = services.grant_issue_token(grant=grant, actor=pw.w.partner)
    return grant, token


@pytest.fixture
def registered(pw):
    return gateway.gateway_client_create(actor=pw.w.owner, name="Acme nginx")


def authlib(client, client_id, secret):
    session = OAuth2Session(client_id, secret, token_endpoint_auth_method="client_secret_basic")
    session.mount("http://testserver", DjangoTransport(client))
    return session


def test_authlib_with_the_gateways_credentials_gets_a_valid_rfc_7662_answer(pw, live,
                                                                            registered, client):
    grant, token = live
    gateway_client, secret = registered
    response = authlib(client, gateway_client.client_id, secret).introspect_token(
        URL, token=token, token_type_hint="access_token")
    assert response.status_code == 200, response.content
    grant.refresh_from_db()
    assert response.json() == {
        "active": True, "scope": "model:invoke", "client_id": f"grant:{grant.pk}",
        "token_type": "Bearer", "sub": f"organisation:{grant.organisation_id}",
        "aud": f"model:{pw.w.model.pk}", "iat": int(grant.token_issued_at.timestamp()),
        "nbf": int(grant.starts_at.timestamp()), "exp": int(grant.ends_at.timestamp()),
        "iss": "http://127.0.0.1:8000",
        "model": pw.w.model.pk, "organisation": "Rural Hospital", "grant": grant.pk}
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "max-age=60"


def test_a_wrong_secret_gets_401_with_a_basic_challenge(pw, live, registered, client):
    _, token = live
    gateway_client, _ = registered
    response = authlib(client, gateway_client.client_id, "gws_wrong").introspect_token(
        URL, token=token)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic")
    assert "active" not in response.json()


def test_a_rotated_or_revoked_gateway_secret_stops_working_at_once(pw, live, registered, client):
    _, token = live
    gateway_client, old = registered
    gateway_client, new = gateway.gateway_client_rotate(client=gateway_client, actor=pw.w.owner)
    assert authlib(client, gateway_client.client_id, old).introspect_token(
        URL, token=token).status_code == 401
    assert authlib(client, gateway_client.client_id, new).introspect_token(
        URL, token=token).json()["active"] is True
    gateway.gateway_client_revoke(client=gateway_client, actor=pw.w.colleague)
    assert authlib(client, gateway_client.client_id, new).introspect_token(
        URL, token=token).status_code == 401


def test_a_gateway_of_another_developer_learns_nothing_of_a_real_token(pw, live, client):
    _, token = live
    other, secret = gateway.gateway_client_create(actor=pw.w.outsider, name="Other gateway")
    response = authlib(client, other.client_id, secret).introspect_token(URL, token=token)
    assert response.status_code == 200
    assert response.json() == {"active": False}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("ending", ["ended", "revoked", "suspended"])
def test_the_gateway_gets_inactive_when_access_ends(pw, live, registered, client, ending):
    grant, token = live
    if ending == "ended":
        end_grant(grant)
    elif ending == "revoked":
        services.grant_revoke(grant=grant, actor=pw.w.admin, reason="Misuse.")
    else:
        services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                    reason="Incident.")
    gateway_client, secret = registered
    response = authlib(client, gateway_client.client_id, secret).introspect_token(URL, token=token)
    assert response.json() == {"active": False}
    assert response.headers["Cache-Control"] == "no-store"


def basic(gateway_client, secret) -> str:
    return "Basic " + base64.b64encode(f"{gateway_client.client_id}:{secret}".encode()).decode()


def test_a_json_body_is_accepted_too(pw, live, registered, client):
    _, token = live
    response = client.post(reverse("api-introspect"), {"token": token},
                           content_type="application/json",
                           HTTP_AUTHORIZATION=basic(*registered))
    assert response.json()["active"] is True


@pytest.mark.parametrize("body", ['["frg_x"]', '"frg_x"', "{"])
def test_a_body_that_is_not_an_object_is_a_json_400(pw, registered, client, body):
    response = client.post(reverse("api-introspect"), body, content_type="application/json",
                           HTTP_AUTHORIZATION=basic(*registered))
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("header", ["Basic", "Basic !!!", "Basic " + base64.b64encode(
    b"no-colon").decode(), "Basic " + base64.b64encode(b"\xff:\xfe").decode()])
def test_malformed_basic_credentials_are_a_401(pw, live, client, header):
    _, token = live
    response = client.post(reverse("api-introspect"), {"token": token},
                           HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_the_personal_bearer_token_keeps_working_with_the_same_claims(pw, live, client):
    grant, token = live
    _, key = api_token_create(user=pw.w.owner, name="gateway")
    body = client.post(reverse("api-introspect"), {"token": token},
                       HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert body["active"] is True and body["aud"] == f"model:{pw.w.model.pk}"
    assert body["sub"] == f"organisation:{grant.organisation_id}"


@override_settings(GATEWAY_INTROSPECTION_CACHE_SECONDS=600)
def test_an_active_answer_may_be_cached_no_longer_than_until_exp(pw, live, registered, client):
    grant, token = live
    from partners.models import AccessGrant

    AccessGrant.objects.filter(pk=grant.pk).update(ends_at=timezone.now() + timedelta(seconds=30))
    response = client.post(reverse("api-introspect"), {"token": token},
                           HTTP_AUTHORIZATION=basic(*registered))
    seconds = int(response["Cache-Control"].removeprefix("max-age="))
    assert 0 < seconds <= 30
    assert response.json()["exp"] - seconds >= int(timezone.now().timestamp())


def test_the_cache_setting_bounds_max_age(pw, live, registered, client, settings):
    _, token = live
    settings.GATEWAY_INTROSPECTION_CACHE_SECONDS = 5
    response = client.post(reverse("api-introspect"), {"token": token},
                           HTTP_AUTHORIZATION=basic(*registered))
    assert response["Cache-Control"] == "max-age=5"
    settings.GATEWAY_INTROSPECTION_CACHE_SECONDS = 0
    response = client.post(reverse("api-introspect"), {"token": token},
                           HTTP_AUTHORIZATION=basic(*registered))
    assert response["Cache-Control"] == "no-store"


def test_a_government_window_token_gets_the_same_answer_through_the_gateway(pw, registered,
                                                                          client):
    _, token = window_issue_token(window=pw.window, actor=pw.w.admin)
    now = timezone.now()
    AccessWindow.objects.filter(pk=pw.window.pk).update(starts_at=now - timedelta(hours=1),
                                                        ends_at=now + timedelta(days=2))
    window = AccessWindow.objects.select_related("token_organisation").get(pk=pw.window.pk)
    gateway_client, secret = registered
    body = authlib(client, gateway_client.client_id, secret).introspect_token(
        URL, token=token).json()
    assert body == {
        "active": True, "scope": "model:invoke", "client_id": f"window:{window.pk}",
        "token_type": "Bearer", "sub": f"organisation:{window.token_organisation_id}",
        "aud": f"model:{pw.w.model.pk}", "iat": int(window.token_issued_at.timestamp()),
        "nbf": int(window.starts_at.timestamp()), "exp": int(window.ends_at.timestamp()),
        "iss": "http://127.0.0.1:8000", "model": pw.w.model.pk,
        "organisation": "Program Office", "window": window.pk}
    AccessWindow.objects.filter(pk=pw.window.pk).update(
        starts_at=now - timedelta(days=1), ends_at=timezone.now() - timedelta(seconds=1))
    assert authlib(client, gateway_client.client_id, secret).introspect_token(
        URL, token=token).json() == {"active": False}


def test_introspection_with_gateway_authentication_costs_at_most_two_queries(
        pw, live, registered, client, django_assert_max_num_queries):
    """The client, then the grant. The client's use (once a minute) and the grant's use (once
    per USAGE_RESOLUTION) are recorded on the first call."""
    _, token = live
    headers = {"HTTP_AUTHORIZATION": basic(*registered)}
    url = reverse("api-introspect")
    assert client.post(url, {"token": token}, **headers).json()["active"] is True
    for _ in range(3):
        with django_assert_max_num_queries(2):
            assert client.post(url, {"token": token}, **headers).json()["active"] is True
    with CaptureQueriesContext(connection) as queries:
        assert client.post(url, {"token": "frg_unknown"}, **headers).json() == {"active": False}
    assert len(queries) == 2


def test_a_gateway_clients_use_is_recorded_at_most_once_a_minute(pw, live, registered, client):
    _, token = live
    gateway_client, secret = registered
    assert gateway_client.last_used_at is None
    client.post(reverse("api-introspect"), {"token": token},
                HTTP_AUTHORIZATION=basic(gateway_client, secret))
    gateway_client.refresh_from_db()
    first = gateway_client.last_used_at
    assert first is not None
    client.post(reverse("api-introspect"), {"token": token},
                HTTP_AUTHORIZATION=basic(gateway_client, secret))
    gateway_client.refresh_from_db()
    assert gateway_client.last_used_at == first
    GatewayClient.objects.filter(pk=gateway_client.pk).update(
        last_used_at=first - timedelta(minutes=2))
    client.post(reverse("api-introspect"), {"token": token},
                HTTP_AUTHORIZATION=basic(gateway_client, secret))
    gateway_client.refresh_from_db()
    assert gateway_client.last_used_at > first
