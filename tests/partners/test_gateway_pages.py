"""The developer's model gateway pages (register, rotate, revoke a gateway client; publish a
model's gateway address) and what the partner's granted-model page says about the address."""

import pytest
from django.test import override_settings
from django.urls import reverse

from accounts.models import Organisation
from audit.models import AuditEvent
from partners import gateway, services
from partners.models import GatewayClient, ModelGateway
from tests.factories import OrganisationFactory, UserFactory
from tests.partners.conftest import make_live_grant
from tests.partners.test_gateway_introspection import basic

LIST = reverse("gateway_client_list")
CHECK = reverse("api-gateway-check")
OTHER_ROLES = ["reviewer", "admin", "partner", "vendor", "operator"]


def user_of(pw, who):
    """Every role there is: the world's cast, and a vendor and an operator of the
    clearinghouse."""
    if who in ("vendor", "operator"):
        org = OrganisationFactory(name=f"A {who}", kind=getattr(Organisation.Kind, who.upper()))
        return UserFactory(username=who, organisation=org)
    return getattr(pw.w, who)


@pytest.fixture
def registered(pw):
    return gateway.gateway_client_create(actor=pw.w.owner, name="Acme nginx")


def as_(client, user):
    client.force_login(user)
    return client


def rotate_url(c):
    return reverse("gateway_client_rotate", args=[c.pk])


def revoke_url(c):
    return reverse("gateway_client_revoke", args=[c.pk])


def address_url(model):
    return reverse("gateway_address_edit", args=[model.pk])


# --- the list and registering ------------------------------------------------------------------

def test_a_developer_registers_a_gateway_and_sees_its_secret_once(pw, client):
    response = as_(client, pw.w.owner).post(LIST, {"name": "Acme nginx"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    made = GatewayClient.objects.get()
    assert made.organisation == pw.w.acme and made.created_by == pw.w.owner
    html = response.content.decode()
    secret = html.split('<dt>Client secret</dt><dd><code class="token">')[1].split("<")[0]
    assert secret.startswith("gws_") and made.client_id in html
    assert "cannot be shown again" in html
    # Only the hash is stored; the secret is in no row, no audit event and no message.
    assert made.secret_hash == GatewayClient.hash_secret(secret) and secret not in made.secret_hash
    event = AuditEvent.objects.get(action="gateway_client.created")
    assert event.actor == pw.w.owner and secret not in str(event.data)
    page = client.get(LIST).content.decode()
    assert secret not in page and made.client_id in page
    assert made.secret_hash not in page
    assert gateway.gateway_client_authenticate(client_id=made.client_id, secret=secret) == made


def test_a_gateway_without_a_name_is_refused_on_the_form_and_nothing_is_made(pw, client):
    response = as_(client, pw.w.owner).post(LIST, {"name": "  "})
    assert response.status_code == 200
    assert "Name the gateway" in response.content.decode()
    assert not GatewayClient.objects.exists()
    assert not AuditEvent.objects.filter(action="gateway_client.created").exists()


def test_the_list_shows_the_organisations_clients_without_secrets(pw, client, registered):
    mine, secret = registered
    gateway.gateway_client_revoke(client=gateway.gateway_client_create(
        actor=pw.w.colleague, name="Old gateway")[0], actor=pw.w.colleague)
    theirs, _ = gateway.gateway_client_create(actor=pw.w.outsider, name="Other gateway")
    html = as_(client, pw.w.colleague).get(LIST).content.decode()
    assert "Acme nginx" in html and mine.client_id in html and "Old gateway" in html
    assert "Revoked" in html and "Active" in html and "never" in html
    assert theirs.client_id not in html and "Other gateway" not in html
    assert secret not in html and mine.secret_hash not in html
    assert f'action="{rotate_url(mine)}"' in html and f'action="{revoke_url(mine)}"' in html


def test_the_list_costs_the_same_queries_for_many_clients(pw, client,
                                                          django_assert_max_num_queries):
    for n in range(12):
        gateway.gateway_client_create(actor=pw.w.owner, name=f"Gateway {n}")
    as_(client, pw.w.owner)
    with django_assert_max_num_queries(14):
        assert client.get(LIST).status_code == 200


@pytest.mark.parametrize("who", OTHER_ROLES)
def test_the_gateway_pages_are_not_there_for_anyone_but_a_developer(pw, client, registered, who):
    as_(client, user_of(pw, who))
    mine, _ = registered
    assert client.get(LIST).status_code == 404
    assert client.post(LIST, {"name": "Sneaky"}).status_code == 404
    assert client.post(rotate_url(mine), {"confirm": "yes"}).status_code == 404
    assert client.post(revoke_url(mine), {"confirm": "yes"}).status_code == 404
    assert GatewayClient.objects.count() == 1
    assert GatewayClient.objects.get().revoked_at is None


def test_the_gateway_pages_send_anonymous_visitors_to_sign_in(pw, client, registered):
    mine, _ = registered
    for response in (client.get(LIST), client.post(LIST, {"name": "x"}),
                     client.post(rotate_url(mine)), client.post(revoke_url(mine)),
                     client.get(address_url(pw.w.model))):
        assert response.status_code == 302 and "login" in response["Location"]
    assert GatewayClient.objects.count() == 1


def test_another_developer_organisation_finds_no_such_client(pw, client, registered):
    mine, secret = registered
    as_(client, pw.w.outsider)
    assert client.get(LIST).status_code == 200
    assert client.post(rotate_url(mine), {"confirm": "yes"}).status_code == 404
    assert client.post(revoke_url(mine), {"confirm": "yes"}).status_code == 404
    mine.refresh_from_db()
    assert mine.revoked_at is None and mine.rotated_at is None
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=secret)


def test_the_nav_leads_a_developer_to_the_gateways(pw, client):
    html = as_(client, pw.w.owner).get(reverse("profile")).content.decode()
    assert f'href="{LIST}"' in html
    html = as_(client, pw.w.partner).get(reverse("profile")).content.decode()
    assert f'href="{LIST}"' not in html


# --- rotating and revoking ----------------------------------------------------------------------

def test_rotating_shows_the_new_secret_once_and_the_old_one_stops_working(pw, client, registered):
    mine, old = registered
    response = as_(client, pw.w.colleague).post(rotate_url(mine), {"confirm": "yes"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    new = html.split('<dt>Client secret</dt><dd><code class="token">')[1].split("<")[0]
    assert new != old and "the previous secret has stopped working" in html
    mine.refresh_from_db()
    assert mine.secret_hash == GatewayClient.hash_secret(new) and mine.rotated_at is not None
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=old) is None
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=new) == mine
    assert AuditEvent.objects.filter(action="gateway_client.rotated",
                                     actor=pw.w.colleague).count() == 1
    assert new not in client.get(LIST).content.decode()


def test_rotating_asks_for_confirmation_first_and_the_old_secret_works_until_then(
        pw, client, registered):
    mine, old = registered
    response = as_(client, pw.w.owner).post(rotate_url(mine))
    html = response.content.decode()
    assert response.status_code == 200 and "Confirm: Rotate the secret" in html
    assert 'name="confirm" value="yes"' in html and "Client secret" not in html
    mine.refresh_from_db()
    assert mine.rotated_at is None
    assert gateway.gateway_client_authenticate(client_id=mine.client_id, secret=old) == mine
    assert not AuditEvent.objects.filter(action="gateway_client.rotated").exists()


def test_revoking_asks_for_confirmation_first_and_changes_nothing_until_then(pw, client,
                                                                             registered):
    mine, _ = registered
    response = as_(client, pw.w.owner).post(revoke_url(mine))
    html = response.content.decode()
    assert response.status_code == 200 and "Confirm: Revoke the gateway" in html
    assert 'name="confirm" value="yes"' in html
    mine.refresh_from_db()
    assert mine.revoked_at is None
    assert not AuditEvent.objects.filter(action="gateway_client.revoked").exists()


def test_a_revoked_client_is_refused_by_the_gateway_check(pw, client, registered):
    mine, secret = registered
    grant = make_live_grant(pw)
    _, token = services.grant_issue_token(grant=grant, actor=pw.w.partner)

    def check():
        client.logout()
        return client.get(CHECK, {"model": grant.model_id}, headers={
            "Authorization": basic(mine, secret), "X-Original-Authorization": f"Bearer {token}"})

    assert check().status_code == 204
    response = as_(client, pw.w.owner).post(revoke_url(mine), {"confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == LIST
    mine.refresh_from_db()
    assert mine.revoked_at is not None and mine.revoked_by == pw.w.owner
    assert AuditEvent.objects.filter(action="gateway_client.revoked", actor=pw.w.owner).exists()
    assert check().status_code == 401
    # A revoked client is history: no more actions on it.
    html = as_(client, pw.w.owner).get(LIST).content.decode()
    assert f'action="{rotate_url(mine)}"' not in html and "Revoked" in html
    response = client.post(rotate_url(mine), {"confirm": "yes"}, follow=True)
    assert "revoked already" in response.content.decode()
    assert AuditEvent.objects.filter(action="gateway_client.rotated").count() == 0


# --- the published address ----------------------------------------------------------------------

def test_a_developer_publishes_and_withdraws_a_models_gateway_address(pw, client):
    url = "https://gateway.acme.example/v1"
    as_(client, pw.w.owner)
    assert client.get(address_url(pw.w.model)).status_code == 200
    response = client.post(address_url(pw.w.model), {"url": url})
    assert response.status_code == 302
    published = ModelGateway.objects.get(model=pw.w.model)
    assert published.url == url and published.published_by == pw.w.owner
    assert AuditEvent.objects.filter(action="model.gateway_published").count() == 1
    html = client.get(LIST).content.decode()
    assert url in html
    client.post(address_url(pw.w.model), {"url": ""})
    assert not ModelGateway.objects.exists()
    assert AuditEvent.objects.filter(action="model.gateway_withdrawn").count() == 1


@pytest.mark.parametrize("url", ["gateway.example.com", "ftp://gateway.example.com",
                                 "javascript:alert(1)", "https://"])
def test_an_address_that_is_not_http_is_refused_on_the_form(pw, client, url):
    response = as_(client, pw.w.owner).post(address_url(pw.w.model), {"url": url})
    assert response.status_code == 200
    assert "http(s) address" in response.content.decode()
    assert not ModelGateway.objects.exists()
    assert not AuditEvent.objects.filter(action="model.gateway_published").exists()


@pytest.mark.parametrize("who,code", [("outsider", 404), ("partner", 404), ("vendor", 404),
                                      ("operator", 404), ("reviewer", 403), ("admin", 403)])
def test_only_the_models_developer_sets_its_address(pw, client, who, code):
    as_(client, user_of(pw, who))
    assert client.get(address_url(pw.w.model)).status_code == code
    assert client.post(address_url(pw.w.model),
                       {"url": "https://evil.example/v1"}).status_code == code
    assert not ModelGateway.objects.exists()


# --- what the partner sees ----------------------------------------------------------------------

@override_settings(GATEWAY_URL="https://reference.portal.example/v1")
def test_the_partner_sees_the_published_address_and_how_to_call_it(pw, client):
    grant = make_live_grant(pw)
    gateway.gateway_address_set(model=pw.w.model, actor=pw.w.owner,
                                url="https://gateway.acme.example/v1")
    html = as_(client, pw.w.partner).get(reverse("grant_detail", args=[grant.pk])).content
    html = html.decode()
    assert "https://gateway.acme.example/v1" in html
    assert "OpenAI-compatible client" in html
    assert 'base_url="https://gateway.acme.example/v1"' in html
    assert "api_key=&lt;your portal token&gt;" in html
    assert "https://reference.portal.example/v1" not in html


@override_settings(GATEWAY_URL="https://reference.portal.example/v1")
def test_the_partner_is_told_when_no_address_is_published(pw, client):
    grant = make_live_grant(pw)
    html = as_(client, pw.w.partner).get(reverse("grant_detail", args=[grant.pk])).content
    html = html.decode()
    assert "has not published a gateway address for this model" in html
    assert "https://reference.portal.example/v1" in html
