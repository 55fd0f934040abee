"""The OpenAPI schema, the interactive docs (served without a CDN) and JSON errors."""

import re

import pytest
from django.contrib.staticfiles import finders
from drf_spectacular.generators import SchemaGenerator

from accounts.services import api_token_create

EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


@pytest.fixture(scope="module")
def schema():
    """The schema the endpoint serves, generated once: generation is the slow part."""
    return SchemaGenerator().get_schema(request=None, public=True)


def test_the_schema_endpoint_serves_an_openapi_3_document(world, client):
    client.force_login(world.owner)
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    served = response.json()
    assert served["openapi"].startswith("3.")
    for path in ("/api/v1/models/", "/api/v1/review-requests/{id}/submit/", "/api/v1/windows/"):
        assert path in served["paths"]


def test_the_schema_describes_the_program(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Frontier Review Portal API"
    assert "Nothing in this API is a licence" in schema["info"]["description"]


def test_the_schema_is_served_as_yaml_by_default(world, client):
    client.force_login(world.owner)
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert response.content.startswith(b"openapi: 3.")


@pytest.mark.parametrize("path", [
    "/api/v1/models/", "/api/v1/models/{id}/",
    "/api/v1/review-requests/", "/api/v1/review-requests/{id}/submit/",
    "/api/v1/review-requests/{id}/withdraw/", "/api/v1/review-requests/{id}/determine/",
    "/api/v1/review-requests/{id}/request-reconsideration/",
    "/api/v1/review-requests/{request_pk}/artifacts/",
    "/api/v1/windows/", "/api/v1/audit-events/",
])
def test_the_schema_documents_each_endpoint(schema, path):
    assert path in schema["paths"]


def test_the_submit_action_is_a_post(schema):
    assert "post" in schema["paths"]["/api/v1/review-requests/{id}/submit/"]


def test_ids_in_paths_are_documented_as_numbers(schema):
    params = schema["paths"]["/api/v1/review-requests/{request_pk}/artifacts/{id}/"]["get"][
        "parameters"]
    path_params = {p["name"]: p["schema"] for p in params if p["in"] == "path"}
    assert set(path_params) == {"id", "request_pk"}
    for param in path_params.values():
        # Either an integer, or a string constrained to digits (how regex routes come out).
        assert param["type"] == "integer" or param.get("pattern") == r"^\d+$", param


def test_the_schema_describes_the_bearer_token(schema):
    schemes = schema["components"]["securitySchemes"]
    assert schemes["apiToken"] == {**schemes["apiToken"], "type": "http", "scheme": "bearer"}
    models_get = schema["paths"]["/api/v1/models/"]["get"]
    assert {"apiToken": []} in models_get["security"]


def test_the_schema_names_each_choice_enum_after_its_model(schema):
    names = set(schema["components"]["schemas"])
    assert {"ArtifactKindEnum", "WindowKindEnum"} <= names
    assert not any(re.fullmatch(r"Kind[0-9a-f]{3}Enum", n) for n in names)


def test_the_docs_render_with_local_assets_only(world, client):
    client.force_login(world.owner)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert not EXTERNAL_URL.search(html), EXTERNAL_URL.search(html)
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "googleapis"):
        assert cdn not in html


def test_every_asset_the_docs_use_ships_with_the_static_files(world, client):
    client.force_login(world.owner)
    html = client.get("/api/v1/docs/").content.decode()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert len(assets) >= 3
    for asset in assets:
        assert finders.find(asset), asset


# --- errors are JSON -------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/models/999999/", "/api/v1/review-requests/999999/",
                                  "/api/v1/windows/999999/"])
def test_an_unknown_object_answers_404_json_with_a_detail(world, api, path):
    response = api.as_(world.owner).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_another_organisations_object_answers_the_same_404(world, api):
    response = api.as_(world.owner).get(f"/api/v1/models/{world.other_model.pk}/")
    assert response.status_code == 404
    assert response.json() == api.get("/api/v1/models/999999/").json()


def test_an_anonymous_caller_gets_a_json_401_or_403(world, api):
    response = api.as_(None).get("/api/v1/models/")
    assert response.status_code in (401, 403)
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_a_token_caller_gets_a_401_with_a_bearer_challenge(world, client):
    response = client.get("/api/v1/models/", HTTP_AUTHORIZATION="Bearer frp_wrong")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"]


def test_invalid_input_answers_400_json_with_the_field(world, api):
    response = api.as_(world.owner).post("/api/v1/models/", {"name": ""})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "name" in response.json()["errors"]
    assert "name" in response.json()["detail"]


def test_a_json_error_for_a_token_caller_too(world, client):
    _, key = api_token_create(user=world.owner, name="script")
    response = client.get("/api/v1/windows/999999/", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 404
    assert response.json()["detail"]


def test_an_unknown_api_path_answers_404_json(world, api):
    response = api.as_(world.owner).get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_the_schema_and_docs_are_not_served_to_anonymous_callers(world, api):
    api.as_(None)
    for url in ("/api/v1/schema/", "/api/v1/docs/"):
        assert api.get(url).status_code in (401, 403)
