"""The check endpoint nginx's `auth_request` calls (GET /api/v1/gateway/check/): 204 with who
holds the token while the partner's grant is live for that model, 401 otherwise, decided at
request time (no beat job)."""

import pytest
from django.urls import reverse

from partners import gateway, services
from tests.partners.conftest import end_grant, make_live_grant
from tests.partners.test_gateway_introspection import basic

URL = reverse("api-gateway-check")


@pytest.fixture
def live(pw):
    grant = make_live_grant(pw)
    return services.grant_issue_token(grant=grant, actor=pw.w.partner)


@pytest.fixture
def registered(pw):
    return gateway.gateway_client_create(actor=pw.w.owner, name="Acme nginx")


def check(client, registered, *, token, model):
    return client.get(URL, {"model": model}, headers={
        "Authorization": basic(*registered), "X-Original-Authorization": f"Bearer {token}"})


def test_a_live_grant_passes_with_the_partner_named_in_headers(pw, live, registered, client):
    grant, token = live
    response = check(client, registered, token=token, model=grant.model_id)
    assert response.status_code == 204
    assert response["X-Portal-Subject"] == f"organisation:{grant.organisation_id}"
    assert response["X-Portal-Client"] == f"grant:{grant.pk}"
    assert int(response["X-Portal-Expires"]) == int(grant.ends_at.timestamp())
    assert response["Cache-Control"].startswith("max-age=")


@pytest.mark.parametrize("ending", ["ended", "revoked", "suspended"])
def test_access_that_ended_a_second_ago_is_refused_with_no_job_run(pw, live, registered, client,
                                                                   ending):
    grant, token = live
    if ending == "ended":
        end_grant(grant)
    elif ending == "revoked":
        services.grant_revoke(grant=grant, actor=pw.w.admin, reason="Misuse.")
    else:
        services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                    reason="Incident.")
    response = check(client, registered, token=token, model=grant.model_id)
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("model", ["other", "", "١"])
def test_another_model_or_a_malformed_one_is_refused(pw, live, registered, client, model):
    grant, token = live
    model = grant.model_id + 1000 if model == "other" else model
    assert check(client, registered, token=token, model=model).status_code == 401


def test_another_developers_gateway_is_refused_for_a_real_token(pw, live, client):
    grant, token = live
    other = gateway.gateway_client_create(actor=pw.w.outsider, name="Other gateway")
    assert check(client, other, token=token, model=grant.model_id).status_code == 401


def test_without_gateway_credentials_the_check_is_refused(pw, live, client):
    grant, token = live
    response = client.get(URL, {"model": grant.model_id},
                          headers={"X-Original-Authorization": f"Bearer {token}"})
    assert response.status_code == 401
