"""Every partner page and endpoint per actor. A forbidden object answers 404."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from partners.models import AccessGrant, AccessRequest
from tests.partners.conftest import approve_both, end_grant, make_live_grant, request_access

ACTORS = ["partner", "other_partner", "owner", "outsider", "reviewer", "admin", "anonymous"]
SEES = {"partner", "owner", "reviewer", "admin"}  # the request and grant of `partner`


@pytest.fixture
def granted(pw):
    pw.grant = make_live_grant(pw)
    pw.request = pw.grant.request
    return pw


def actor(pw, who):
    w = pw.w
    return {"partner": w.partner, "other_partner": pw.other_partner, "owner": w.owner,
            "outsider": w.outsider, "reviewer": w.reviewer, "admin": w.admin,
            "anonymous": None}[who]


@pytest.mark.parametrize("who", ACTORS)
def test_request_and_grant_detail_per_actor(granted, api, who):
    user = actor(granted, who)
    api.as_(user)
    for url in (f"/api/v1/access-requests/{granted.request.pk}/",
                f"/api/v1/access-grants/{granted.grant.pk}/"):
        code = api.get(url).status_code
        assert code == (401 if user is None else 200 if who in SEES else 404), (who, url)
    page = api.get(reverse("access_request_detail", args=[granted.request.pk]))
    assert page.status_code == (302 if user is None else 200 if who in SEES else 404)


@pytest.mark.parametrize("who", ACTORS[:-1])
def test_lists_show_only_what_the_actor_may_see(granted, api, who):
    api.as_(actor(granted, who))
    rows = api.get("/api/v1/access-grants/").json()["results"]
    assert [r["id"] for r in rows] == ([granted.grant.pk] if who in SEES else [])
    rows = api.get("/api/v1/access-requests/").json()["results"]
    assert [r["id"] for r in rows] == ([granted.request.pk] if who in SEES else [])
    page = api.get(reverse("grant_list"))
    assert page.status_code == 200
    assert (f"#{granted.grant.pk}<" in page.content.decode()) == (who in SEES)


@pytest.mark.parametrize("who,expired,code", [
    ("partner", False, 302), ("partner", True, 302), ("other_partner", False, 404),
    ("owner", False, 404), ("outsider", False, 404), ("reviewer", False, 404),
    ("admin", False, 404), ("anonymous", False, 302)])
def test_the_granted_model_address_by_model(granted, api, who, expired, code):
    """It leads a partner to its grant's page (which says when the grant ended)."""
    if expired:
        end_grant(granted.grant)
    api.as_(actor(granted, who))
    response = api.get(reverse("granted_model_detail", args=[granted.w.model.pk]))
    assert response.status_code == code
    if who == "partner":
        assert response["Location"] == reverse("grant_detail", args=[granted.grant.pk])


def test_the_partner_sees_the_model_through_no_submissions_endpoint(granted, api):
    api.as_(granted.w.partner)
    assert api.get(f"/api/v1/models/{granted.w.model.pk}/").status_code == 404
    assert api.get(reverse("model_detail", args=[granted.w.model.pk])).status_code == 404


def test_approve_from_the_api_by_each_actor(pw, api):
    access_request = request_access(pw)
    url = f"/api/v1/access-requests/{access_request.pk}/approve/"
    assert api.as_(pw.other_partner).post(url).status_code == 404
    assert api.as_(pw.w.outsider).post(url).status_code == 404
    assert api.as_(pw.w.partner).post(url).status_code == 403
    assert api.as_(pw.w.owner).post(url).json()["status"] == "pending"
    assert api.as_(pw.w.reviewer).post(url).json()["status"] == "approved"
    assert api.as_(pw.w.admin).post(url).status_code == 409


def test_deny_and_reconsider_from_the_api(pw, api):
    access_request = request_access(pw)
    base = f"/api/v1/access-requests/{access_request.pk}/"
    assert api.as_(pw.w.owner).post(base + "deny/", {"reason": ""}).status_code == 400
    body = api.as_(pw.w.owner).post(base + "deny/", {"reason": "No."}).json()
    assert body["status"] == "denied"
    body = api.as_(pw.w.partner).post(base + "reconsider/", {"reason": "Please."}).json()
    assert body["status"] == "pending"
    api.as_(pw.w.admin).post(base + "deny/", {"reason": "No again."})
    assert api.as_(pw.w.partner).post(base + "reconsider/", {"reason": "x"}).status_code == 409


def test_bad_windows_are_refused_from_the_api(pw, api):
    data = {"model": pw.w.model.pk, "starts_at": pw.start.isoformat(),
            "ends_at": (pw.start + timedelta(days=31)).isoformat(), "justification": "x"}
    response = api.as_(pw.w.partner).post("/api/v1/access-requests/", data)
    assert response.status_code == 400 and "30 days" in response.json()["detail"]
    data["starts_at"] = (pw.window.ends_at - timedelta(hours=1)).isoformat()
    data["ends_at"] = (pw.window.ends_at + timedelta(days=5)).isoformat()
    response = api.as_(pw.w.partner).post("/api/v1/access-requests/", data)
    assert response.status_code == 400 and response.json()["field"] == "starts_at"
    assert not AccessRequest.objects.exists()
    data["starts_at"], data["ends_at"] = pw.start.isoformat(), pw.end.isoformat()
    assert api.as_(pw.w.partner).post("/api/v1/access-requests/", data).status_code == 201


def test_the_terms_and_the_token_from_the_api(pw, api):
    access_request = request_access(pw)
    approve_both(pw, access_request)
    url = f"/api/v1/access-requests/{access_request.pk}/terms/"
    assert api.as_(pw.w.partner).get(url).json()["version"] == 1
    assert api.as_(pw.other_partner).get(url).status_code == 404
    response = api.as_(pw.w.partner).post(url, {"version": 1, "accepted_name": "Pat Doe"})
    assert response.status_code == 200
    grant = AccessGrant.objects.get(request=access_request)
    token_url = f"/api/v1/access-grants/{grant.pk}/token/"
    assert api.as_(pw.w.owner).post(token_url).status_code == 403
    body = api.as_(pw.w.partner).post(token_url).json()
    assert body["token"].startswith("frg_")
    grant.refresh_from_db()
    assert grant.token_hash == AccessGrant.hash_token(body["token"])


def test_revoke_from_the_api_by_each_actor(granted, api):
    url = f"/api/v1/access-grants/{granted.grant.pk}/revoke/"
    assert api.as_(granted.other_partner).post(url, {"reason": "x"}).status_code == 404
    assert api.as_(granted.w.outsider).post(url, {"reason": "x"}).status_code == 404
    assert api.as_(granted.w.partner).post(url, {"reason": "x"}).status_code == 403
    assert api.as_(granted.w.reviewer).post(url, {"reason": "x"}).status_code == 403
    assert api.as_(granted.w.owner).post(url, {"reason": "Misuse."}).json()["revoked_at"]


def test_only_admins_vet_from_the_api_and_the_page(pw, api, client):
    url = f"/api/v1/partner-organisations/{pw.profile.pk}/suspend/"
    assert api.as_(pw.w.reviewer).post(url, {"reason": "x"}).status_code == 403
    assert api.as_(pw.w.owner).post(url, {"reason": "x"}).status_code == 403
    assert api.as_(pw.other_partner).post(url, {"reason": "x"}).status_code == 404
    body = api.as_(pw.w.admin).post(url, {"reason": "Incident."}).json()
    assert body["status"] == "suspended"
    response = client.post(reverse("partner_action", args=[pw.profile.pk, "vet"]),
                           {"reason": "Cleared.", "confirm": "yes"})
    assert response.status_code == 302
    pw.profile.refresh_from_db()
    assert pw.profile.status == "vetted"


def count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", ["/api/v1/access-grants/", "/api/v1/access-requests/"])
def test_list_endpoints_run_a_fixed_number_of_queries(pw, client, url):
    client.force_login(pw.w.admin)
    make_live_grant(pw)
    few = count(client, url)
    make_live_grant(pw)
    make_live_grant(pw, pw.other_partner)
    many = count(client, url)
    assert few == many
    assert many <= 8
