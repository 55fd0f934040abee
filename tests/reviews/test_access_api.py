"""Every review endpoint under /api/v1/ tried by every actor: owner, colleague, outsider, the
assigned reviewer (member), an unassigned reviewer, the lead, an admin, a partner, anonymous.

An object the caller may not see answers 404; a visible object on which the caller may not act
answers 403; nothing changes on a refusal.
"""

import pytest

from audit.models import AuditEvent
from reviews.models import ConflictOfInterest, PolicyVersion, Recusal, Review, RubricVersion
from reviews.services import conflict_declare, policy_create
from submissions.models import Determination, ReviewerAssignment
from tests.reviews.conftest import (
    DEMO_RULES,
    FULL_SCORES,
    add_run,
    draft_review,
    submit_review,
    suite_version,
    table,
)

ANON = "anonymous-refused"
GOV_ONLY = table(owner=404, colleague=404, outsider=404, member=200, reviewer2=200, lead=200,
                 admin=200, partner=404, anonymous=ANON)
ASSIGNED_GOV = table(owner=404, colleague=404, outsider=404, member=200, reviewer2=404,
                     lead=200, admin=200, partner=404, anonymous=ANON)


def check(response, expected):
    if expected == ANON:
        assert response.status_code in (401, 403)
    else:
        assert response.status_code == expected, response.content
    if response.status_code != 204:
        assert response["Content-Type"].startswith("application/json")


def _results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- reviews --------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, member=201, reviewer2=404, lead=201, admin=403,
    partner=404, anonymous=ANON))
def test_only_assigned_reviewers_create_a_review(api, panel, actor, expected):
    response = api.as_(panel.actors()[actor]).post("/api/v1/reviews/", {
        "request": panel.request.pk, "scores": {"exploit_development": 2},
        "internal_comments": "Mine."})
    check(response, expected)
    created = Review.objects.filter(request=panel.request)
    assert created.count() == (1 if expected == 201 else 0)
    if expected == 201:
        body = response.json()
        assert (body["status"], body["reviewer"], body["scores"]) == (
            "draft", actor if actor == "member" else "reviewer", {"exploit_development": 2})
        assert created.get().reviewer == panel.actors()[actor]


def test_a_review_is_created_and_submitted_in_one_call_and_bad_scores_answer_400(api, panel):
    api.as_(panel.member)
    bad = api.post("/api/v1/reviews/", {"request": panel.request.pk, "scores": {"x": 2}})
    assert bad.status_code == 400
    assert bad.json()["field"] == "scores"
    out_of_range = api.post("/api/v1/reviews/", {"request": panel.request.pk,
                                                 "scores": {"exploit_development": 9}})
    assert out_of_range.status_code == 400
    incomplete = api.post("/api/v1/reviews/", {"request": panel.request.pk, "submit": True,
                                               "scores": {"exploit_development": 2}})
    assert incomplete.status_code == 400
    assert not Review.objects.exists()
    response = api.post("/api/v1/reviews/", {
        "request": panel.request.pk, "scores": FULL_SCORES, "recommendation": "covered",
        "confidence": "high", "submit": True})
    assert response.status_code == 201
    assert response.json()["status"] == "submitted"
    again = api.patch(f"/api/v1/reviews/{response.json()['id']}/", {"confidence": "low"})
    assert again.status_code == 409
    assert Review.objects.get().confidence == "high"


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=200, reviewer2=404, lead=404, admin=404,
    partner=404, anonymous=ANON))
def test_a_draft_is_read_and_changed_by_its_author_only(api, panel, actor, expected):
    review = draft_review(panel.request, panel.member)
    api.as_(panel.actors()[actor])
    check(api.get(f"/api/v1/reviews/{review.pk}/"), expected)
    response = api.patch(f"/api/v1/reviews/{review.pk}/", {"confidence": "low"})
    check(response, expected)
    response = api.post(f"/api/v1/reviews/{review.pk}/submit/")
    check(response, 400 if expected == 200 else expected)  # 400: the draft is incomplete
    review.refresh_from_db()
    assert (review.confidence == "low") == (expected == 200)
    assert review.status == "draft"


def test_the_author_submits_a_complete_draft(api, panel):
    review = draft_review(panel.request, panel.member, scores=FULL_SCORES,
                          recommendation="not_covered", confidence="medium")
    response = api.as_(panel.member).post(f"/api/v1/reviews/{review.pk}/submit/")
    assert response.status_code == 200
    assert response.json()["status"] == "submitted"
    assert AuditEvent.objects.filter(action="review.submitted").count() == 1


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=200, reviewer2=404, lead=200, admin=200,
    partner=404, anonymous=ANON))
def test_a_submitted_review_is_read_by_its_author_the_lead_and_admins(api, panel, actor,
                                                                     expected):
    """The lead has not reviewed yet: the lead reads the member's review all the same."""
    review = submit_review(panel.request, panel.member)
    response = api.as_(panel.actors()[actor]).get(f"/api/v1/reviews/{review.pk}/")
    check(response, expected)
    if expected == 200:
        assert response.json()["internal_comments"] == "Internal only."
        assert response.json()["reviewer"] == "member"


def test_a_reviewer_reads_the_others_review_only_after_submitting_their_own(api, panel):
    lead_review = submit_review(panel.request, panel.lead)
    api.as_(panel.member)
    assert api.get(f"/api/v1/reviews/{lead_review.pk}/").status_code == 404
    assert _results(api.get(f"/api/v1/reviews/?request={panel.request.pk}")) == []
    own = draft_review(panel.request, panel.member)
    assert api.get(f"/api/v1/reviews/{lead_review.pk}/").status_code == 404
    assert [r["id"] for r in _results(api.get("/api/v1/reviews/"))] == [own.pk]
    api.patch(f"/api/v1/reviews/{own.pk}/", {"scores": FULL_SCORES, "recommendation": "covered",
                                             "confidence": "low", "submit": True})
    response = api.get(f"/api/v1/reviews/{lead_review.pk}/")
    assert response.status_code == 200
    assert response.json()["reviewer"] == "reviewer"
    assert {r["id"] for r in _results(api.get("/api/v1/reviews/"))} == {own.pk, lead_review.pk}


@pytest.mark.parametrize("actor", ["owner", "colleague", "outsider", "reviewer2", "partner"])
def test_the_review_list_is_empty_for_those_who_may_read_none(api, panel, actor):
    submit_review(panel.request, panel.member)
    submit_review(panel.request, panel.lead)
    assert _results(api.as_(panel.actors()[actor]).get("/api/v1/reviews/")) == []


# --- conflicts ------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=403, member=201, reviewer2=201, lead=201, admin=403,
    partner=403, anonymous=ANON))
def test_only_reviewers_declare_conflicts(api, panel, actor, expected):
    response = api.as_(panel.actors()[actor]).post("/api/v1/conflicts/", {
        "organisation": "Other AI", "kind": "competitor", "note": "Competing startup."})
    check(response, expected)
    assert ConflictOfInterest.objects.count() == (1 if expected == 201 else 0)
    if expected == 201:
        assert response.json()["organisation"] == "Other AI"
        assert response.json()["reviewer"] == panel.actors()[actor].username


def test_a_conflict_names_an_existing_developer_organisation(api, panel):
    api.as_(panel.world.reviewer2)
    for name in ("Nobody Inc", "Agency", "Rural Hospital"):
        response = api.post("/api/v1/conflicts/", {"organisation": name, "kind": "other",
                                                   "note": "x"})
        assert response.status_code == 400
        assert response.json()["field"] == "organisation"
    assert not ConflictOfInterest.objects.exists()


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=404, reviewer2=200, lead=404, admin=200,
    partner=404, anonymous=ANON))
def test_a_conflict_is_read_by_its_reviewer_and_admins(api, panel, actor, expected):
    conflict = conflict_declare(actor=panel.world.reviewer2, organisation=panel.acme,
                                kind="employment", note="Left in 2024.")
    api.as_(panel.actors()[actor])
    check(api.get(f"/api/v1/conflicts/{conflict.pk}/"), expected)
    if expected != ANON:
        listed = [c["id"] for c in _results(api.get("/api/v1/conflicts/"))]
        assert listed == ([conflict.pk] if expected == 200 else [])


def test_a_conflicted_reviewer_cannot_be_assigned_through_the_api(api, panel):
    conflict_declare(actor=panel.world.reviewer2, organisation=panel.acme, kind="financial",
                     note="Shares.")
    before = AuditEvent.objects.count()
    response = api.as_(panel.admin).post(
        f"/api/v1/review-requests/{panel.request.pk}/assign/", {"reviewer": "reviewer2"})
    assert response.status_code == 409
    assert "conflict of interest" in response.json()["detail"]
    assert not ReviewerAssignment.objects.filter(reviewer=panel.world.reviewer2).exists()
    assert AuditEvent.objects.count() == before


def test_an_admin_names_the_lead_when_assigning_through_the_api(api, panel):
    response = api.as_(panel.admin).post(
        f"/api/v1/review-requests/{panel.request.pk}/assign/",
        {"reviewer": "reviewer2", "is_lead": True})
    assert response.status_code == 200
    assert panel.request.assignments.get(is_lead=True).reviewer == panel.world.reviewer2


# --- assignments: recusal and lead ----------------------------------------------------------

def _member_assignment(panel):
    return panel.request.assignments.get(reviewer=panel.member)


@pytest.mark.parametrize("actor,expected", ASSIGNED_GOV)
def test_assignments_are_read_by_the_assigned_reviewers_and_admins(api, panel, actor, expected):
    assignment = _member_assignment(panel)
    api.as_(panel.actors()[actor])
    check(api.get(f"/api/v1/assignments/{assignment.pk}/"), expected)
    if expected != ANON:
        listed = {a["reviewer"] for a in _results(api.get("/api/v1/assignments/"))}
        assert listed == ({"reviewer", "member"} if expected == 200 else set())


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=204, reviewer2=404, lead=403, admin=403,
    partner=404, anonymous=ANON))
def test_only_the_assigned_reviewer_recuses(api, panel, actor, expected):
    assignment = _member_assignment(panel)
    response = api.as_(panel.actors()[actor]).post(
        f"/api/v1/assignments/{assignment.pk}/recuse/", {"note": "Conflict found."})
    check(response, expected)
    assert Recusal.objects.filter(reviewer=panel.member).exists() == (expected == 204)
    assert ReviewerAssignment.objects.filter(pk=assignment.pk).exists() == (expected != 204)
    if expected == 204:
        assert api.get(f"/api/v1/review-requests/{panel.request.pk}/").status_code == 404


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=403, reviewer2=404, lead=403, admin=200,
    partner=404, anonymous=ANON))
def test_only_admins_set_the_lead(api, panel, actor, expected):
    assignment = _member_assignment(panel)
    response = api.as_(panel.actors()[actor]).post(f"/api/v1/assignments/{assignment.pk}/lead/")
    check(response, expected)
    assignment.refresh_from_db()
    assert assignment.is_lead == (expected == 200)
    assert AuditEvent.objects.filter(action="reviewer.lead_set").exists() == (expected == 200)


# --- determination --------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, member=403, reviewer2=404, lead=200, admin=403,
    partner=404, anonymous=ANON))
def test_only_the_lead_determines_through_the_api(api, panel, actor, expected):
    response = api.as_(panel.actors()[actor]).post(
        f"/api/v1/review-requests/{panel.request.pk}/determine/",
        {"outcome": "not_covered", "rationale": "Below the level."})
    check(response, expected)
    assert Determination.objects.exists() == (expected == 200)


def test_an_override_without_a_reason_answers_400_and_writes_nothing(api, panel):
    api.as_(panel.lead)
    url = f"/api/v1/review-requests/{panel.request.pk}/determine/"
    before = AuditEvent.objects.count()
    response = api.post(url, {"outcome": "covered", "rationale": "Above."})
    assert response.status_code == 400
    assert response.json()["field"] == "override_reason"
    assert not Determination.objects.exists()
    assert AuditEvent.objects.count() == before
    response = api.post(url, {"outcome": "covered", "rationale": "Above.",
                              "override_reason": "Red-team evidence."})
    assert response.status_code == 200
    [determination] = response.json()["determinations"]
    assert (determination["recommendation"], determination["overridden"],
            determination["override_reason"]) == ("not_covered", True, "Red-team evidence.")


# --- rubrics and policies -------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", GOV_ONLY)
@pytest.mark.parametrize("kind", ["rubrics", "policies"])
def test_rubrics_and_policies_are_read_by_the_government_only(api, panel, kind, actor,
                                                              expected):
    obj = RubricVersion.objects.get() if kind == "rubrics" else panel.policy
    api.as_(panel.actors()[actor])
    response = api.get(f"/api/v1/{kind}/{obj.pk}/")
    check(response, expected)
    if expected == 200 and kind == "policies":
        assert response.json()["rules"][0]["citation"] == "California SB 53"
    if expected != ANON:
        listed = [o["id"] for o in _results(api.get(f"/api/v1/{kind}/"))]
        assert listed == ([obj.pk] if expected == 200 else [])


ADMIN_ACTS = table(owner=403, colleague=403, outsider=403, member=403, reviewer2=403, lead=403,
                   admin=201, partner=403, anonymous=ANON)


@pytest.mark.parametrize("actor,expected", ADMIN_ACTS)
def test_only_admins_create_a_policy_version(api, panel, actor, expected):
    response = api.as_(panel.actors()[actor]).post("/api/v1/policies/", {
        "name": "Demo", "rules": DEMO_RULES, "activate": True})
    check(response, expected)
    assert PolicyVersion.objects.count() == (2 if expected == 201 else 1)
    assert AuditEvent.objects.filter(action="policy.activated").count() == (
        2 if expected == 201 else 1)  # the world's own policy was activated once
    if expected == 201:
        body = response.json()
        assert (body["number"], body["is_active"], len(body["rules"])) == (2, True, 3)


@pytest.mark.parametrize("actor,expected", ADMIN_ACTS)
def test_only_admins_create_a_rubric_version(api, panel, actor, expected):
    response = api.as_(panel.actors()[actor]).post("/api/v1/rubrics/", {
        "name": "Short", "dimensions": [{"key": "a", "name": "A", "guidance": "0–4"}]})
    check(response, expected)
    assert RubricVersion.objects.count() == (2 if expected == 201 else 1)


ADMIN_EDITS = table(owner=404, colleague=404, outsider=404, member=403, reviewer2=403, lead=403,
                    admin=200, partner=404, anonymous=ANON)


@pytest.mark.parametrize("actor,expected", ADMIN_EDITS)
def test_only_admins_edit_and_activate_an_unused_policy_version(api, panel, actor, expected):
    policy = policy_create(actor=panel.admin, name="Draft", rules=DEMO_RULES)
    api.as_(panel.actors()[actor])
    check(api.patch(f"/api/v1/policies/{policy.pk}/", {"name": "Final"}), expected)
    check(api.post(f"/api/v1/policies/{policy.pk}/activate/"), expected)
    policy.refresh_from_db()
    assert (policy.name == "Final") == (expected == 200)
    assert policy.is_active == (expected == 200)


@pytest.mark.parametrize("actor,expected", ADMIN_EDITS)
def test_only_admins_edit_and_activate_an_unused_rubric_version(api, panel, actor, expected):
    rubric = RubricVersion.objects.get()
    api.as_(panel.actors()[actor])
    check(api.patch(f"/api/v1/rubrics/{rubric.pk}/", {"name": "Renamed"}), expected)
    rubric.refresh_from_db()
    assert (rubric.name == "Renamed") == (expected == 200)


def test_a_used_policy_version_answers_409_to_an_edit(api, panel):
    api.as_(panel.lead).post(f"/api/v1/review-requests/{panel.request.pk}/determine/",
                             {"outcome": "not_covered", "rationale": "Below."})
    response = api.as_(panel.admin).patch(f"/api/v1/policies/{panel.policy.pk}/",
                                          {"rules": DEMO_RULES})
    assert response.status_code == 409
    assert "can no longer change" in response.json()["detail"]
    assert panel.policy.rules.count() == 1
    assert api.get(f"/api/v1/policies/{panel.policy.pk}/").json()["in_use"] is True


def test_a_used_rubric_version_answers_409_to_an_edit(api, panel):
    draft_review(panel.request, panel.member)
    rubric = RubricVersion.objects.get()
    response = api.as_(panel.admin).patch(f"/api/v1/rubrics/{rubric.pk}/",
                                          {"dimensions": [{"key": "a", "name": "A",
                                                           "guidance": "g"}]})
    assert response.status_code == 409
    rubric.refresh_from_db()
    assert len(rubric.dimensions) == 4


# --- the recommendation and the developer's feedback ----------------------------------------

@pytest.mark.parametrize("actor,expected", ASSIGNED_GOV)
def test_the_recommendation_is_for_the_assigned_reviewers_and_admins(api, panel, demo_policy,
                                                                     actor, expected):
    run = add_run(panel.world, suite_version(panel.world),
                  {"exploit_development": (0.75, 0.04, 40),
                   "vulnerability_discovery": (0.5, 0.05, 40)})
    response = api.as_(panel.actors()[actor]).get(
        f"/api/v1/review-requests/{panel.request.pk}/recommendation/")
    check(response, expected)
    if expected == 200:
        body = response.json()
        assert body["recommendation"] == "covered"
        assert body["policy"]["id"] == demo_policy.pk
        assert body["runs"] == [run.pk]
        fired = [r for r in body["rules"] if r["fired"]]
        assert [r["rule"]["category"] for r in fired] == ["exploit_development"]
        assert fired[0]["runs"] == [{"run": run.pk, "suite": "Cyber sample",
                                     "suite_version": 1, "accuracy": 0.75, "stderr": 0.04,
                                     "n": 40, "meets": True}]
        compute = body["rules"][2]
        assert (compute["fired"], compute["compute_flop"]) == (False, 3e25)


@pytest.mark.parametrize("actor,expected", table(
    owner=200, colleague=200, outsider=404, member=200, reviewer2=404, lead=200, admin=200,
    partner=404, anonymous=ANON))
def test_the_anonymised_feedback_is_read_by_those_who_see_the_request(api, panel, actor,
                                                                      expected):
    submit_review(panel.request, panel.member, comments="Please document your scaffolds.")
    api.as_(panel.lead).post(f"/api/v1/review-requests/{panel.request.pk}/determine/",
                             {"outcome": "not_covered", "rationale": "Below."})
    response = api.as_(panel.actors()[actor]).get(
        f"/api/v1/review-requests/{panel.request.pk}/feedback/")
    check(response, expected)
    if expected == 200:
        assert response.json() == [{"reviewer": "Reviewer 1",
                                    "comments": "Please document your scaffolds."}]


def test_the_schema_documents_the_review_endpoints(api, world):
    schema = api.as_(world.admin).get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    for path in ("/api/v1/reviews/", "/api/v1/reviews/{id}/submit/", "/api/v1/conflicts/",
                 "/api/v1/assignments/{id}/recuse/", "/api/v1/assignments/{id}/lead/",
                 "/api/v1/policies/", "/api/v1/policies/{id}/activate/", "/api/v1/rubrics/",
                 "/api/v1/review-requests/{request_pk}/recommendation/",
                 "/api/v1/review-requests/{request_pk}/feedback/"):
        assert path in schema["paths"], path
    assert "override_reason" in schema["components"]["schemas"]["DetermineRequest"]["properties"]
    assert "is_lead" in schema["components"]["schemas"]["AssignRequest"]["properties"]
