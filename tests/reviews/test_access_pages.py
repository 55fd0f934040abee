"""Every review page tried by every actor: owner, colleague, outsider, the assigned reviewer
(member), an unassigned reviewer, the lead, an admin, a partner, anonymous.

Anonymous users are sent to the login page; an object (or government page) the actor may not
see answers 404; a visible object on which the actor may not act answers 403; nothing changes.
"""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from reviews.models import ConflictOfInterest, PolicyVersion, Recusal, Review, RubricVersion
from reviews.services import conflict_declare, policy_create, recusal_record, rubric_create
from submissions import services
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

LOGIN = "login"
GOV_ONLY = table(owner=404, colleague=404, outsider=404, member=200, reviewer2=200, lead=200,
                 admin=200, partner=404, anonymous=LOGIN)


def as_(client, panel, actor):
    client.logout()
    user = panel.actors()[actor]
    if user is not None:
        client.force_login(user)
    return user


def check(response, expected):
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected


def _changes() -> int:
    """Audit events other than the record of a government user reading the request page."""
    return AuditEvent.objects.exclude(action="review_request.viewed").count()


def _review_post(**overrides):
    data = {f"score_{k}": str(v) for k, v in FULL_SCORES.items()}
    data |= {"recommendation": "covered", "confidence": "medium",
             "comments_for_developer": "Document your scaffolds.",
             "internal_comments": "Internal only."}
    return data | overrides


# --- conflicts ------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", GOV_ONLY)
def test_the_conflicts_page_is_for_the_government(client, panel, actor, expected):
    conflict_declare(actor=panel.world.reviewer2, organisation=panel.other_org,
                     kind="competitor", note="Competing startup.")
    as_(client, panel, actor)
    response = client.get(reverse("conflict_list"))
    check(response, expected)
    if expected == 200:
        # Each reviewer reads their own declarations; admins read everyone's.
        sees = actor in ("reviewer2", "admin")
        assert (b"Competing startup." in response.content) == sees
        assert (b"Declare the conflict" in response.content) == (actor != "admin")


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=302, reviewer2=302, lead=302, admin=403,
    partner=404, anonymous=LOGIN))
def test_reviewers_declare_conflicts_on_the_page(client, panel, actor, expected):
    as_(client, panel, actor)
    response = client.post(reverse("conflict_list"), {
        "organisation": panel.other_org.pk, "kind": "financial", "note": "Hold shares."})
    check(response, expected)
    assert ConflictOfInterest.objects.count() == (1 if expected == 302 else 0)
    if expected == 302:
        assert ConflictOfInterest.objects.get().reviewer == panel.actors()[actor]


def test_a_conflict_with_the_requests_organisation_recuses_the_lead_from_the_page(client,
                                                                                  panel):
    as_(client, panel, "lead")
    client.post(reverse("conflict_list"), {"organisation": panel.acme.pk, "kind": "employment",
                                           "note": "New job offer."})
    assert Recusal.objects.get().reviewer == panel.lead
    assert client.get(reverse("request_detail", args=[panel.request.pk])).status_code == 404


def test_a_conflicted_reviewer_cannot_be_assigned_from_the_page(client, panel):
    conflict_declare(actor=panel.world.reviewer2, organisation=panel.acme, kind="other",
                     note="Family.")
    as_(client, panel, "admin")
    page = client.get(reverse("request_detail", args=[panel.request.pk])).content.decode()
    assert f'value="{panel.world.reviewer2.pk}"' not in page  # not offered
    before = _changes()
    response = client.post(reverse("reviewer_assign", args=[panel.request.pk]),
                           {"reviewer": panel.world.reviewer2.pk}, follow=True)
    assert "declared a conflict of interest" in response.content.decode()
    assert not ReviewerAssignment.objects.filter(reviewer=panel.world.reviewer2).exists()
    assert _changes() == before


def test_an_admin_names_the_lead_when_assigning_from_the_page(client, panel):
    as_(client, panel, "admin")
    client.post(reverse("reviewer_assign", args=[panel.request.pk]),
                {"reviewer": panel.world.reviewer2.pk, "is_lead": "on"})
    assert panel.request.assignments.get(is_lead=True).reviewer == panel.world.reviewer2


# --- recusal and the lead -------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, member=302, reviewer2=404, lead=302, admin=403,
    partner=404, anonymous=LOGIN))
def test_an_assigned_reviewer_recuses_from_the_request_page(client, panel, actor, expected):
    as_(client, panel, actor)
    response = client.post(reverse("recuse", args=[panel.request.pk]),
                           {"note": "Conflict found.", "confirm": "yes"})
    check(response, expected)
    assert Recusal.objects.count() == (1 if expected == 302 else 0)
    if expected == 302:
        assert response["Location"] == reverse("request_list")
        assert not ReviewerAssignment.objects.filter(reviewer=panel.actors()[actor]).exists()


def test_a_recusal_without_a_note_changes_nothing(client, panel):
    as_(client, panel, "member")
    client.post(reverse("recuse", args=[panel.request.pk]), {"note": ""})
    assert not Recusal.objects.exists()
    assert ReviewerAssignment.objects.filter(reviewer=panel.member).exists()


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=403, reviewer2=404, lead=403, admin=302,
    partner=404, anonymous=LOGIN))
def test_only_admins_set_the_lead_from_the_page(client, panel, actor, expected):
    assignment = panel.request.assignments.get(reviewer=panel.member)
    as_(client, panel, actor)
    check(client.post(reverse("lead_set", args=[assignment.pk])), expected)
    assignment.refresh_from_db()
    assert assignment.is_lead == (expected == 302)


# --- reviews --------------------------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, member=200, reviewer2=404, lead=200, admin=403,
    partner=404, anonymous=LOGIN))
def test_the_review_form_is_for_the_assigned_reviewers(client, panel, actor, expected):
    as_(client, panel, actor)
    response = client.get(reverse("review_edit", args=[panel.request.pk]))
    check(response, expected)
    if expected == 200:
        html = response.content.decode()
        assert "Uplift to novices" in html
        assert "0 none · 1 marginal" in html  # the guidance


@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, member=302, reviewer2=404, lead=302, admin=403,
    partner=404, anonymous=LOGIN))
def test_a_review_is_saved_from_the_form_by_assigned_reviewers_only(client, panel, actor,
                                                                    expected):
    as_(client, panel, actor)
    response = client.post(reverse("review_edit", args=[panel.request.pk]),
                           _review_post(save="1"))
    check(response, expected)
    saved = Review.objects.filter(request=panel.request)
    assert saved.count() == (1 if expected == 302 else 0)
    if expected == 302:
        review = saved.get()
        assert (review.reviewer, review.status, review.scores) == (
            panel.actors()[actor], "draft", FULL_SCORES)


def test_submitting_from_the_form_is_final(client, panel):
    as_(client, panel, "member")
    url = reverse("review_edit", args=[panel.request.pk])
    response = client.post(url, _review_post(submit="1", confirm="yes"))
    assert response["Location"] == reverse("request_detail", args=[panel.request.pk]) + "#reviews"
    review = Review.objects.get()
    assert review.status == "submitted"
    # The form now leads to the read-only review; a new post changes nothing.
    assert client.get(url)["Location"] == reverse("review_detail", args=[review.pk])
    client.post(url, _review_post(submit="1", confidence="low", confirm="yes"))
    review.refresh_from_db()
    assert review.confidence == "medium"


def test_an_incomplete_review_is_not_submitted_from_the_form(client, panel):
    as_(client, panel, "member")
    response = client.post(reverse("review_edit", args=[panel.request.pk]),
                           _review_post(submit="1", score_uplift_to_novices=""))
    assert response.status_code == 200
    assert "Score every dimension" in response.content.decode()
    assert not Review.objects.exists()


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=200, reviewer2=404, lead=200, admin=200,
    partner=404, anonymous=LOGIN))
def test_a_submitted_review_page_is_for_its_author_the_lead_and_admins(client, panel, actor,
                                                                     expected):
    review = submit_review(panel.request, panel.member)
    as_(client, panel, actor)
    response = client.get(reverse("review_detail", args=[review.pk]))
    check(response, expected)
    if expected == 200:
        assert b"Internal only." in response.content


def test_a_reviewer_reads_the_others_reviews_on_the_pages_only_after_submitting(client, panel):
    lead_review = submit_review(panel.request, panel.lead, internal="LEAD-INTERNAL")
    as_(client, panel, "member")
    request_url = reverse("request_detail", args=[panel.request.pk])
    assert client.get(reverse("review_detail", args=[lead_review.pk])).status_code == 404
    html = client.get(request_url).content.decode()
    assert "hidden until you submit your own" in html
    assert reverse("review_detail", args=[lead_review.pk]) not in html

    client.post(reverse("review_edit", args=[panel.request.pk]),
                _review_post(submit="1", confirm="yes"))

    html = client.get(request_url).content.decode()
    assert "hidden until you submit" not in html
    assert reverse("review_detail", args=[lead_review.pk]) in html
    response = client.get(reverse("review_detail", args=[lead_review.pk]))
    assert b"LEAD-INTERNAL" in response.content


def test_the_lead_reads_the_others_reviews_on_the_request_page_at_once(client, panel):
    member_review = submit_review(panel.request, panel.member)
    as_(client, panel, "lead")
    html = client.get(reverse("request_detail", args=[panel.request.pk])).content.decode()
    assert reverse("review_detail", args=[member_review.pk]) in html
    assert "hidden until" not in html


def test_a_draft_is_not_shown_to_the_lead(client, panel):
    draft = draft_review(panel.request, panel.member)
    as_(client, panel, "lead")
    assert client.get(reverse("review_detail", args=[draft.pk])).status_code == 404


# --- determination on the request page ------------------------------------------------------

def test_only_the_lead_is_offered_the_determination_form(client, panel):
    url = reverse("request_detail", args=[panel.request.pk])
    for actor, offered in (("lead", True), ("member", False), ("admin", False),
                           ("owner", False)):
        as_(client, panel, actor)
        html = client.get(url).content.decode()
        assert ("Record the determination" in html) == offered, actor


@pytest.mark.parametrize("actor,expected", table(
    owner=403, colleague=403, outsider=404, member=403, reviewer2=404, lead=302, admin=403,
    partner=404, anonymous=LOGIN))
def test_only_the_lead_determines_from_the_page(client, panel, actor, expected):
    as_(client, panel, actor)
    response = client.post(reverse("request_action", args=[panel.request.pk, "determine"]),
                           {"outcome": "not_covered", "rationale": "Below the level.",
                            "confirm": "yes"})
    check(response, expected)
    assert Determination.objects.exists() == (expected == 302)


def test_an_override_without_a_reason_is_refused_on_the_page(client, panel):
    as_(client, panel, "lead")
    url = reverse("request_action", args=[panel.request.pk, "determine"])
    before = _changes()
    response = client.post(url, {"outcome": "covered", "rationale": "Above."}, follow=True)
    assert "write why you override it" in response.content.decode()
    assert not Determination.objects.exists()
    assert _changes() == before
    client.post(url, {"outcome": "covered", "rationale": "Above.",
                      "override_reason": "Red-team evidence.", "confirm": "yes"})
    assert Determination.objects.get().overridden


# --- the recommendation on the request page -------------------------------------------------

@pytest.mark.parametrize("actor,sees", [("owner", False), ("colleague", False),
                                        ("member", True), ("lead", True), ("admin", True)])
def test_the_recommendation_is_shown_to_the_government_only(client, panel, demo_policy, actor,
                                                            sees):
    run = add_run(panel.world, suite_version(panel.world),
                  {"exploit_development": (0.75, 0.04, 40)})
    as_(client, panel, actor)
    html = client.get(reverse("request_detail", args=[panel.request.pk])).content.decode()
    assert ("Demo: exploit development" in html) == sees  # a rule's citation
    assert (f"run #{run.pk}" in html) == sees
    assert ("0.750 ± 0.040" in html) == sees
    assert (f"Policy v{demo_policy.number}</a>" in html) == sees


# --- rubric and policy pages ----------------------------------------------------------------

@pytest.mark.parametrize("actor,expected", GOV_ONLY)
@pytest.mark.parametrize("kind", ["rubric", "policy"])
def test_rubric_and_policy_pages_are_for_the_government(client, panel, kind, actor, expected):
    obj = RubricVersion.objects.get() if kind == "rubric" else panel.policy
    as_(client, panel, actor)
    check(client.get(reverse(f"{kind}_list")), expected)
    response = client.get(reverse(f"{kind}_detail", args=[obj.pk]))
    check(response, expected)
    if expected == 200:
        text = "Uplift to novices" if kind == "rubric" else "California SB 53"
        assert text in response.content.decode()


ADMIN_PAGE = table(owner=404, colleague=404, outsider=404, member=403, reviewer2=403, lead=403,
                   admin=200, partner=404, anonymous=LOGIN)


@pytest.mark.parametrize("actor,expected", ADMIN_PAGE)
@pytest.mark.parametrize("kind", ["rubric", "policy"])
def test_the_version_forms_are_for_admins(client, panel, kind, actor, expected):
    obj = RubricVersion.objects.get() if kind == "rubric" else panel.policy
    as_(client, panel, actor)
    check(client.get(reverse(f"{kind}_create")), expected)
    check(client.get(reverse(f"{kind}_edit", args=[obj.pk])), expected)


def _policy_post(name="Demo", activate=False, rows=DEMO_RULES):
    data = {"name": name, "notes": "", "rule-TOTAL_FORMS": str(len(rows)),
            "rule-INITIAL_FORMS": "0", "rule-MIN_NUM_FORMS": "0", "rule-MAX_NUM_FORMS": "1000"}
    if activate:
        data["activate"] = "on"
    for i, rule in enumerate(rows):
        data |= {f"rule-{i}-kind": rule["kind"], f"rule-{i}-category": rule["category"],
                 f"rule-{i}-threshold": str(rule["threshold"]),
                 f"rule-{i}-citation": rule["citation"]}
    return data


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=403, reviewer2=403, lead=403, admin=302,
    partner=404, anonymous=LOGIN))
def test_only_admins_create_a_policy_version_from_the_page(client, panel, actor, expected):
    as_(client, panel, actor)
    response = client.post(reverse("policy_create"), _policy_post(activate=True))
    check(response, expected)
    assert PolicyVersion.objects.count() == (2 if expected == 302 else 1)
    if expected == 302:
        policy = PolicyVersion.objects.get(number=2)
        assert policy.is_active
        assert list(policy.rules.values_list("threshold", flat=True)) == [0.6, 0.7, 1e26]
        assert AuditEvent.objects.filter(action="policy.activated",
                                         object_id=str(policy.pk)).exists()


def test_the_new_policy_form_starts_from_the_active_version(client, panel):
    as_(client, panel, "admin")
    html = client.get(reverse("policy_create")).content.decode()
    assert "California SB 53" in html


def test_a_used_policy_version_is_not_edited_from_the_page(client, panel):
    as_(client, panel, "lead")
    client.post(reverse("request_action", args=[panel.request.pk, "determine"]),
                {"outcome": "not_covered", "rationale": "Below.", "confirm": "yes"})
    as_(client, panel, "admin")
    url = reverse("policy_edit", args=[panel.policy.pk])
    response = client.post(url, _policy_post(name="Changed"), follow=True)
    assert "can no longer change" in response.content.decode()
    panel.policy.refresh_from_db()
    assert panel.policy.name == "Compute only"
    assert panel.policy.rules.count() == 1


def test_an_unused_policy_version_is_edited_and_activated_from_the_page(client, panel):
    policy = policy_create(actor=panel.admin, name="Draft", rules=DEMO_RULES)
    as_(client, panel, "admin")
    response = client.post(reverse("policy_edit", args=[policy.pk]),
                           _policy_post(name="Final", activate=True, rows=DEMO_RULES[:1]))
    assert response["Location"] == reverse("policy_detail", args=[policy.pk])
    policy.refresh_from_db()
    assert (policy.name, policy.is_active, policy.rules.count()) == ("Final", True, 1)


def test_a_used_rubric_version_is_not_edited_from_the_page(client, panel):
    draft_review(panel.request, panel.member)
    rubric = RubricVersion.objects.get()
    as_(client, panel, "admin")
    response = client.post(reverse("rubric_edit", args=[rubric.pk]), {
        "name": "Changed", "dim-TOTAL_FORMS": "1", "dim-INITIAL_FORMS": "0",
        "dim-MIN_NUM_FORMS": "0", "dim-MAX_NUM_FORMS": "1000", "dim-0-key": "a",
        "dim-0-name": "A", "dim-0-guidance": "g"}, follow=True)
    assert "can no longer change" in response.content.decode()
    rubric.refresh_from_db()
    assert rubric.name == "Cyber capability rubric"


def test_an_admin_creates_a_rubric_version_from_the_page(client, panel):
    as_(client, panel, "admin")
    response = client.post(reverse("rubric_create"), {
        "name": "Short", "activate": "on", "dim-TOTAL_FORMS": "2", "dim-INITIAL_FORMS": "0",
        "dim-MIN_NUM_FORMS": "0", "dim-MAX_NUM_FORMS": "1000", "dim-0-key": "exploits",
        "dim-0-name": "Exploits", "dim-0-guidance": "0 none … 4 expert",
        "dim-1-key": "", "dim-1-name": "", "dim-1-guidance": ""})
    rubric = RubricVersion.objects.get(number=2)
    assert response["Location"] == reverse("rubric_detail", args=[rubric.pk])
    assert (rubric.dimension_keys, rubric.is_active) == (["exploits"], True)


@pytest.mark.parametrize("actor,expected", table(
    owner=404, colleague=404, outsider=404, member=403, reviewer2=403, lead=403, admin=302,
    partner=404, anonymous=LOGIN))
@pytest.mark.parametrize("kind", ["rubric", "policy"])
def test_only_admins_activate_a_version_from_the_page(client, panel, kind, actor, expected):
    if kind == "policy":
        obj = policy_create(actor=panel.admin, name="Other", rules=DEMO_RULES)
    else:
        obj = rubric_create(actor=panel.admin, name="Other",
                            dimensions=[{"key": "a", "name": "A", "guidance": "g"}])
    as_(client, panel, actor)
    check(client.post(reverse(f"{kind}_activate", args=[obj.pk]), {"confirm": "yes"}), expected)
    obj.refresh_from_db()
    assert obj.is_active == (expected == 302)


@pytest.mark.parametrize("actor,sees", [("admin", True), ("lead", False), ("member", False),
                                        ("owner", False)])
def test_recusals_and_their_notes_are_shown_to_admins_on_the_request_page(client, panel, actor,
                                                                         sees):
    extra = panel.world.reviewer2
    services.reviewer_assign(review_request=panel.request, reviewer=extra, actor=panel.admin)
    recusal_record(assignment=panel.request.assignments.get(reviewer=extra), actor=extra,
                   note="Former colleague of the founder.")
    as_(client, panel, actor)
    html = client.get(reverse("request_detail", args=[panel.request.pk])).content.decode()
    assert ("Former colleague of the founder." in html) == sees
