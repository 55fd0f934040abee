"""Developers and partners learn that the agency approved, never who reviewed; and a vetted
partner's contact details, what it protects and its vetting file stay with the program office
and the partner organisation itself (issue 8)."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from accounts.models import User
from partners import services
from tests.partners.conftest import PROFILE, approve_both, request_access

REVIEWER = {"username": "rev_quartermaine", "first_name": "Agnes", "last_name": "Quartermaine",
            "email": "agnes.quartermaine@agency.example"}
PARTNER_SECRETS = [PROFILE["contact_name"], PROFILE["contact_email"], PROFILE["justification"],
                   PROFILE["protects"], "References checked."]


@pytest.fixture
def approved(pw):
    """`pw` with the reviewer renamed to something that cannot appear by chance, and a request
    of the partner approved by the developer and the agency, its terms accepted (granted)."""
    User.objects.filter(pk=pw.w.reviewer.pk).update(**REVIEWER)
    pw.w.reviewer.refresh_from_db()
    pw.request = request_access(pw)
    approve_both(pw, pw.request)
    services.terms_accept(model=pw.w.model, actor=pw.w.partner, version=pw.terms.version,
                          accepted_name="Pat Doe")
    pw.request.refresh_from_db()
    assert pw.request.agency_approved_by == pw.w.reviewer
    return pw


def assert_no_reviewer(body: str, where: str):
    for value in REVIEWER.values():
        assert value not in body, (where, value)


def request_urls(pw):
    pk = pw.request.pk
    return ["/api/v1/access-requests/", f"/api/v1/access-requests/{pk}/",
            reverse("access_request_list"), reverse("access_request_detail", args=[pk]),
            "/api/v1/access-grants/", "/api/v1/partner-organisations/"]


@pytest.mark.parametrize("who", ["owner", "colleague", "partner"])
def test_developers_and_partners_see_the_agency_never_the_reviewer(approved, api, who):
    api.as_(getattr(approved.w, who))
    for url in request_urls(approved):
        response = api.get(url)
        assert response.status_code == 200, url
        assert_no_reviewer(response.content.decode(), url)
    row = api.get("/api/v1/access-requests/").json()["results"][0]
    assert row["id"] == approved.request.pk
    assert row["agency_approved_by"] == "The agency"
    assert row["agency_approved_at"] is not None
    detail = api.get(f"/api/v1/access-requests/{approved.request.pk}/").json()
    assert detail["agency_approved_by"] == "The agency"
    page = api.get(reverse("access_request_detail", args=[approved.request.pk]))
    assert "<dt>Agency approval</dt><dd>The agency" in page.content.decode()


@pytest.mark.parametrize("who", ["admin", "reviewer"])
def test_program_admins_and_the_assigned_reviewer_still_see_who_approved(approved, api, who):
    api.as_(getattr(approved.w, who))
    detail = api.get(f"/api/v1/access-requests/{approved.request.pk}/").json()
    assert detail["agency_approved_by"] == REVIEWER["username"]
    rows = api.get("/api/v1/access-requests/").json()["results"]
    assert [r["agency_approved_by"] for r in rows] == [REVIEWER["username"]]
    page = api.get(reverse("access_request_detail", args=[approved.request.pk]))
    assert f"<dt>Agency approval</dt><dd>{REVIEWER['username']}" in page.content.decode()


def test_the_developer_approval_stays_named_and_both_are_null_until_given(pw, api):
    access_request = request_access(pw)
    url = f"/api/v1/access-requests/{access_request.pk}/"
    for user in (pw.w.owner, pw.w.partner, pw.w.admin):
        body = api.as_(user).get(url).json()
        assert (body["developer_approved_by"], body["agency_approved_by"]) == (None, None)
        assert body["agency_approved_at"] is None
    services.access_request_approve(access_request=access_request, actor=pw.w.colleague)
    assert api.as_(pw.w.partner).get(url).json()["developer_approved_by"] == "colleague"
    page = api.get(reverse("access_request_detail", args=[access_request.pk])).content.decode()
    assert "<dt>Agency approval</dt><dd>—</dd>" in page


def test_an_action_answered_to_the_developer_does_not_name_the_reviewer(pw, api):
    # The agency approves first; the developer's approval answers with the whole request.
    User.objects.filter(pk=pw.w.reviewer.pk).update(**REVIEWER)
    access_request = request_access(pw)
    services.access_request_approve(access_request=access_request, actor=pw.w.reviewer)
    response = api.as_(pw.w.owner).post(f"/api/v1/access-requests/{access_request.pk}/approve/")
    assert response.status_code == 200
    assert response.json()["status"] == "approved"
    assert response.json()["agency_approved_by"] == "The agency"
    assert_no_reviewer(response.content.decode(), "approve")


def test_the_schema_declares_the_approvers_as_nullable_strings(db):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    props = schema["components"]["schemas"]["AccessRequest"]["properties"]
    for name in ("agency_approved_by", "developer_approved_by"):
        assert props[name]["type"] == "string", name
        assert props[name]["nullable"] is True, name
    partner = schema["components"]["schemas"]["PartnerProfile"]["properties"]
    for name in ("contact_name", "contact_email", "protects", "justification"):
        assert partner[name]["nullable"] is True, name


# --- partner organisations -------------------------------------------------------------------

@pytest.mark.parametrize("who", ["owner", "outsider", "reviewer"])
def test_a_developer_sees_whom_to_invite_but_no_contact_or_vetting_file(approved, api, who):
    api.as_(getattr(approved.w, who))
    response = api.get("/api/v1/partner-organisations/")
    body = response.content.decode()
    for secret in PARTNER_SECRETS:
        assert secret not in body, secret
    rows = {r["organisation"]: r for r in response.json()["results"]}
    assert set(rows) == {"Rural Hospital", "Community Bank"}
    hospital = rows["Rural Hospital"]
    assert hospital["sector"] == "healthcare"
    assert hospital["organisation_id"] == approved.profile.organisation_id
    for name in ("contact_name", "contact_email", "contact_phone", "protects", "justification",
                 "status_reason"):
        assert hospital[name] is None, name
    detail = api.get(f"/api/v1/partner-organisations/{approved.profile.pk}/")
    assert detail.status_code == 200
    for secret in PARTNER_SECRETS:
        assert secret not in detail.content.decode(), secret
    page = api.get(reverse("partner_list")).content.decode()
    assert "Rural Hospital" in page
    for secret in PARTNER_SECRETS:
        assert secret not in page and escape(secret) not in page, secret


def test_the_partner_itself_sees_its_own_contact_details(approved, api):
    api.as_(approved.w.partner)
    rows = api.get("/api/v1/partner-organisations/").json()["results"]
    assert [r["organisation"] for r in rows] == ["Rural Hospital"]
    assert {k: rows[0][k] for k in ("contact_name", "contact_email", "justification",
                                    "protects")} == {
        k: PROFILE[k] for k in ("contact_name", "contact_email", "justification", "protects")}
    assert rows[0]["status_reason"] == "References checked."
    # ... and nothing of the other vetted partner.
    assert api.get(f"/api/v1/partner-organisations/{approved.other_profile.pk}/"
                   ).status_code == 404
    page = api.get(reverse("partner_list")).content.decode()
    assert escape(PROFILE["protects"]) in page


def test_a_program_admin_sees_every_partners_contact_details(approved, api):
    api.as_(approved.w.admin)
    rows = api.get("/api/v1/partner-organisations/").json()["results"]
    assert {r["organisation"]: r["contact_email"] for r in rows} == {
        "Rural Hospital": PROFILE["contact_email"], "Community Bank": PROFILE["contact_email"]}
    assert all(r["justification"] == PROFILE["justification"] for r in rows)
    page = api.get(reverse("partner_list")).content.decode()
    assert escape(PROFILE["protects"]) in page


def test_a_vetting_answer_to_the_admin_carries_the_details(approved, api):
    response = api.as_(approved.w.admin).post(
        f"/api/v1/partner-organisations/{approved.profile.pk}/suspend/", {"reason": "Incident."})
    assert response.status_code == 200
    assert response.json()["contact_email"] == PROFILE["contact_email"]
    assert response.json()["status"] == "suspended"


def test_a_partner_applying_through_the_api_gets_its_application_back(pw, api):
    from accounts.models import Organisation
    from tests.factories import OrganisationFactory, UserFactory

    org = OrganisationFactory(name="Water Utility", kind=Organisation.Kind.PARTNER)
    applicant = UserFactory(username="waterworks", organisation=org)
    data = {**PROFILE, "sector": "utilities", "contact_email": "ops@water.example"}
    response = api.as_(applicant).post("/api/v1/partner-organisations/", data)
    assert response.status_code == 201, response.content
    assert response.json()["contact_email"] == "ops@water.example"
    assert response.json()["status"] == "applied"
    assert api.as_(pw.w.owner).get("/api/v1/partner-organisations/").json()["count"] == 2
