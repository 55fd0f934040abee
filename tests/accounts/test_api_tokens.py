"""Personal API tokens: created and revoked on /profile/, by `createapitoken`, used as Bearer."""

import hashlib
import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.authentication import ApiTokenAuthentication
from accounts.models import ApiToken
from accounts.services import api_token_create, api_token_revoke
from audit.models import AuditEvent
from review_portal.errors import ApplicationError

KEY_RE = re.compile(r"frp_[A-Za-z0-9_\-]{40,}")


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def create_on_profile(client, user, name="CI upload"):
    client.force_login(user)
    response = client.post("/profile/", {"name": name})
    client.logout()
    return response


# --- creating on the profile page ------------------------------------------------------------

def test_a_token_created_on_the_profile_is_shown_once_and_only_its_hash_is_stored(world, client):
    response = create_on_profile(client, world.owner)
    assert response.status_code == 200
    key = KEY_RE.search(response.content.decode()).group(0)

    token = ApiToken.objects.get(user=world.owner)
    assert token.name == "CI upload"
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.hint == key[:10] and len(token.hint) < len(key)
    assert token.revoked_at is None and token.last_used_at is None
    # The key itself is nowhere in the database: not in the token row, not in the audit trail.
    # Every column of every row, read raw (the same on PostgreSQL and SQLite).
    with connection.cursor() as cursor:
        for table in ("accounts_apitoken", "audit_auditevent"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - a fixed table name
            rows = cursor.fetchall()
            assert rows, table
            assert not any(key[10:] in str(value) for row in rows for value in row), table

    event = AuditEvent.objects.get(action="api_token.created")
    assert event.actor == world.owner
    assert event.object_type == "accounts.apitoken" and event.object_id == str(token.pk)
    assert event.data == {"name": "CI upload"}

    # Shown once: the profile lists the token by its hint, never the key again.
    client.force_login(world.owner)
    page = client.get("/profile/").content.decode()
    assert "CI upload" in page and token.hint in page
    assert key not in page


@pytest.mark.parametrize("name", ["", "   "])
def test_a_token_without_a_name_is_refused(world, client, name):
    response = create_on_profile(client, world.owner, name=name)
    assert response.status_code == 200
    assert response.context["form"].errors["name"]
    assert not KEY_RE.search(response.content.decode())
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="api_token.created").exists()


def test_the_service_refuses_a_blank_name_too(world):
    with pytest.raises(ApplicationError) as exc:
        api_token_create(user=world.owner, name="  ")
    assert exc.value.field == "name"
    assert not ApiToken.objects.exists()


def test_a_colleague_does_not_see_my_tokens(world, client):
    api_token_create(user=world.owner, name="owner's laptop")
    client.force_login(world.colleague)
    page = client.get("/profile/").content.decode()
    assert "owner&#x27;s laptop" not in page and "owner's laptop" not in page
    assert "No tokens." in page


def test_the_profile_needs_a_login(db, client):
    response = client.get("/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- using a token ---------------------------------------------------------------------------

def test_a_token_authenticates_api_calls_as_its_user(world, client):
    token, key = api_token_create(user=world.owner, name="script")
    response = client.get("/api/v1/models/", **bearer(key))
    assert response.status_code == 200
    names = [m["name"] for m in response.json()["results"]]
    assert names == [world.model.name]  # the owner's models, not the outsider's
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_records_its_use_at_most_once_a_minute(world, client):
    token, key = api_token_create(user=world.owner, name="script")
    client.get("/api/v1/models/", **bearer(key))
    token.refresh_from_db()
    first = token.last_used_at
    client.get("/api/v1/models/", **bearer(key))
    token.refresh_from_db()
    assert token.last_used_at == first  # a second call inside the minute writes nothing

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(seconds=61))
    client.get("/api/v1/models/", **bearer(key))
    token.refresh_from_db()
    assert token.last_used_at > first  # a minute later the use is recorded again


def test_a_token_that_was_used_recently_costs_one_query_to_authenticate(world, client):
    _, key = api_token_create(user=world.owner, name="script")
    client.get("/api/v1/models/", **bearer(key))
    request = RequestFactory().get("/api/v1/models/", **bearer(key))
    with CaptureQueriesContext(connection) as queries:
        user, _ = ApiTokenAuthentication().authenticate(request)
    assert user == world.owner
    assert len(queries) == 1, [q["sql"] for q in queries]


def test_a_token_is_not_a_session(world, client):
    _, key = api_token_create(user=world.owner, name="script")
    client.get("/api/v1/models/", **bearer(key))
    assert client.get("/api/v1/models/").status_code in (401, 403)
    assert client.get("/models/").status_code == 302


@pytest.mark.parametrize("header", [
    "Bearer", "Bearer ", "Bearer a b", "Bearer frp_not-a-real-token", "Bearer frp_ünïcode",
    "Basic Zm9vOmJhcg==", "Token abc", "bearer",
])
def test_a_malformed_or_unknown_authorization_header_is_refused_without_a_crash(
        world, client, header):
    response = client.get("/api/v1/models/", HTTP_AUTHORIZATION=header)
    assert response.status_code in (401, 403)
    assert "detail" in response.json()


def test_a_token_of_a_deactivated_user_is_refused(world, client):
    token, key = api_token_create(user=world.owner, name="script")
    world.owner.is_active = False
    world.owner.save(update_fields=["is_active"])
    assert client.get("/api/v1/models/", **bearer(key)).status_code == 401
    token.refresh_from_db()
    assert token.last_used_at is None


# --- revoking --------------------------------------------------------------------------------

def test_a_token_revoked_on_the_profile_stops_working(world, client):
    token, key = api_token_create(user=world.owner, name="script")
    assert client.get("/api/v1/models/", **bearer(key)).status_code == 200

    client.force_login(world.owner)
    response = client.post(f"/profile/tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/profile/"
    client.logout()

    token.refresh_from_db()
    assert token.revoked_at is not None
    assert client.get("/api/v1/models/", **bearer(key)).status_code in (401, 403)
    event = AuditEvent.objects.get(action="api_token.revoked")
    assert event.actor == world.owner and event.object_id == str(token.pk)


def test_revoking_twice_records_one_event(world):
    token, _ = api_token_create(user=world.owner, name="script")
    api_token_revoke(token=token, actor=world.owner)
    first = token.revoked_at
    api_token_revoke(token=token, actor=world.owner)
    token.refresh_from_db()
    assert token.revoked_at == first
    assert AuditEvent.objects.filter(action="api_token.revoked").count() == 1


@pytest.mark.parametrize("actor", ["colleague", "outsider", "admin"])
def test_another_users_token_cannot_be_revoked(world, client, actor):
    token, key = api_token_create(user=world.owner, name="script")
    client.force_login(getattr(world, actor))
    response = client.post(f"/profile/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert not AuditEvent.objects.filter(action="api_token.revoked").exists()


def test_revoking_needs_a_post_and_a_login(world, client):
    token, _ = api_token_create(user=world.owner, name="script")
    assert client.post(f"/profile/tokens/{token.pk}/revoke/")["Location"].startswith(
        "/accounts/login/")
    client.force_login(world.owner)
    assert client.get(f"/profile/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


# --- the management command ------------------------------------------------------------------

def test_createapitoken_prints_a_working_token(world, client):
    out = StringIO()
    call_command("createapitoken", "owner", "--name", "deploy bot", stdout=out)
    key = out.getvalue().strip()
    assert KEY_RE.fullmatch(key)
    token = ApiToken.objects.get(user=world.owner)
    assert token.name == "deploy bot"
    assert token.key_hash == ApiToken.hash_key(key)
    assert client.get("/api/v1/models/", **bearer(key)).status_code == 200
    assert AuditEvent.objects.filter(action="api_token.created", actor=world.owner).exists()


def test_createapitoken_refuses_an_unknown_user(db):
    with pytest.raises(CommandError, match="nobody"):
        call_command("createapitoken", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_createapitoken_refuses_a_deactivated_user(world):
    world.colleague.is_active = False
    world.colleague.save(update_fields=["is_active"])
    with pytest.raises(CommandError):
        call_command("createapitoken", "colleague", stdout=StringIO())
    assert not ApiToken.objects.exists()
