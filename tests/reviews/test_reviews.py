"""Rubric reviews: draft then submit (final), and who reads which review when
(reviews.services.review_*, reviews.selectors.reviews_visible_to, developer_feedback)."""

import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from review_portal.errors import ApplicationError, TransitionNotAllowed
from reviews.models import Review
from reviews.selectors import developer_feedback, reviews_for_request, reviews_visible_to
from reviews.services import recusal_record, review_save, review_submit, review_update
from submissions import services
from tests.reviews.conftest import FULL_SCORES, draft_review, submit_review


def _visible(user):
    return set(reviews_visible_to(user))


def test_a_draft_is_created_on_the_active_rubric_and_audited_without_its_comments(panel):
    review = review_save(review_request=panel.request, actor=panel.member,
                         scores={"exploit_development": 3}, recommendation="covered",
                         comments_for_developer="  Solid work. ",
                         internal_comments="SECRET-INTERNAL")
    assert review.status == Review.Status.DRAFT
    assert review.rubric_version.number == 1
    assert review.scores == {"exploit_development": 3}
    assert review.comments_for_developer == "Solid work."
    assert review.submitted_at is None
    event = AuditEvent.objects.get(action="review.drafted")
    assert event.actor == panel.member
    assert event.object_type == "reviews.review"
    assert event.data["scores"] == {"exploit_development": 3}
    assert "SECRET-INTERNAL" not in str(event.data)
    assert "Solid work" not in str(event.data)


def test_saving_again_changes_only_what_is_given(panel):
    draft_review(panel.request, panel.member, confidence="low",
                 internal_comments="First thoughts.")
    review = review_save(review_request=panel.request, actor=panel.member,
                         scores={"attack_automation": 4})
    assert (review.confidence, review.internal_comments) == ("low", "First thoughts.")
    assert review.scores == {"attack_automation": 4}
    assert Review.objects.count() == 1
    assert AuditEvent.objects.filter(action="review.draft_saved").count() == 1


def test_a_submitted_review_is_complete_final_and_audited(panel):
    review = draft_review(panel.request, panel.member)
    review = review_update(review=review, actor=panel.member, scores=FULL_SCORES,
                           recommendation="not_covered", confidence="high", submit=True)
    assert review.status == Review.Status.SUBMITTED
    assert review.submitted_at is not None
    event = AuditEvent.objects.get(action="review.submitted")
    assert event.data["recommendation"] == "not_covered"
    assert event.data["scores"] == FULL_SCORES
    before = AuditEvent.objects.count()
    for attempt in (
        lambda: review_save(review_request=panel.request, actor=panel.member,
                            recommendation="covered"),
        lambda: review_submit(review=review, actor=panel.member),
        lambda: review_update(review=review, actor=panel.member, internal_comments="Changed."),
    ):
        with pytest.raises(ApplicationError) as excinfo:
            attempt()
        assert excinfo.value.status == 409
    review.refresh_from_db()
    assert review.recommendation == "not_covered"
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"scores": {k: v for k, v in FULL_SCORES.items() if k != "uplift_to_novices"}},
     "scores", "uplift_to_novices"),
    ({"recommendation": ""}, "recommendation", "recommendation"),
    ({"confidence": ""}, "confidence", "confident"),
])
def test_an_incomplete_review_cannot_be_submitted(panel, fields, field, message):
    values = {"scores": FULL_SCORES, "recommendation": "covered", "confidence": "low"} | fields
    with pytest.raises(ApplicationError) as excinfo:
        review_save(review_request=panel.request, actor=panel.member, submit=True, **values)
    assert excinfo.value.field == field
    assert message in excinfo.value.message
    assert not Review.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="review.").exists()


@pytest.mark.parametrize(("fields", "field"), [
    ({"scores": {"exploit_development": 5}}, "scores"),
    ({"scores": {"exploit_development": -1}}, "scores"),
    ({"scores": {"exploit_development": 2.5}}, "scores"),
    ({"scores": {"exploit_development": True}}, "scores"),
    ({"scores": {"persistence": 2}}, "scores"),
    ({"scores": [1, 2]}, "scores"),
    ({"recommendation": "approved"}, "recommendation"),
    ({"confidence": "total"}, "confidence"),
    ({"internal_comments": "x" * 20_001}, "internal_comments"),
])
def test_bad_review_input_is_refused_and_nothing_is_written(panel, fields, field):
    with pytest.raises(ApplicationError) as excinfo:
        review_save(review_request=panel.request, actor=panel.member, **fields)
    assert excinfo.value.field == field
    assert not Review.objects.exists()


@pytest.mark.parametrize("who", ["reviewer2", "admin", "owner", "colleague", "outsider",
                                 "partner"])
def test_only_an_assigned_reviewer_writes_a_review(panel, who):
    with pytest.raises(PermissionDenied):
        review_save(review_request=panel.request, actor=panel.actors()[who], scores={})
    assert not Review.objects.exists()


def test_nobody_changes_or_submits_anothers_review(panel):
    review = draft_review(panel.request, panel.member)
    for actor in (panel.lead, panel.admin):
        with pytest.raises(PermissionDenied):
            review_update(review=review, actor=actor, recommendation="covered")
        with pytest.raises(PermissionDenied):
            review_submit(review=review, actor=actor)
    review.refresh_from_db()
    assert (review.status, review.recommendation) == ("draft", "")


@pytest.mark.parametrize("status", ["determined", "withdrawn"])
def test_reviews_are_written_only_while_the_request_is_under_review(panel, status):
    if status == "determined":
        services.request_determine(review_request=panel.request, actor=panel.lead,
                                   outcome="not_covered", rationale="Below.")
    else:
        services.request_withdraw(review_request=panel.request, actor=panel.owner)
    with pytest.raises(TransitionNotAllowed):
        review_save(review_request=panel.request, actor=panel.member, scores={})
    assert not Review.objects.exists()


def test_a_review_can_be_written_while_a_question_is_open(panel):
    services.request_ask_information(review_request=panel.request, actor=panel.lead,
                                     question="Which scaffolds?")
    assert submit_review(panel.request, panel.member).is_submitted


# --- independence ----------------------------------------------------------------------------

def test_a_reviewer_reads_the_others_reviews_only_after_submitting_their_own(panel):
    third = panel.world.reviewer2
    services.reviewer_assign(review_request=panel.request, reviewer=third, actor=panel.admin)
    lead_review = submit_review(panel.request, panel.lead)
    third_draft = draft_review(panel.request, third)

    # The member has written nothing, then a draft: they see only their own work.
    assert _visible(panel.member) == set()
    member_review = draft_review(panel.request, panel.member)
    assert _visible(panel.member) == {member_review}

    member_review = review_save(review_request=panel.request, actor=panel.member,
                                scores=FULL_SCORES, recommendation="covered",
                                confidence="low", submit=True)

    # Submitted: the other submitted reviews appear; a draft never does.
    assert _visible(panel.member) == {member_review, lead_review}
    assert third_draft not in _visible(panel.member)
    assert _visible(third) == {third_draft}


def test_the_lead_reads_every_submitted_review_at_any_time(panel):
    member_review = submit_review(panel.request, panel.member)
    assert _visible(panel.lead) == {member_review}
    lead_draft = draft_review(panel.request, panel.lead)
    assert _visible(panel.lead) == {member_review, lead_draft}
    assert list(reviews_for_request(user=panel.lead, review_request=panel.request)) == [
        member_review, lead_draft]


def test_admins_read_submitted_reviews_and_no_drafts(panel):
    submitted = submit_review(panel.request, panel.member)
    draft_review(panel.request, panel.lead)
    assert _visible(panel.admin) == {submitted}


@pytest.mark.parametrize("who", ["owner", "colleague", "outsider", "reviewer2", "partner"])
def test_nobody_else_reads_any_review(panel, who):
    submit_review(panel.request, panel.member)
    submit_review(panel.request, panel.lead)
    assert _visible(panel.actors()[who]) == set()


def test_a_recused_reviewer_loses_even_their_own_review(panel):
    review = submit_review(panel.request, panel.member)
    recusal_record(assignment=panel.request.assignments.get(reviewer=panel.member),
                   actor=panel.member, note="Conflict found.")
    assert _visible(panel.member) == set()
    assert review in _visible(panel.lead)


def test_an_inactive_reviewer_reads_nothing(panel):
    submit_review(panel.request, panel.member)
    panel.member.is_active = False
    panel.member.save(update_fields=["is_active"])
    assert _visible(panel.member) == set()


# --- what the developer reads ----------------------------------------------------------------

def test_after_the_determination_the_developer_reads_anonymised_comments(panel):
    submit_review(panel.request, panel.member, comments="Member comment.",
                  internal="SECRET-MEMBER")
    submit_review(panel.request, panel.lead, comments="", internal="SECRET-LEAD")
    assert developer_feedback(review_request=panel.request) == []
    services.request_determine(review_request=panel.request, actor=panel.lead,
                               outcome="not_covered", rationale="Below.")
    feedback = developer_feedback(review_request=panel.request)
    # Numbered among the reviews that left a comment, so nothing is revealed by a gap.
    assert [(f.label, f.comments) for f in feedback] == [("Reviewer 1", "Member comment.")]
