"""Client addresses, API throttles and login limits.

- The client's address is REMOTE_ADDR unless TRUSTED_PROXY_COUNT says how many proxies are ours;
  a spoofed X-Forwarded-For is ignored with 0 and honoured (its last N-th entry) with N.
- API throttles count per token, per user and (anonymous) per address, in the shared cache;
  a throttled call is a 429 JSON with Retry-After, and nobody else is slowed down.
- One client's failed logins do not lock other users out, even when everyone comes through
  the same proxy address; the attacked account itself is locked (per-account limit).
"""

import json
import time

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache
from django.test import RequestFactory, override_settings
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.services import api_token_create
from review_portal.client_ip import client_ip

PASSWORD = "correct horse battery staple"
PROXY = "10.0.0.2"


@pytest.fixture(autouse=True)
def _clean_counts():
    cache.clear()
    yield
    cache.clear()


def rates(user="1000/hour", anon="1000/hour"):
    from django.conf import settings

    return override_settings(REST_FRAMEWORK={
        **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": user, "anon": anon}})


# --- the client's address ---------------------------------------------------------------------

def request_from(remote="198.51.100.7", **headers):
    return RequestFactory().get("/", REMOTE_ADDR=remote, headers=headers)


def test_with_no_trusted_proxy_the_address_is_remote_addr_and_x_forwarded_for_is_ignored():
    with override_settings(TRUSTED_PROXY_COUNT=0):
        assert client_ip(request_from(**{"X-Forwarded-For": "203.0.113.9"})) == "198.51.100.7"


def test_with_one_trusted_proxy_the_last_forwarded_address_is_the_client():
    with override_settings(TRUSTED_PROXY_COUNT=1):
        # The client sent "1.2.3.4" itself; our proxy appended the address it saw.
        request = request_from(PROXY, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.9"})
        assert client_ip(request) == "203.0.113.9"


def test_with_two_trusted_proxies_the_second_from_the_right_is_the_client():
    with override_settings(TRUSTED_PROXY_COUNT=2):
        request = request_from(PROXY, **{"X-Forwarded-For": "1.2.3.4, 203.0.113.9, 10.0.0.3"})
        assert client_ip(request) == "203.0.113.9"
        # A request that skipped the outer proxy: never a 500, the furthest recorded address.
        assert client_ip(request_from(PROXY, **{"X-Forwarded-For": "203.0.113.5"})) == \
            "203.0.113.5"


@pytest.mark.parametrize("header", ["", "not-an-address", "999.1.1.1", " , "])
def test_a_garbage_x_forwarded_for_falls_back_to_remote_addr(header):
    with override_settings(TRUSTED_PROXY_COUNT=1):
        assert client_ip(request_from(PROXY, **{"X-Forwarded-For": header})) == PROXY


def test_a_trusted_client_ip_header_names_the_client():
    with override_settings(TRUSTED_CLIENT_IP_HEADER="X-Real-IP", TRUSTED_PROXY_COUNT=0):
        assert client_ip(request_from(PROXY, **{"X-Real-IP": "2001:db8::1"})) == "2001:db8::1"
        assert client_ip(request_from(PROXY)) == PROXY


# --- API throttles ----------------------------------------------------------------------------

def get_with_token(client, key, path="/api/v1/models/"):
    return client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}")


def assert_throttled(response):
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    assert int(response["Retry-After"]) > 0
    assert "throttled" in json.loads(response.content)["detail"]


def test_a_token_past_its_rate_gets_429_json_and_other_tokens_and_users_do_not(world, client):
    _, mine = api_token_create(user=world.owner, name="ci")
    _, my_other = api_token_create(user=world.owner, name="laptop")
    _, theirs = api_token_create(user=world.colleague, name="ci")
    with rates(user="3/hour"):
        for _ in range(3):
            assert get_with_token(client, mine).status_code == 200
        assert_throttled(get_with_token(client, mine))
        assert get_with_token(client, my_other).status_code == 200
        assert get_with_token(client, theirs).status_code == 200
        client.force_login(world.owner)  # the pages' own calls: per user, not per token
        assert client.get("/api/v1/models/").status_code == 200


def test_a_throttled_token_may_call_again_once_its_window_renews(world, client):
    _, key = api_token_create(user=world.owner, name="ci")
    with rates(user="2/s"):
        for _ in range(5):  # two windows hold at most 4 calls
            response = get_with_token(client, key)
            if response.status_code == 429:
                break
        assert_throttled(response)
        assert int(response["Retry-After"]) == 1
        time.sleep(1.05)
        assert get_with_token(client, key).status_code == 200


def test_a_signed_in_user_past_the_rate_gets_429_and_another_user_does_not(world, client):
    with rates(user="2/hour"):
        client.force_login(world.owner)
        for _ in range(2):
            assert client.get("/api/v1/models/").status_code == 200
        assert_throttled(client.get("/api/v1/models/"))
        client.force_login(world.colleague)
        assert client.get("/api/v1/models/").status_code == 200


class OpenView(APIView):
    """An endpoint anyone may call. The portal's own endpoints all refuse anonymous callers with
    401/403 before throttles run (DRF checks permissions first); the anonymous throttle guards
    any endpoint that lets them through."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


def call_open(remote, forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = APIRequestFactory().get("/api/v1/open/", REMOTE_ADDR=remote, headers=headers)
    response = OpenView.as_view()(request)
    response.render()
    return response


def test_anonymous_callers_are_throttled_per_address_and_x_forwarded_for_is_ignored(db):
    with rates(anon="3/hour"), override_settings(TRUSTED_PROXY_COUNT=0):
        for n in range(3):  # a new spoofed address each time makes no difference
            assert call_open("198.51.100.7", f"203.0.113.{n}").status_code == 200
        assert_throttled(call_open("198.51.100.7", "203.0.113.99"))
        assert call_open("198.51.100.8").status_code == 200


def test_behind_one_trusted_proxy_anonymous_callers_are_throttled_per_forwarded_address(db):
    with rates(anon="3/hour"), override_settings(TRUSTED_PROXY_COUNT=1):
        for _ in range(3):
            assert call_open(PROXY, "203.0.113.9").status_code == 200
        assert_throttled(call_open(PROXY, "203.0.113.9"))
        # Another client behind the same proxy is not slowed down.
        assert call_open(PROXY, "203.0.113.10").status_code == 200


def test_anonymous_calls_to_the_portals_endpoints_are_refused_before_any_throttle(db, client):
    with rates(anon="1/hour"):
        for _ in range(3):
            response = client.get("/api/v1/models/")
            assert response.status_code in (401, 403)
            assert response["Content-Type"] == "application/json"


def test_the_probes_are_never_throttled(db, client):
    with rates(anon="1/hour"):
        for _ in range(3):
            assert client.get("/healthz").status_code == 200


# --- login limits -----------------------------------------------------------------------------

def login(client, username, password=PASSWORD, remote=PROXY, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    client.cookies.clear()
    response = client.post("/accounts/login/", {"login": username, "password": password},
                           **extra)
    return response, SESSION_KEY in client.session


@pytest.mark.parametrize("proxy_count", [0, 1])
def test_one_clients_40_failed_logins_through_the_proxy_do_not_lock_other_users_out(
        world, client, proxy_count):
    with override_settings(TRUSTED_PROXY_COUNT=proxy_count):
        for _ in range(40):
            response, ok = login(client, "owner", "not the password", forwarded="203.0.113.9")
            assert not ok and response.status_code in (200, 429)
        response, ok = login(client, "colleague", forwarded="198.51.100.20")
        assert ok, response.status_code
        response, ok = login(client, "outsider", forwarded="198.51.100.21")
        assert ok, response.status_code


def test_the_attacked_account_is_locked_after_5_failures_whatever_the_address(world, client):
    for n in range(5):
        login(client, "owner", "not the password", remote=f"203.0.113.{n}")
    response, ok = login(client, "owner", remote="198.51.100.30")
    assert not ok
    assert "too many" in response.content.decode().lower()


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/m/ip"})
def test_a_spoofed_x_forwarded_for_does_not_escape_the_per_address_login_limit(world, client):
    with override_settings(TRUSTED_PROXY_COUNT=0):
        for n, user in enumerate(["owner", "colleague", "outsider"]):
            login(client, user, "not the password", remote="198.51.100.7",
                  forwarded=f"203.0.113.{n}")
        _, ok = login(client, "partner", remote="198.51.100.7", forwarded="203.0.113.50")
        assert not ok  # the address is still 198.51.100.7, which used its failures


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "3/m/ip"})
def test_behind_a_trusted_proxy_the_login_limit_counts_the_forwarded_client(world, client):
    with override_settings(TRUSTED_PROXY_COUNT=1):
        for user in ["owner", "colleague", "outsider"]:
            login(client, user, "not the password", forwarded="203.0.113.9")
        _, ok = login(client, "partner", forwarded="203.0.113.9")
        assert not ok
        _, ok = login(client, "partner", forwarded="198.51.100.40")
        assert ok
