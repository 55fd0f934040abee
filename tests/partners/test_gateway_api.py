"""/api/v1/gateway-clients/ and /api/v1/models/{id}/gateway/ as every role."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from partners import gateway
from partners.models import GatewayClient, ModelGateway
from tests.partners.test_gateway_pages import OTHER_ROLES, user_of

LIST = reverse("api-gateway-client-list")


def detail(c, what=""):
    return reverse(f"api-gateway-client-{what or 'detail'}", args=[c.pk])


@pytest.fixture
def registered(pw):
    return gateway.gateway_client_create(actor=pw.w.owner, name="Acme nginx")


def test_a_developer_creates_a_client_and_gets_its_secret_once(pw, api):
    response = api.as_(pw.w.owner).post(LIST, {"name": "Acme nginx"})
    assert response.status_code == 201 and response["Cache-Control"] == "no-store"
    body = response.json()
    made = GatewayClient.objects.get()
    assert body["client"]["client_id"] == made.client_id
    assert made.secret_hash == GatewayClient.hash_secret(body["client_secret"])
    assert AuditEvent.objects.filter(action="gateway_client.created").count() == 1
    listed = api.get(LIST).json()["results"]
    assert [c["client_id"] for c in listed] == [made.client_id]
    assert "secret_hash" not in listed[0] and "client_secret" not in listed[0]
    assert api.get(detail(made)).json()["status"] == "active"


def test_a_nameless_client_is_a_400_and_nothing_is_made(pw, api):
    assert api.as_(pw.w.owner).post(LIST, {"name": ""}).status_code == 400
    assert not GatewayClient.objects.exists()


def test_rotate_and_revoke_through_the_api(pw, api, registered):
    mine, old = registered
    response = api.as_(pw.w.colleague).post(detail(mine, "rotate"))
    assert response.status_code == 200
    new = response.json()["client_secret"]
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=old) is None
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=new)
    response = api.post(detail(mine, "revoke"))
    assert response.status_code == 200 and response.json()["status"] == "revoked"
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=new) is None
    assert AuditEvent.objects.filter(action__startswith="gateway_client.").count() == 3
    assert api.post(detail(mine, "rotate")).status_code == 409


def test_another_developer_organisation_gets_404s(pw, api, registered):
    mine, _ = registered
    api.as_(pw.w.outsider)
    assert api.get(LIST).json()["results"] == []
    for response in (api.get(detail(mine)), api.post(detail(mine, "rotate")),
                     api.post(detail(mine, "revoke"))):
        assert response.status_code == 404
    mine.refresh_from_db()
    assert mine.revoked_at is None and mine.rotated_at is None


@pytest.mark.parametrize("who", OTHER_ROLES)
def test_other_roles_see_no_clients_and_make_none(pw, api, registered, who):
    mine, _ = registered
    api.as_(user_of(pw, who))
    assert api.get(LIST).json()["results"] == []
    assert api.get(detail(mine)).status_code == 404
    assert api.post(LIST, {"name": "x"}).status_code == 403
    assert api.post(detail(mine, "revoke")).status_code == 404
    assert GatewayClient.objects.count() == 1


def test_anonymous_callers_get_401(pw, api, registered):
    mine, _ = registered
    api.as_(None)
    for response in (api.get(LIST), api.post(LIST, {"name": "x"}), api.get(detail(mine)),
                     api.post(detail(mine, "rotate")), api.post(detail(mine, "revoke")),
                     api.get(reverse("api-model-gateway", args=[pw.w.model.pk]))):
        assert response.status_code == 401


def test_the_list_costs_the_same_queries_for_many_clients(pw, api,
                                                          django_assert_max_num_queries):
    for n in range(12):
        gateway.gateway_client_create(actor=pw.w.owner, name=f"Gateway {n}")
    api.as_(pw.w.owner)
    with django_assert_max_num_queries(8):
        assert len(api.get(LIST).json()["results"]) == 12


def test_the_developer_puts_the_models_gateway_address(pw, client, api):
    url = reverse("api-model-gateway", args=[pw.w.model.pk])
    client.force_login(pw.w.owner)
    response = client.put(url, {"url": "https://gateway.acme.example/v1"},
                          content_type="application/json")
    assert response.status_code == 200
    assert response.json()["url"] == response.json()["address"] == \
        "https://gateway.acme.example/v1"
    assert ModelGateway.objects.get().url == "https://gateway.acme.example/v1"
    assert client.put(url, {"url": "ftp://x"}, content_type="application/json"
                      ).status_code == 400
    assert ModelGateway.objects.get().url == "https://gateway.acme.example/v1"
    assert client.put(url, {"url": ""}, content_type="application/json").json()["url"] is None
    assert not ModelGateway.objects.exists()


@pytest.mark.parametrize("who,code", [("outsider", 404), ("partner", 404), ("reviewer", 403),
                                      ("admin", 403)])
def test_only_the_developer_puts_the_address(pw, client, who, code):
    client.force_login(user_of(pw, who))
    response = client.put(reverse("api-model-gateway", args=[pw.w.model.pk]),
                          {"url": "https://evil.example/v1"}, content_type="application/json")
    assert response.status_code == code
    assert not ModelGateway.objects.exists()
