"""Reads for the reviewer workflow and the threshold policy, filtered for the user.

Who sees what:
- a review's author sees it (draft or submitted) while assigned to its request;
- another assigned reviewer sees it once submitted, and only after submitting their own review
  of that request (independence); the lead sees every submitted review at any time;
- program admins see every submitted review. Drafts stay with their author;
- developers, partners and unassigned reviewers see no review, rubric, policy, rule, conflict or
  assignment (404). After a determination the developer may read the reviewers' comments written
  for them, as "Reviewer 1", "Reviewer 2".
"""

from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import policy
from accounts.models import Organisation
from evaluations.models import EvaluationRun
from evaluations.selectors import latest_successful_runs
from reviews import policy as policy_rules
from reviews.models import (
    ConflictOfInterest,
    PolicyRule,
    PolicyVersion,
    Recusal,
    Review,
    RubricVersion,
)
from submissions.models import Determination, Recommendation, ReviewerAssignment, ReviewRequest
from submissions.selectors import request_get_for_user, requests_visible_to

# --- conflicts of interest ------------------------------------------------------------------

def conflicts_visible_to(user) -> QuerySet[ConflictOfInterest]:
    qs = ConflictOfInterest.objects.select_related("reviewer", "organisation")
    if policy.is_program_admin(user):
        return qs
    if policy.is_agency_reviewer(user):
        return qs.filter(reviewer=user)
    return qs.none()


def conflict_get_for_user(*, user, pk) -> ConflictOfInterest:
    return get_object_or_404(conflicts_visible_to(user), pk=pk)


def conflict_of(*, reviewer, organisation) -> ConflictOfInterest | None:
    return ConflictOfInterest.objects.filter(reviewer=reviewer, organisation=organisation).first()


def developer_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=Organisation.Kind.AI_DEVELOPER)


# --- assignments and recusals ----------------------------------------------------------------

def assignments_visible_to(user) -> QuerySet[ReviewerAssignment]:
    """Who reviews what is the government's: developers and partners see no assignment."""
    if not policy.is_government(user):
        return ReviewerAssignment.objects.none()
    return ReviewerAssignment.objects.filter(
        request__in=requests_visible_to(user).values("pk")
    ).select_related("reviewer", "request__model")


def assignment_get_for_user(*, user, pk) -> ReviewerAssignment:
    return get_object_or_404(assignments_visible_to(user), pk=pk)


def recusals_for_request(*, review_request: ReviewRequest) -> QuerySet[Recusal]:
    return Recusal.objects.filter(request=review_request).select_related("reviewer")


# --- rubrics --------------------------------------------------------------------------------

def rubrics_visible_to(user) -> QuerySet[RubricVersion]:
    if not policy.is_government(user):
        return RubricVersion.objects.none()
    return RubricVersion.objects.annotate(
        in_use=Exists(Review.objects.filter(rubric_version=OuterRef("pk")))
    )


def rubric_get_for_user(*, user, pk) -> RubricVersion:
    return get_object_or_404(rubrics_visible_to(user), pk=pk)


def rubric_active() -> RubricVersion | None:
    return RubricVersion.objects.filter(is_active=True).first()


# --- policies -------------------------------------------------------------------------------

def policies_visible_to(user) -> QuerySet[PolicyVersion]:
    if not policy.is_government(user):
        return PolicyVersion.objects.none()
    return PolicyVersion.objects.annotate(
        in_use=Exists(Determination.objects.filter(policy_version=OuterRef("pk")))
    ).prefetch_related(Prefetch("rules", queryset=PolicyRule.objects.order_by("position")))


def policy_get_for_user(*, user, pk) -> PolicyVersion:
    return get_object_or_404(policies_visible_to(user), pk=pk)


def policy_active() -> PolicyVersion | None:
    return (PolicyVersion.objects.filter(is_active=True)
            .prefetch_related(Prefetch("rules", queryset=PolicyRule.objects.order_by("position")))
            .first())


def active_category_thresholds() -> dict[str, float]:
    """The active policy's accuracy threshold per benchmark category (the lowest, if several
    rules name one category), for charts on government pages."""
    policy = policy_active()
    thresholds: dict[str, float] = {}
    for rule in policy.rules.all() if policy else []:
        if rule.kind == PolicyRule.Kind.CATEGORY_ACCURACY:
            thresholds[rule.category] = min(rule.threshold,
                                            thresholds.get(rule.category, rule.threshold))
    return thresholds


@dataclass(frozen=True)
class PolicyRecommendation:
    """A policy applied to a request: what it recommends, and on what evidence."""

    policy: PolicyVersion | None
    outcome: policy_rules.PolicyOutcome | None
    runs: list[EvaluationRun]

    @property
    def recommendation(self) -> str | None:
        return self.outcome.recommendation if self.outcome else None

    @property
    def label(self) -> str:
        return Recommendation(self.recommendation).label if self.outcome else ""

    @property
    def results(self) -> list[policy_rules.RuleResult]:
        return self.outcome.results if self.outcome else []

    @property
    def fired(self) -> list[policy_rules.RuleResult]:
        return self.outcome.fired if self.outcome else []

    @property
    def missing_categories(self) -> list[str]:
        return self.outcome.missing_categories if self.outcome else []


def recommendation_compute(*, review_request: ReviewRequest,
                           policy: PolicyVersion | None = None) -> PolicyRecommendation:
    """Apply `policy` (default: the active one) to the latest successful run of each suite on
    the request and to the model's declared training compute."""
    policy = policy if policy is not None else policy_active()
    runs = latest_successful_runs(review_request=review_request)
    if policy is None:
        return PolicyRecommendation(policy=None, outcome=None, runs=runs)
    outcome = policy_rules.evaluate(
        rules=list(policy.rules.all()), runs=runs,
        training_compute_flop=review_request.model.training_compute_flop)
    return PolicyRecommendation(policy=policy, outcome=outcome, runs=runs)


def recommendation_get_for_user(*, user, pk) -> tuple[ReviewRequest, PolicyRecommendation]:
    review_request = request_get_for_user(user=user, pk=pk)
    if not policy.is_government(user):
        raise Http404
    return review_request, recommendation_compute(review_request=review_request)


# --- reviews --------------------------------------------------------------------------------

def reviews_visible_to(user) -> QuerySet[Review]:
    qs = Review.objects.select_related("reviewer", "rubric_version", "request__model")
    if policy.is_program_admin(user):
        return qs.filter(status=Review.Status.SUBMITTED)
    if not policy.is_agency_reviewer(user):
        return qs.none()
    assigned = ReviewerAssignment.objects.filter(reviewer=user).values("request_id")
    lead_of = ReviewerAssignment.objects.filter(reviewer=user, is_lead=True).values("request_id")
    reviewed = Review.objects.filter(reviewer=user, status=Review.Status.SUBMITTED,
                                     request__in=assigned).values("request_id")
    return qs.filter(
        Q(reviewer=user, request__in=assigned)
        | Q(status=Review.Status.SUBMITTED) & (Q(request__in=lead_of) | Q(request__in=reviewed))
    )


def review_get_for_user(*, user, pk) -> Review:
    return get_object_or_404(reviews_visible_to(user), pk=pk)


def reviews_for_request(*, user, review_request: ReviewRequest) -> QuerySet[Review]:
    # Submitted reviews in order, drafts last: every database (SQLite sorts NULLs first).
    return reviews_visible_to(user).filter(request=review_request).order_by(
        F("submitted_at").asc(nulls_last=True), "id")


def review_of(*, user, review_request: ReviewRequest) -> Review | None:
    if not policy.is_agency_reviewer(user):
        return None
    return Review.objects.filter(request=review_request, reviewer=user).first()


def reviews_basis(*, review_request: ReviewRequest) -> QuerySet[Review]:
    """The reviews a determination rests on: the submitted reviews of reviewers still assigned
    (a reviewer who recused no longer counts)."""
    return Review.objects.filter(
        request=review_request, status=Review.Status.SUBMITTED,
        reviewer__in=ReviewerAssignment.objects.filter(request=review_request)
        .values("reviewer_id"),
    ).order_by("submitted_at", "id")


@dataclass(frozen=True)
class Feedback:
    label: str
    comments: str


def developer_feedback(*, review_request: ReviewRequest) -> list[Feedback]:
    """The reviewers' comments for the developer on the latest determination, anonymised.
    Numbered among the reviews that left a comment, so the numbers reveal nothing more."""
    latest = (Determination.objects.filter(request=review_request)
              .order_by("-decided_at", "-id").values("pk")[:1])
    comments = (Review.objects.filter(determinations__in=latest,
                                      status=Review.Status.SUBMITTED)
                .exclude(comments_for_developer="").order_by("submitted_at", "id")
                .values_list("comments_for_developer", flat=True))
    return [Feedback(label=f"Reviewer {i}", comments=text)
            for i, text in enumerate(comments, start=1)]


def feedback_get_for_user(*, user, pk) -> list[Feedback]:
    return developer_feedback(review_request=request_get_for_user(user=user, pk=pk))


def reviews_due(user) -> QuerySet[ReviewRequest]:
    """Requests in review, assigned to the reviewer, that have no submitted review of theirs:
    each assigned reviewer scores the model independently (the home page's "reviews due")."""
    if not policy.is_agency_reviewer(user):
        return ReviewRequest.objects.none()
    submitted = Review.objects.filter(request=OuterRef("pk"), reviewer=user,
                                      status=Review.Status.SUBMITTED)
    assigned = ReviewerAssignment.objects.filter(reviewer=user).values("request_id")
    return (ReviewRequest.objects.filter(pk__in=assigned, status=ReviewRequest.Status.IN_REVIEW)
            .exclude(Exists(submitted)).select_related("model").order_by("created_at", "id"))
