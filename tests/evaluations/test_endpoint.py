"""The model under test: its developers set the evaluation endpoint (simulated or an
OpenAI-compatible API); the API key is encrypted at rest, write-only, never audited."""

import json

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import PermissionDenied
from django.db import connection

from audit.models import AuditEvent
from evaluations import services
from evaluations.models import EvaluationEndpoint
from review_portal import crypto
from review_portal.errors import ApplicationError
from tests.conftest import bring_to

KEY = "sk-live-endpoint-key-4c1e88d2"
URL = "https://models.example.com/v1"


def openai(world, actor=None, **overrides):
    fields = {"kind": "openai_compatible", "model_name": "atlas-1", "base_url": URL,
              "api_key": KEY, **overrides}
    return services.endpoint_set(model=world.model, actor=actor or world.owner, **fields)


def put(client, world, body, user=None):
    client.force_login(user or world.owner)
    return client.put(f"/api/v1/models/{world.model.pk}/endpoint/", json.dumps(body),
                      content_type="application/json")


def stored_column(endpoint) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {EvaluationEndpoint._meta.db_table} WHERE id = %s",
                       [endpoint.pk])
        return repr(cursor.fetchone())


# --- the service ----------------------------------------------------------------------------

def test_the_api_key_is_stored_encrypted_and_decrypts_back(world):
    endpoint = openai(world)
    assert KEY not in stored_column(endpoint)
    assert endpoint.has_api_key
    assert crypto.decrypt_bytes(endpoint.api_key_encrypted.encode()).decode() == KEY
    spec = services.endpoint_model_spec(endpoint)
    assert spec.model == "openai-api/portal/atlas-1" and spec.base_url == URL
    assert KEY not in spec.identity


def test_an_omitted_key_keeps_the_stored_one(world):
    first = openai(world)
    token = first.api_key_encrypted
    again = openai(world, api_key=None, model_name="atlas-2")
    assert again.pk == first.pk and again.model_name == "atlas-2"
    assert again.api_key_encrypted == token
    rotated = openai(world, api_key="sk-new-key")
    assert crypto.decrypt_bytes(rotated.api_key_encrypted.encode()) == b"sk-new-key"


def test_a_simulated_endpoint_records_its_levels_and_drops_any_key(world):
    openai(world)
    endpoint = services.endpoint_set(
        model=world.model, actor=world.colleague, kind="simulated", model_name=" atlas-sim ",
        base_url=URL, simulated_levels={"defense": 1, "exploit_development": 0.25},
        simulated_latency_ms=20)
    endpoint.refresh_from_db()
    assert (endpoint.kind, endpoint.model_name, endpoint.base_url) == ("simulated", "atlas-sim",
                                                                       "")
    assert endpoint.simulated_levels == {"defense": 1.0, "exploit_development": 0.25}
    assert endpoint.simulated_latency_ms == 20
    assert endpoint.api_key_encrypted == "" and endpoint.updated_by == world.colleague
    assert EvaluationEndpoint.objects.count() == 1


@pytest.mark.parametrize("fields,field,message", [
    ({"base_url": "ftp://models.example.com"}, "base_url", "base URL"),
    ({"base_url": ""}, "base_url", "base URL"),
    ({"api_key": None}, "api_key", "API key"),
    ({"api_key": ""}, "api_key", "API key"),
    ({"model_name": "  "}, "model_name", "model's name"),
    ({"kind": "carrier_pigeon"}, "kind", "kind of endpoint"),
    ({"kind": "simulated", "simulated_levels": {"cooking": 0.5}}, "simulated_levels",
     "Unknown capability category 'cooking'"),
    ({"kind": "simulated", "simulated_levels": {"defense": 1.5}}, "simulated_levels",
     "from 0 to 1"),
    ({"kind": "simulated", "simulated_levels": {"defense": -0.1}}, "simulated_levels",
     "from 0 to 1"),
    ({"kind": "simulated", "simulated_levels": {"defense": "high"}}, "simulated_levels",
     "from 0 to 1"),
])
def test_a_bad_endpoint_is_refused_and_nothing_is_written(world, fields, field, message):
    with pytest.raises(ApplicationError) as exc:
        openai(world, **fields)
    assert exc.value.field == field and message in exc.value.message
    assert not EvaluationEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="endpoint.set").exists()


def test_a_failed_change_leaves_the_stored_endpoint_as_it_was(world):
    endpoint = openai(world)
    with pytest.raises(ApplicationError):
        openai(world, base_url="gopher://x", model_name="changed")
    endpoint.refresh_from_db()
    assert endpoint.model_name == "atlas-1" and endpoint.base_url == URL


@pytest.mark.parametrize("actor", ["outsider", "reviewer", "admin", "partner"])
def test_only_the_models_developers_set_its_endpoint(world, actor):
    bring_to(world, "in_review")
    with pytest.raises(PermissionDenied):
        openai(world, actor=world.actors()[actor])
    assert not EvaluationEndpoint.objects.exists()


def test_setting_the_endpoint_is_audited_without_the_key(world):
    endpoint = openai(world)
    openai(world, api_key=None)
    events = AuditEvent.objects.filter(action="endpoint.set").order_by("id")
    assert [e.data["api_key_changed"] for e in events] == [True, False]
    first = events[0]
    assert first.actor == world.owner and first.organisation == world.acme
    assert first.object_id == str(endpoint.pk)
    assert first.data == {"kind": "openai_compatible", "model_name": "atlas-1", "base_url": URL,
                          "api_key_changed": True}
    assert not AuditEvent.objects.filter(data__icontains=KEY).exists()
    assert all(KEY not in e.object_label for e in events)


def test_a_key_encrypted_before_a_rotation_still_decrypts_and_can_be_re_encrypted(
        world, settings):
    old = settings.PORTAL_ENCRYPTION_KEYS[0]
    endpoint = openai(world)
    token = endpoint.api_key_encrypted.encode()

    new = Fernet.generate_key().decode()
    settings.PORTAL_ENCRYPTION_KEYS = [new, old]
    assert crypto.decrypt_bytes(token) == KEY.encode()
    assert services.endpoint_model_spec(endpoint).model_args["api_key"] == KEY
    rotated = crypto.rotate_bytes(token)
    assert Fernet(new.encode()).decrypt(rotated) == KEY.encode()

    settings.PORTAL_ENCRYPTION_KEYS = [new]
    assert crypto.decrypt_bytes(rotated) == KEY.encode()
    with pytest.raises(InvalidToken):
        crypto.decrypt_bytes(token)


# --- the API --------------------------------------------------------------------------------

def test_a_developer_sets_an_openai_endpoint_through_the_api_and_never_gets_the_key_back(
        client, world):
    response = put(client, world, {"kind": "openai_compatible", "base_url": URL,
                                   "model_name": "atlas-1", "api_key": KEY})
    assert response.status_code == 200, response.content
    body = response.json()
    assert "api_key" not in body and body["has_api_key"] is True
    assert KEY not in response.content.decode()
    endpoint = EvaluationEndpoint.objects.get(model=world.model)
    assert crypto.decrypt_bytes(endpoint.api_key_encrypted.encode()).decode() == KEY
    got = client.get(f"/api/v1/models/{world.model.pk}/endpoint/")
    assert got.status_code == 200
    assert "api_key" not in got.json() and got.json()["base_url"] == URL
    assert KEY not in got.content.decode()


def test_a_put_without_a_key_keeps_the_stored_key(client, world):
    token = openai(world).api_key_encrypted
    response = put(client, world, {"kind": "openai_compatible", "base_url": URL,
                                   "model_name": "atlas-2"}, user=world.colleague)
    assert response.status_code == 200, response.content
    endpoint = EvaluationEndpoint.objects.get()
    assert endpoint.model_name == "atlas-2" and endpoint.api_key_encrypted == token


def test_a_developer_sets_a_simulated_endpoint_through_the_api(client, world):
    response = put(client, world, {"kind": "simulated", "model_name": "atlas-sim",
                                   "simulated_levels": {"defense": 0.9},
                                   "simulated_latency_ms": 5})
    assert response.status_code == 200, response.content
    assert response.json()["simulated_levels"] == {"defense": 0.9}
    endpoint = EvaluationEndpoint.objects.get()
    assert endpoint.kind == "simulated" and endpoint.simulated_latency_ms == 5


@pytest.mark.parametrize("body,fragment", [
    ({"kind": "openai_compatible", "base_url": "not a url", "model_name": "m", "api_key": "k"},
     "base_url"),
    ({"kind": "openai_compatible", "base_url": URL, "model_name": "m"}, "API key"),
    ({"kind": "simulated", "model_name": "m", "simulated_levels": {"cooking": 1}},
     "Unknown capability"),
    ({"kind": "simulated", "model_name": "m", "simulated_levels": {"defense": 2}}, "0 to 1"),
    ({"kind": "telepathy", "model_name": "m"}, "kind"),
])
def test_the_api_refuses_a_bad_endpoint_with_a_clear_error(client, world, body, fragment):
    response = put(client, world, body)
    assert response.status_code == 400
    assert fragment in response.json()["detail"]
    assert not EvaluationEndpoint.objects.exists()


@pytest.mark.parametrize("actor,expected", [
    ("colleague", 200), ("outsider", 404), ("reviewer", 403), ("reviewer2", 404),
    ("admin", 403), ("partner", 404),
])
def test_only_the_models_developers_put_the_endpoint(client, world, actor, expected):
    bring_to(world, "in_review")
    response = put(client, world, {"kind": "simulated", "model_name": "atlas-sim"},
                   user=world.actors()[actor])
    assert response.status_code == expected
    assert EvaluationEndpoint.objects.exists() == (expected == 200)
    assert AuditEvent.objects.filter(action="endpoint.set").count() == (expected == 200)


# --- the page -------------------------------------------------------------------------------

def _page_form(**overrides):
    return {"kind": "openai_compatible", "base_url": URL, "model_name": "atlas-1",
            "api_key": KEY, "simulated_latency_ms": "0", **overrides}


def test_a_developer_sets_the_endpoint_on_its_page_and_the_key_is_never_rendered(client, world):
    client.force_login(world.owner)
    url = f"/models/{world.model.pk}/endpoint/"
    response = client.post(url, _page_form())
    assert response.status_code == 302 and response["Location"] == f"/models/{world.model.pk}/"
    endpoint = EvaluationEndpoint.objects.get()
    assert crypto.decrypt_bytes(endpoint.api_key_encrypted.encode()).decode() == KEY
    page = client.get(url)
    assert page.status_code == 200
    assert KEY not in page.content.decode() and "A key is set." in page.content.decode()
    # An empty key field keeps the stored key.
    assert client.post(url, _page_form(api_key="", model_name="atlas-2")).status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.model_name == "atlas-2"
    assert crypto.decrypt_bytes(endpoint.api_key_encrypted.encode()).decode() == KEY


def test_a_developer_chooses_the_simulated_model_on_the_page(client, world):
    client.force_login(world.colleague)
    response = client.post(f"/models/{world.model.pk}/endpoint/", _page_form(
        kind="simulated", base_url="", api_key="", model_name="atlas-sim",
        level_defense="0.9", level_attack_automation="0.2"))
    assert response.status_code == 302
    endpoint = EvaluationEndpoint.objects.get()
    assert endpoint.simulated_levels == {"defense": 0.9, "attack_automation": 0.2}


def test_the_page_shows_the_services_refusal_on_the_form(client, world):
    client.force_login(world.owner)
    response = client.post(f"/models/{world.model.pk}/endpoint/", _page_form(api_key=""))
    assert response.status_code == 200
    assert "Give the API key" in response.content.decode()
    assert not EvaluationEndpoint.objects.exists()


@pytest.mark.parametrize("actor,expected", [
    ("colleague", 302), ("outsider", 404), ("reviewer", 403), ("reviewer2", 404),
    ("admin", 403), ("partner", 404),
])
def test_only_the_models_developers_post_the_endpoint_page(client, world, actor, expected):
    bring_to(world, "in_review")
    client.force_login(world.actors()[actor])
    response = client.post(f"/models/{world.model.pk}/endpoint/", _page_form())
    assert response.status_code == expected
    assert EvaluationEndpoint.objects.exists() == (expected == 302)
