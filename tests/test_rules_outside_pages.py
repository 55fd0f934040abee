"""Rules that once lived in views hold through the API and the services (what the admin and
management commands call): the assignable reviewers, "only the lead determines", "a rubric or
policy in use is frozen" and filing an access request."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from partners import services as partner_services
from partners.models import AccessRequest
from review_portal.errors import ApplicationError
from reviews import services as review_services
from reviews.models import ConflictOfInterest, RubricVersion
from submissions import selectors, services
from submissions.models import Determination, ReviewerAssignment
from tests.conftest import bring_to
from tests.factories import UserFactory
from tests.partners.conftest import pw  # noqa: F401
from tests.reviews.conftest import panel, submit_review  # noqa: F401

# --- assignable reviewers ---------------------------------------------------------------------


def test_the_assignable_reviewers_exclude_assigned_conflicted_recused_and_inactive(world):
    bring_to(world, "in_review")  # world.reviewer is assigned
    agency = world.reviewer.membership.organisation
    conflicted = UserFactory(username="conflicted", organisation=agency)
    review_services.conflict_declare(actor=conflicted, organisation=world.acme,
                                     kind=ConflictOfInterest.Kind.values[0], note="Ex-employee.")
    recused = UserFactory(username="recused", organisation=agency)
    assignment = services.reviewer_assign(review_request=world.request, reviewer=recused,
                                          actor=world.admin)
    review_services.recusal_record(assignment=assignment, actor=recused, note="Too close.")
    gone = UserFactory(username="gone", organisation=agency)
    gone.is_active = False
    gone.save()
    names = [u.username for u in selectors.reviewers_assignable(review_request=world.request)]
    assert names == ["reviewer2"]


def test_the_api_refuses_an_unknown_reviewer_only_after_checking_the_actor(world, api):
    bring_to(world, "submitted")
    url = f"/api/v1/review-requests/{world.request.pk}/assign/"
    # The developer sees the request but may not assign: 403 whether the name exists or not.
    for name in ("reviewer", "nobody-by-that-name"):
        assert api.as_(world.owner).post(url, {"reviewer": name}).status_code == 403
    response = api.as_(world.admin).post(url, {"reviewer": "nobody-by-that-name"})
    assert response.status_code == 400 and response.json()["field"] == "reviewer"
    assert not ReviewerAssignment.objects.exists()


def test_an_inactive_reviewer_cannot_be_assigned_through_the_api(world, api):
    bring_to(world, "submitted")
    world.reviewer2.is_active = False
    world.reviewer2.save()
    response = api.as_(world.admin).post(
        f"/api/v1/review-requests/{world.request.pk}/assign/", {"reviewer": "reviewer2"})
    assert response.status_code == 400
    assert not ReviewerAssignment.objects.exists()


# --- only the lead determines -----------------------------------------------------------------

@pytest.mark.parametrize("who", ["member", "admin", "owner", "reviewer2"])
def test_only_the_lead_determines_through_the_service(panel, who):  # noqa: F811
    actor = {"member": panel.member, "admin": panel.admin, "owner": panel.owner,
             "reviewer2": panel.reviewer2}[who]
    with pytest.raises(PermissionDenied):
        services.request_determine(review_request=panel.request, actor=actor,
                                   outcome="not_covered", rationale="Below the level.")
    assert not Determination.objects.exists()
    assert not AuditEvent.objects.filter(action="determination.recorded").exists()


def test_a_lead_who_is_deactivated_can_no_longer_determine(panel):  # noqa: F811
    panel.lead.is_active = False
    panel.lead.save()
    with pytest.raises(PermissionDenied):
        services.request_determine(review_request=panel.request, actor=panel.lead,
                                   outcome="not_covered", rationale="Below the level.")
    assert not Determination.objects.exists()


# --- frozen rubric and policy versions --------------------------------------------------------

def test_a_rubric_in_use_is_frozen_through_the_api_and_the_service(panel, api):  # noqa: F811
    submit_review(panel.request, panel.lead)
    rubric = RubricVersion.objects.get(is_active=True)
    before = (rubric.name, rubric.dimensions)
    response = api.as_(panel.admin).patch(f"/api/v1/rubrics/{rubric.pk}/", {"name": "Renamed"})
    assert response.status_code == 409 and "used by a review" in response.json()["detail"]
    with pytest.raises(ApplicationError, match="used by a review"):
        review_services.rubric_update(rubric=rubric, actor=panel.admin, name="Renamed")
    rubric.refresh_from_db()
    assert (rubric.name, rubric.dimensions) == before
    assert not AuditEvent.objects.filter(action="rubric.updated").exists()


def test_a_policy_a_determination_rests_on_is_frozen_through_the_api(covered, api):
    policy = covered.policy
    response = api.as_(covered.admin).patch(f"/api/v1/policies/{policy.pk}/",
                                            {"name": "Renamed"})
    assert response.status_code == 409
    assert "basis of a determination" in response.json()["detail"]
    policy.refresh_from_db()
    assert policy.name == "Compute only"


# --- filing an access request -----------------------------------------------------------------

def _window(pw):  # noqa: F811
    return {"starts_at": pw.start.isoformat(), "ends_at": pw.end.isoformat(),
            "justification": "We protect patients."}


def test_a_partner_naming_an_uncovered_model_gets_404_from_the_api(pw, api):  # noqa: F811
    body = {"model": pw.w.other_model.pk, **_window(pw)}
    assert api.as_(pw.w.partner).post("/api/v1/access-requests/", body).status_code == 404
    body["model"] = 10**9
    assert api.as_(pw.w.partner).post("/api/v1/access-requests/", body).status_code == 404
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("who", ["reviewer", "admin"])
def test_the_government_side_files_no_access_request(pw, api, who):  # noqa: F811
    actor = getattr(pw.w, who)
    body = {"model": pw.w.model.pk, **_window(pw)}
    assert api.as_(actor).post("/api/v1/access-requests/", body).status_code == 403
    with pytest.raises(PermissionDenied):
        partner_services.access_request_file(actor=actor, model_id=pw.w.model.pk,
                                             starts_at=pw.start, ends_at=pw.end,
                                             justification="x")
    assert not AccessRequest.objects.exists()


def test_a_developer_invites_only_to_its_own_model(pw, api):  # noqa: F811
    partner_org = pw.w.partner.membership.organisation_id
    body = {"model": pw.w.model.pk, "organisation": partner_org, **_window(pw)}
    assert api.as_(pw.w.outsider).post("/api/v1/access-requests/", body).status_code == 404
    response = api.as_(pw.w.colleague).post("/api/v1/access-requests/", body)
    assert response.status_code == 201
    access_request = AccessRequest.objects.get()
    assert access_request.invited and access_request.organisation_id == partner_org


def test_a_partner_files_for_its_own_organisation_through_the_service(pw):  # noqa: F811
    access_request = partner_services.access_request_file(
        actor=pw.w.partner, model_id=pw.w.model.pk, starts_at=pw.start,
        ends_at=pw.end + timedelta(hours=1), justification="We protect patients.")
    assert access_request.organisation == pw.w.partner.membership.organisation
    assert not access_request.invited
    assert AuditEvent.objects.filter(action="access_request.created").count() == 1
