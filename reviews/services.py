"""Writes for the reviewer workflow and the threshold policy.

Conflicts of interest and assignments are serialised on the reviewer's user row: a conflict
declared while an admin assigns the same reviewer either lands first (and the assignment is
refused) or second (and it recuses the reviewer from the new assignment). Policy edits and
determinations are serialised on the policy row, so a version cannot change under a
determination that is being recorded on it.
"""

import re

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts import policy as access
from accounts.models import Organisation, User
from audit.services import audit_record
from evaluations.models import Capability
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse
from reviews.models import (
    SCORE_MAX,
    SCORE_MIN,
    ConflictOfInterest,
    PolicyRule,
    PolicyVersion,
    Recusal,
    Review,
    RubricVersion,
)
from submissions.models import Recommendation, ReviewerAssignment, ReviewRequest
from submissions.services import assignment_revoke_access

REVIEWABLE = frozenset({ReviewRequest.Status.IN_REVIEW,
                        ReviewRequest.Status.INFORMATION_REQUESTED})
NOTE_LIMIT = 5_000
TEXT_LIMIT = 20_000
KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")




def _text(value, *, field: str, label: str, required: bool, limit: int) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise ApplicationError(f"{label} must be text.", field=field)
    if required and not text:
        raise ApplicationError(f"Write {label.lower()}.", field=field)
    if len(text) > limit:
        raise ApplicationError(f"{label} can be at most {limit} characters long.", field=field)
    return text


def _require_admin(actor: User, what: str) -> None:
    if not access.is_program_admin(actor):
        raise PermissionDenied(f"Only program admins {what}.")


# --- conflicts of interest and recusal ------------------------------------------------------

def _recuse(*, assignment: ReviewerAssignment, note: str, actor: User) -> Recusal:
    recusal = Recusal(request=assignment.request, reviewer=assignment.reviewer, note=note,
                      was_lead=assignment.is_lead)
    save_or_refuse(recusal)
    review_request = assignment.request
    assignment_revoke_access(assignment=assignment)
    # Recorded on the recusal, not on the request: the developer's history of the request does
    # not show who stepped off it, or that anyone did.
    audit_record(actor=actor, action="reviewer.recused", obj=recusal,
                 organisation=review_request.model.organisation,
                 data={"request": review_request.pk, "reviewer": assignment.reviewer.username,
                       "was_lead": recusal.was_lead})
    return recusal


@transaction.atomic
def conflict_declare(*, actor: User, organisation: Organisation, kind: str,
                     note: str) -> ConflictOfInterest:
    """Declare a conflict with a developer organisation. The reviewer is recused at once from
    any request of that organisation they are assigned to."""
    if not access.is_agency_reviewer(actor):
        raise PermissionDenied("Only agency reviewers declare conflicts of interest.")
    if not isinstance(organisation, Organisation) or (
            organisation.kind != Organisation.Kind.AI_DEVELOPER):
        raise ApplicationError("Choose an AI developer organisation.", field="organisation")
    if kind not in ConflictOfInterest.Kind.values:
        raise ApplicationError("Choose the kind of conflict.", field="kind")
    note = _text(note, field="note", label="A note on the conflict", required=True,
                 limit=NOTE_LIMIT)
    User.objects.select_for_update().get(pk=actor.pk)
    if ConflictOfInterest.objects.filter(reviewer=actor, organisation=organisation).exists():
        raise ApplicationError(f"You already declared a conflict with {organisation}.",
                               field="organisation", status=409)
    conflict = ConflictOfInterest(reviewer=actor, organisation=organisation, kind=kind, note=note)
    save_or_refuse(conflict)
    audit_record(actor=actor, action="conflict.declared", obj=conflict,
                 organisation=organisation, data={"organisation": organisation.name,
                                                  "kind": kind})
    for assignment in (ReviewerAssignment.objects.select_related("request__model__organisation",
                                                                 "reviewer")
                       .filter(reviewer=actor, request__model__organisation=organisation)):
        _recuse(assignment=assignment, actor=actor,
                note=f"Declared a conflict of interest ({conflict.get_kind_display()}).")
    return conflict


@transaction.atomic
def recusal_record(*, assignment: ReviewerAssignment, actor: User, note: str) -> Recusal:
    """A reviewer steps off a request: the assignment and its access go, a record stays."""
    if assignment.reviewer_id != actor.pk:
        raise PermissionDenied("Only the reviewer recuses themselves.")
    note = _text(note, field="note", label="A note on why you recuse", required=True,
                 limit=NOTE_LIMIT)
    User.objects.select_for_update().get(pk=actor.pk)
    assignment = (ReviewerAssignment.objects.select_for_update(of=("self",))
                  .select_related("request__model__organisation", "reviewer")
                  .filter(pk=assignment.pk).first())
    if assignment is None:
        raise ApplicationError("You are no longer assigned to this request.", status=409)
    return _recuse(assignment=assignment, note=note, actor=actor)


@transaction.atomic
def lead_set(*, assignment: ReviewerAssignment, actor: User) -> ReviewerAssignment:
    """Make `assignment`'s reviewer the lead of its request (the previous lead, if any, stays
    assigned as a reviewer)."""
    _require_admin(actor, "choose the lead reviewer")
    review_request = ReviewRequest.objects.select_for_update().get(pk=assignment.request_id)
    assignment = ReviewerAssignment.objects.select_related("reviewer").get(pk=assignment.pk)
    if assignment.is_lead:
        return assignment
    previous = review_request.assignments.filter(is_lead=True).select_related("reviewer").first()
    if previous is not None:
        previous.is_lead = False
        previous.save(update_fields=["is_lead"])
    assignment.is_lead = True
    save_or_refuse(assignment)
    audit_record(actor=actor, action="reviewer.lead_set", obj=review_request,
                 organisation=review_request.model.organisation,
                 data={"reviewer": assignment.reviewer.username,
                       "previous": previous.reviewer.username if previous else None})
    return assignment


# --- rubrics --------------------------------------------------------------------------------

def _clean_dimensions(dimensions) -> list[dict]:
    if not isinstance(dimensions, list) or not dimensions:
        raise ApplicationError("A rubric needs at least one dimension.", field="dimensions")
    cleaned, keys = [], set()
    for i, dimension in enumerate(dimensions, start=1):
        if not isinstance(dimension, dict):
            raise ApplicationError(f"Dimension {i} must have a key, a name and guidance.",
                                   field="dimensions")
        key = dimension.get("key")
        if not isinstance(key, str) or not KEY.match(key.strip()):
            raise ApplicationError(f"Dimension {i}: the key is lower-case letters, digits and "
                                   "underscores, starting with a letter.", field="dimensions")
        key = key.strip()
        if key in keys:
            raise ApplicationError(f"Dimension {i}: the key {key} is used twice.",
                                   field="dimensions")
        keys.add(key)
        name = _text(dimension.get("name"), field="dimensions", label=f"Dimension {i}'s name",
                     required=True, limit=200)
        guidance = _text(dimension.get("guidance"), field="dimensions",
                         label=f"Dimension {i}'s guidance", required=True, limit=5_000)
        cleaned.append({"key": key, "name": name, "guidance": guidance})
    return cleaned


def _activate(model_class, obj, *, actor: User, action: str) -> None:
    """Make `obj` the one active version of its kind (the partial unique index holds it)."""
    model_class.objects.select_for_update().filter(is_active=True).exclude(pk=obj.pk).update(
        is_active=False)
    obj.is_active = True
    obj.activated_at = timezone.now()
    try:
        with transaction.atomic():
            obj.save(update_fields=["is_active", "activated_at"])
    except IntegrityError as exc:
        raise ApplicationError("Another version was activated at the same time; try again.",
                               status=409) from exc
    audit_record(actor=actor, action=action, obj=obj, data={"number": obj.number})


def _next_number(model_class) -> int:
    return (model_class.objects.aggregate(n=Max("number"))["n"] or 0) + 1


@transaction.atomic
def rubric_create(*, actor: User, name: str, dimensions, activate: bool = False) -> RubricVersion:
    _require_admin(actor, "define rubrics")
    name = _text(name, field="name", label="A name", required=True, limit=200)
    rubric = RubricVersion(number=_next_number(RubricVersion), name=name,
                           dimensions=_clean_dimensions(dimensions), created_by=actor)
    save_or_refuse(rubric)
    audit_record(actor=actor, action="rubric.created", obj=rubric,
                 data={"number": rubric.number, "dimensions": rubric.dimension_keys})
    if activate:
        _activate(RubricVersion, rubric, actor=actor, action="rubric.activated")
    return rubric


def rubric_check_editable(*, rubric: RubricVersion) -> RubricVersion:
    """A rubric in use is frozen: once a review scores on a version, that version never changes
    (pages, API and commands all refuse through here; the admin is read-only). Returns the
    rubric when it may still change."""
    if rubric.reviews.exists():
        raise ApplicationError(f"Rubric v{rubric.number} is used by a review and can no longer "
                               "change; create a new version.", status=409)
    return rubric


@transaction.atomic
def rubric_update(*, rubric: RubricVersion, actor: User, name: str | None = None,
                  dimensions=None, activate: bool = False) -> RubricVersion:
    _require_admin(actor, "define rubrics")
    rubric = RubricVersion.objects.select_for_update().get(pk=rubric.pk)
    # A review locks nothing on the rubric: it is created on the active version, and a version
    # with a review is frozen. The lock above orders this check after any review that commits
    # first; a review saved after it sees the edited version, which is the version it scores.
    rubric_check_editable(rubric=rubric)
    changed = {}
    if name is not None:
        changed["name"] = _text(name, field="name", label="A name", required=True, limit=200)
    if dimensions is not None:
        changed["dimensions"] = _clean_dimensions(dimensions)
    for key, value in changed.items():
        setattr(rubric, key, value)
    save_or_refuse(rubric)
    audit_record(actor=actor, action="rubric.updated", obj=rubric,
                 data={"number": rubric.number, "changed": sorted(changed)})
    if activate and not rubric.is_active:
        _activate(RubricVersion, rubric, actor=actor, action="rubric.activated")
    return rubric


@transaction.atomic
def rubric_activate(*, rubric: RubricVersion, actor: User) -> RubricVersion:
    _require_admin(actor, "activate rubrics")
    rubric = RubricVersion.objects.select_for_update().get(pk=rubric.pk)
    if not rubric.is_active:
        _activate(RubricVersion, rubric, actor=actor, action="rubric.activated")
    return rubric


# --- threshold policies ---------------------------------------------------------------------

def _clean_rules(rules) -> list[dict]:
    if not isinstance(rules, list) or not rules:
        raise ApplicationError("A policy needs at least one rule.", field="rules")
    cleaned = []
    for i, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict):
            raise ApplicationError(f"Rule {i} must have a kind, a threshold and a citation.",
                                   field="rules")
        kind = rule.get("kind")
        category = rule.get("category") or ""
        threshold = rule.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float):
            raise ApplicationError(f"Rule {i}: the threshold must be a number.", field="rules")
        threshold = float(threshold)
        if kind == PolicyRule.Kind.CATEGORY_ACCURACY:
            if category not in Capability.values:
                raise ApplicationError(f"Rule {i}: choose a capability category "
                                       f"({', '.join(Capability.values)}).", field="rules")
            if not 0 <= threshold <= 1:
                raise ApplicationError(f"Rule {i}: an accuracy threshold is between 0 and 1.",
                                       field="rules")
        elif kind == PolicyRule.Kind.TRAINING_COMPUTE:
            if category:
                raise ApplicationError(f"Rule {i}: a compute rule has no category.",
                                       field="rules")
            if not 0 < threshold < 1e35:
                raise ApplicationError(f"Rule {i}: a compute threshold is a positive number "
                                       "of FLOP (for example 1e26).", field="rules")
        else:
            raise ApplicationError(f"Rule {i}: the kind is category_accuracy or "
                                   "training_compute.", field="rules")
        citation = _text(rule.get("citation"), field="rules", label=f"Rule {i}'s citation",
                         required=True, limit=2_000)
        cleaned.append({"kind": kind, "category": category, "threshold": threshold,
                        "citation": citation})
    return cleaned


def _write_rules(policy: PolicyVersion, rules: list[dict]) -> None:
    policy.rules.all().delete()
    for position, rule in enumerate(rules, start=1):
        save_or_refuse(PolicyRule(policy=policy, position=position, **rule))


def _rules_data(rules: list[dict]) -> list[dict]:
    return [{"kind": r["kind"], "category": r["category"], "threshold": r["threshold"]}
            for r in rules]


@transaction.atomic
def policy_create(*, actor: User, name: str, rules, notes: str = "",
                  activate: bool = False) -> PolicyVersion:
    _require_admin(actor, "manage the threshold policy")
    name = _text(name, field="name", label="A name", required=True, limit=200)
    notes = _text(notes, field="notes", label="Notes", required=False, limit=TEXT_LIMIT)
    rules = _clean_rules(rules)
    policy = PolicyVersion(number=_next_number(PolicyVersion), name=name, notes=notes,
                           created_by=actor)
    save_or_refuse(policy)
    _write_rules(policy, rules)
    audit_record(actor=actor, action="policy.created", obj=policy,
                 data={"number": policy.number, "rules": _rules_data(rules)})
    if activate:
        _activate(PolicyVersion, policy, actor=actor, action="policy.activated")
    return policy


def policy_check_editable(*, policy: PolicyVersion) -> PolicyVersion:
    """A threshold policy version a determination rests on is frozen, like a rubric in use.
    Returns the policy when it may still change."""
    if policy.determinations.exists():
        raise ApplicationError(f"Policy v{policy.number} is the basis of a determination and can "
                               "no longer change; create a new version.", status=409)
    return policy


@transaction.atomic
def policy_update(*, policy: PolicyVersion, actor: User, name: str | None = None,
                  notes: str | None = None, rules=None, activate: bool = False) -> PolicyVersion:
    _require_admin(actor, "manage the threshold policy")
    # request_determine locks this row before it records a determination on the version, so
    # the check below cannot pass while a determination on it is being written.
    policy = PolicyVersion.objects.select_for_update().get(pk=policy.pk)
    policy_check_editable(policy=policy)
    changed = []
    if name is not None:
        policy.name = _text(name, field="name", label="A name", required=True, limit=200)
        changed.append("name")
    if notes is not None:
        policy.notes = _text(notes, field="notes", label="Notes", required=False,
                             limit=TEXT_LIMIT)
        changed.append("notes")
    cleaned = _clean_rules(rules) if rules is not None else None
    save_or_refuse(policy)
    data = {"number": policy.number, "changed": changed}
    if cleaned is not None:
        _write_rules(policy, cleaned)
        data["changed"].append("rules")
        data["rules"] = _rules_data(cleaned)
    audit_record(actor=actor, action="policy.updated", obj=policy, data=data)
    if activate and not policy.is_active:
        _activate(PolicyVersion, policy, actor=actor, action="policy.activated")
    return policy


@transaction.atomic
def policy_activate(*, policy: PolicyVersion, actor: User) -> PolicyVersion:
    _require_admin(actor, "manage the threshold policy")
    policy = PolicyVersion.objects.select_for_update().get(pk=policy.pk)
    if not policy.is_active:
        _activate(PolicyVersion, policy, actor=actor, action="policy.activated")
    return policy


# --- reviews --------------------------------------------------------------------------------

def _clean_scores(scores, rubric: RubricVersion, *, complete: bool) -> dict:
    if scores is None:
        scores = {}
    if not isinstance(scores, dict):
        raise ApplicationError("Scores are given per dimension.", field="scores")
    keys = rubric.dimension_keys
    unknown = sorted(set(map(str, scores)) - set(keys))
    if unknown:
        raise ApplicationError(f"Not a dimension of rubric v{rubric.number}: "
                               f"{', '.join(unknown)}.", field="scores")
    cleaned = {}
    for key in keys:
        value = scores.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not (
                SCORE_MIN <= value <= SCORE_MAX):
            raise ApplicationError(f"Score {key} with a whole number from {SCORE_MIN} to "
                                   f"{SCORE_MAX}.", field="scores")
        cleaned[key] = value
    if complete:
        missing = [k for k in keys if k not in cleaned]
        if missing:
            raise ApplicationError(f"Score every dimension before submitting (missing: "
                                   f"{', '.join(missing)}).", field="scores")
    return cleaned


def _require_assigned_reviewer(actor: User, review_request: ReviewRequest) -> None:
    if not access.is_assigned_reviewer(actor, review_request):
        raise PermissionDenied("Only a reviewer assigned to this request writes a review of it.")


def _require_reviewable(review_request: ReviewRequest) -> None:
    if review_request.status not in REVIEWABLE:
        raise TransitionNotAllowed("Reviews are written while the request is under review.")


def _check_submittable(review: Review) -> None:
    _clean_scores(review.scores, review.rubric_version, complete=True)
    if review.recommendation not in Recommendation.values:
        raise ApplicationError("Give your overall recommendation before submitting.",
                               field="recommendation")
    if review.confidence not in Review.Confidence.values:
        raise ApplicationError("Say how confident you are before submitting.",
                               field="confidence")


def _audit_review(review: Review, actor: User, action: str) -> None:
    # Scores are recorded; the comments are not (the trail is not a copy of the review).
    audit_record(actor=actor, action=action, obj=review,
                 organisation=review.request.model.organisation,
                 data={"request": review.request_id, "scores": review.scores,
                       "recommendation": review.recommendation,
                       "confidence": review.confidence,
                       "rubric": review.rubric_version.number})


@transaction.atomic
def review_save(*, review_request: ReviewRequest, actor: User, scores=None,
                recommendation: str | None = None, confidence: str | None = None,
                comments_for_developer: str | None = None, internal_comments: str | None = None,
                submit: bool = False) -> Review:
    """Create or change the actor's draft review of the request, and submit it if `submit`.

    A new review is scored on the active rubric. A field given as None is left as it is (empty
    on a new review). A submitted review is final."""
    _require_assigned_reviewer(actor, review_request)
    review_request = ReviewRequest.objects.select_related("model__organisation").get(
        pk=review_request.pk)
    _require_reviewable(review_request)
    review = (Review.objects.select_for_update(of=("self",)).select_related("rubric_version")
              .filter(request=review_request, reviewer=actor).first())
    if review is not None and review.is_submitted:
        raise ApplicationError("Your review is submitted and final.", status=409)
    if review is None:
        rubric = RubricVersion.objects.filter(is_active=True).first()
        if rubric is None:
            raise ApplicationError("No rubric is active; a program admin activates one first.",
                                   status=409)
        review = Review(request=review_request, reviewer=actor, rubric_version=rubric)
    if recommendation is not None:
        if recommendation and recommendation not in Recommendation.values:
            raise ApplicationError("Choose a recommendation: covered, not covered or "
                                   "insufficient evidence.", field="recommendation")
        review.recommendation = recommendation
    if confidence is not None:
        if confidence and confidence not in Review.Confidence.values:
            raise ApplicationError("Choose a confidence: low, medium or high.",
                                   field="confidence")
        review.confidence = confidence
    if scores is not None:
        review.scores = _clean_scores(scores, review.rubric_version, complete=False)
    if comments_for_developer is not None:
        review.comments_for_developer = _text(
            comments_for_developer, field="comments_for_developer",
            label="Comments for the developer", required=False, limit=TEXT_LIMIT)
    if internal_comments is not None:
        review.internal_comments = _text(internal_comments, field="internal_comments",
                                         label="Internal comments", required=False,
                                         limit=TEXT_LIMIT)
    created = review.pk is None
    if submit:
        _check_submittable(review)
        review.status = Review.Status.SUBMITTED
        review.submitted_at = timezone.now()
    save_or_refuse(review)
    _audit_review(review, actor, "review.submitted" if submit else
                  ("review.drafted" if created else "review.draft_saved"))
    return review


@transaction.atomic
def review_update(*, review: Review, actor: User, **fields) -> Review:
    """Change (and with submit=True, submit) an existing review: its author only."""
    if review.reviewer_id != actor.pk:
        raise PermissionDenied("Only the review's author changes it.")
    return review_save(review_request=review.request, actor=actor, **fields)


@transaction.atomic
def review_submit(*, review: Review, actor: User) -> Review:
    """Submit a draft as it stands."""
    if review.reviewer_id != actor.pk:
        raise PermissionDenied("Only the review's author submits it.")
    _require_assigned_reviewer(actor, review.request)
    review = (Review.objects.select_for_update(of=("self",))
              .select_related("rubric_version", "request__model__organisation")
              .get(pk=review.pk))
    _require_reviewable(review.request)
    if review.is_submitted:
        raise ApplicationError("This review is already submitted.", status=409)
    _check_submittable(review)
    review.status = Review.Status.SUBMITTED
    review.submitted_at = timezone.now()
    save_or_refuse(review)
    _audit_review(review, actor, "review.submitted")
    return review
