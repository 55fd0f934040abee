"""Writes for models, determination requests, the thread and reviewer assignments.

Every state change goes through `_transition`, which checks the table in `workflow.py`, writes
the audit event and notifies the other side.
"""

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from notifications import submission_events
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse
from reviews.models import ConflictOfInterest, PolicyVersion, Recusal
from reviews.selectors import recommendation_compute, reviews_basis
from submissions.models import (
    Determination,
    FrontierModel,
    Message,
    Modality,
    Recommendation,
    ReviewerAssignment,
    ReviewRequest,
)
from submissions.selectors import model_has_determination
from submissions.workflow import AGENCY, DEVELOPER, OPEN_STATES, TRANSITIONS

MODEL_FIELDS = (
    "name", "version", "description", "modalities", "training_compute_flop",
    "compute_estimation_method", "compute_estimation_notes",
    "planned_partner_release_at", "planned_public_release_at",
)
# What a final determination rests on. The release schedule stays editable after it: moving a
# date is the developer's business, and a window that no longer fits is flagged, not changed.
RELEASE_FIELDS = ("planned_partner_release_at", "planned_public_release_at")
SUBSTANCE_FIELDS = frozenset(MODEL_FIELDS) - set(RELEASE_FIELDS)
TEXT_FIELDS = ("name", "version", "description", "compute_estimation_notes")


def _require_developer(user, model: FrontierModel) -> None:
    if not policy.is_developer_of(user, model):
        raise PermissionDenied("Only the developer organisation's members may do this.")


def _normalise_model_fields(values: dict) -> dict:
    values = dict(values)
    for key in TEXT_FIELDS:
        if isinstance(values.get(key), str):
            values[key] = values[key].strip()
    modalities = values.get("modalities")
    if isinstance(modalities, list) and set(map(str, modalities)) <= set(Modality.values):
        # One canonical order without repeats, so a form that sends the same set in another
        # order is not taken for a change (which would be refused after a determination).
        values["modalities"] = [m for m in Modality.values if m in modalities]
    return values


def _validate_model_fields(values: dict, *, now: datetime, check_past: set[str]) -> None:
    modalities = values.get("modalities")
    if not isinstance(modalities, list) or not modalities:
        raise ApplicationError("Choose at least one modality.", field="modalities")
    unknown = sorted({str(m) for m in modalities} - set(Modality.values))
    if unknown:
        raise ApplicationError(f"Unknown modality: {', '.join(map(str, unknown))}.",
                               field="modalities")
    flop = values.get("training_compute_flop")
    if isinstance(flop, bool) or not isinstance(flop, int | float) or not 0 < flop < 1e35:
        raise ApplicationError("Estimated training compute must be a positive number of FLOP "
                               "(for example 3e25).", field="training_compute_flop")
    for field in RELEASE_FIELDS:
        value = values.get(field)
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise ApplicationError("Give the planned release date and time (with its time zone).",
                                   field=field)
    partner = values["planned_partner_release_at"]
    public = values["planned_public_release_at"]
    for field in RELEASE_FIELDS:  # a fixed order, so the first problem is the one reported
        if field in check_past and values[field] <= now:
            raise ApplicationError("A planned release date cannot be in the past.", field=field)
    if public < partner:
        raise ApplicationError("The public release cannot come before the release to trusted "
                               "partners.", field="planned_public_release_at")


def _check_version_is_new(*, model: FrontierModel) -> None:
    clash = FrontierModel.objects.filter(organisation_id=model.organisation_id, name=model.name,
                                         version=model.version).exclude(pk=model.pk)
    if clash.exists():
        raise ApplicationError(f"Your organisation has already registered {model.name} "
                               f"{model.version}; give this one a new version.",
                               field="version", status=409)




@transaction.atomic
def model_register(*, actor: User, **fields) -> FrontierModel:
    if not policy.is_developer(actor):
        raise PermissionDenied("Only members of an AI developer organisation register models.")
    membership = actor.membership
    values = _normalise_model_fields({k: fields.get(k) for k in MODEL_FIELDS})
    values["compute_estimation_notes"] = values["compute_estimation_notes"] or ""
    _validate_model_fields(values, now=timezone.now(), check_past=set(RELEASE_FIELDS))
    model = FrontierModel(organisation=membership.organisation, created_by=actor, **values)
    _check_version_is_new(model=model)
    save_or_refuse(model)
    group = membership.organisation.group
    for perm in ("view_frontiermodel", "change_frontiermodel"):
        assign_perm(f"submissions.{perm}", group, model)
    audit_record(actor=actor, action="model.registered", obj=model,
                 organisation=model.organisation, data={"name": model.name,
                                                         "version": model.version})
    return model


@transaction.atomic
def model_update(*, model: FrontierModel, actor: User, **changes) -> FrontierModel:
    _require_developer(actor, model)
    model = FrontierModel.objects.select_for_update().get(pk=model.pk)
    changes = _normalise_model_fields({k: v for k, v in changes.items() if k in MODEL_FIELDS})
    changed = {k: v for k, v in changes.items() if getattr(model, k) != v}
    if not changed:
        return model
    frozen = sorted(set(changed) & SUBSTANCE_FIELDS)
    if frozen and model_has_determination(model=model):
        raise ApplicationError(
            "A determination has been made on this model version; its description can no longer "
            "change (register a new version instead). Release dates can still be moved.",
            field=frozen[0], status=409,
        )
    values = {k: getattr(model, k) for k in MODEL_FIELDS} | changed
    values["compute_estimation_notes"] = values["compute_estimation_notes"] or ""
    _validate_model_fields(values, now=timezone.now(),
                           check_past={f for f in changed if f.startswith("planned_")})
    for key, value in changed.items():
        setattr(model, key, value)
    _check_version_is_new(model=model)
    save_or_refuse(model)
    audit_record(actor=actor, action="model.updated", obj=model, organisation=model.organisation,
                 data={"changed": {k: str(v) for k, v in changed.items()}})
    if {"planned_partner_release_at", "planned_public_release_at"} & set(changed):
        from submissions.window_services import windows_recheck_for_model

        windows_recheck_for_model(model=model, actor=actor)
    return model


@transaction.atomic
def request_create(*, model: FrontierModel, actor: User, cover_note: str = "") -> ReviewRequest:
    _require_developer(actor, model)
    if model.review_requests.exclude(status=ReviewRequest.Status.WITHDRAWN).exists():
        raise ApplicationError("This model version already has a request; withdraw it before "
                               "filing a new one.", status=409)
    review_request = ReviewRequest(model=model, created_by=actor, cover_note=cover_note or "")
    save_or_refuse(review_request)
    group = model.organisation.group
    for perm in ("view_reviewrequest", "change_reviewrequest"):
        assign_perm(f"submissions.{perm}", group, review_request)
    audit_record(actor=actor, action="review_request.created", obj=review_request,
                 organisation=model.organisation)
    return review_request


def _side_check(actor: User, review_request: ReviewRequest, action: str) -> tuple[str | None, str]:
    """The side `actor` takes `action` for, or None and why they may not."""
    transition = TRANSITIONS[action]
    if transition.side == DEVELOPER:
        if not policy.is_developer_of(actor, review_request.model):
            return None, "Only the developer organisation's members may do this."
        return DEVELOPER, ""
    if policy.is_assigned_reviewer(actor, review_request):
        if action == "determine" and not policy.is_lead_reviewer(actor, review_request):
            return None, "Only the lead reviewer records the determination."
        return AGENCY, ""
    if action == "start_review" and policy.is_program_admin(actor):
        return AGENCY, ""
    return None, "Only a reviewer assigned to this request may do this."


def _side_of(actor: User, review_request: ReviewRequest, action: str) -> str:
    side, refusal = _side_check(actor, review_request, action)
    if side is None:
        raise PermissionDenied(refusal)
    return side


def request_actions_available(*, actor: User, review_request: ReviewRequest) -> list[str]:
    """The moves `actor` may make on the request now: the rules `_transition` enforces (who,
    from which state, not after a determination), read from the loaded row. Pages offer these
    and only these. Reads review_request.determinations and .assignments (prefetch them)."""
    has_determination = bool(review_request.determinations.all())
    return [
        action for action, t in TRANSITIONS.items()
        if review_request.status in t.sources
        and not (t.before_determination_only and has_determination)
        and _side_check(actor, review_request, action)[0] is not None
    ]


def _transition(*, review_request: ReviewRequest, action: str, actor: User,
                data: dict | None = None,
                check: Callable[[ReviewRequest], None] | None = None) -> ReviewRequest:
    """Move the request along one edge of the table. Call inside transaction.atomic().

    `check`, if given, runs on the locked row once the move is known to be allowed and before
    anything is written; it refuses by raising.
    """
    transition = TRANSITIONS[action]
    side = _side_of(actor, review_request, action)
    # Lock the row: two reviewers (or a reviewer and a withdrawing developer) must not both win.
    locked = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    if locked.status not in transition.sources:
        raise TransitionNotAllowed(
            f"A request that is {locked.get_status_display().lower()} cannot be "
            f"{transition.label}."
        )
    if transition.before_determination_only and locked.determinations.exists():
        raise TransitionNotAllowed(
            "A determination has been made on this request, so it can no longer be "
            f"{transition.label}; the reviewers will answer the reconsideration."
        )
    if check is not None:
        check(locked)
    previous = locked.status
    locked.status = transition.target
    locked.status_changed_at = timezone.now()
    if action == "submit":
        locked.submitted_at = locked.status_changed_at
    locked.save(update_fields=["status", "status_changed_at", "submitted_at"])
    event = audit_record(actor=actor, action=f"review_request.{action}", obj=locked,
                         organisation=locked.model.organisation,
                         data={"from": previous, "to": locked.status, **(data or {})})
    if not (action == "withdraw" and previous == ReviewRequest.Status.DRAFT):
        # A withdrawn draft is nobody else's news: the agency never saw it.
        _notify_other_side(review_request=locked, side=side, label=transition.label,
                           occasion=f"event:{event.pk}")
    review_request.status = locked.status
    review_request.status_changed_at = locked.status_changed_at
    review_request.submitted_at = locked.submitted_at
    return review_request


def _notify_other_side(*, review_request: ReviewRequest, side: str, label: str,
                       occasion: str) -> None:
    """Through the inbox: each recipient gets an immediate email or the digest, as they chose."""
    submission_events.request_changed(review_request=review_request,
                                      to_agency=side == DEVELOPER, label=label,
                                      occasion=occasion)


def _post(*, review_request: ReviewRequest, actor: User, body: str, from_agency: bool) -> Message:
    body = (body or "").strip()
    if not body:
        raise ApplicationError("A message cannot be empty.", field="body")
    # A TextField's max_length is not checked by full_clean() nor the database: check it here.
    limit = Message._meta.get_field("body").max_length
    if len(body) > limit:
        raise ApplicationError(f"A message can be at most {limit} characters long.",
                               field="body")
    message = Message(request=review_request, author=actor, body=body, from_agency=from_agency)
    save_or_refuse(message)
    audit_record(actor=actor, action="message.posted", obj=message,
                 organisation=review_request.model.organisation,
                 data={"request": review_request.pk})
    return message


@transaction.atomic
def request_submit(*, review_request: ReviewRequest, actor: User) -> ReviewRequest:
    return _transition(review_request=review_request, action="submit", actor=actor)


@transaction.atomic
def request_withdraw(*, review_request: ReviewRequest, actor: User,
                     reason: str = "") -> ReviewRequest:
    return _transition(review_request=review_request, action="withdraw", actor=actor,
                       data={"reason": (reason or "").strip()})


@transaction.atomic
def request_reconsideration(*, review_request: ReviewRequest, actor: User,
                            reason: str) -> ReviewRequest:
    if not (reason or "").strip():
        raise ApplicationError("Say why the determination should be reconsidered.",
                               field="reason")
    _transition(review_request=review_request, action="request_reconsideration", actor=actor)
    _post(review_request=review_request, actor=actor, from_agency=False,
          body=f"Reconsideration requested: {reason.strip()}")
    return review_request


@transaction.atomic
def request_start_review(*, review_request: ReviewRequest, actor: User) -> ReviewRequest:
    return _transition(review_request=review_request, action="start_review", actor=actor)


@transaction.atomic
def request_ask_information(*, review_request: ReviewRequest, actor: User,
                            question: str) -> Message:
    if not (question or "").strip():
        raise ApplicationError("Write the question for the developer.", field="question")
    _transition(review_request=review_request, action="request_information", actor=actor)
    return _post(review_request=review_request, actor=actor, body=question, from_agency=True)


@transaction.atomic
def message_post(*, review_request: ReviewRequest, actor: User, body: str) -> Message:
    """Post to the thread. A developer's answer to an open question returns it to review."""
    if policy.is_developer_of(actor, review_request.model):
        from_agency = False
    elif policy.is_assigned_reviewer(actor, review_request):
        from_agency = True
    else:
        raise PermissionDenied("Only the developer and the assigned reviewers write here.")
    if review_request.status not in OPEN_STATES - {ReviewRequest.Status.DRAFT}:
        raise TransitionNotAllowed("The thread is open while a submitted request is under "
                                   "review.")
    message = _post(review_request=review_request, actor=actor, body=body,
                    from_agency=from_agency)
    if not from_agency and review_request.status == ReviewRequest.Status.INFORMATION_REQUESTED:
        # The transition notifies the reviewers itself.
        _transition(review_request=review_request, action="provide_information", actor=actor,
                    data={"message": message.pk})
    else:
        _notify_other_side(review_request=review_request,
                           side=AGENCY if from_agency else DEVELOPER, label="sent a new message",
                           occasion=f"message:{message.pk}")
    return message


@transaction.atomic
def request_determine(*, review_request: ReviewRequest, actor: User, outcome: str,
                      rationale: str, internal_notes: str = "",
                      override_reason: str = "") -> Determination:
    """The lead reviewer records the determination. The active threshold policy's
    recommendation is computed here, under the request's lock: an outcome that differs from it
    (and any outcome when the evidence is insufficient) is an override and needs a reason. The
    determination records the policy version, the runs and the submitted reviews it rests on."""
    if outcome not in Determination.Outcome.values:
        raise ApplicationError("Choose an outcome: covered or not covered.", field="outcome")
    if not (rationale or "").strip():
        raise ApplicationError("Write the rationale the developer will read.", field="rationale")
    override_reason = (override_reason or "").strip()
    basis = {}

    def check(locked: ReviewRequest) -> None:
        # Locked so that the version cannot be edited while a determination rests on it
        # (reviews.services.policy_update takes the same lock before its check).
        policy = PolicyVersion.objects.select_for_update().filter(is_active=True).first()
        if policy is None:
            raise ApplicationError("No threshold policy is active: a program admin activates "
                                   "one before a determination can be recorded.", status=409)
        computed = recommendation_compute(review_request=locked, policy=policy)
        overridden = outcome != computed.recommendation
        if overridden and not override_reason:
            if computed.recommendation == Recommendation.INSUFFICIENT_EVIDENCE:
                message = ("The evidence is insufficient for the policy to recommend an "
                           "outcome: write why you decide without it.")
            else:
                message = (f"The policy recommends "
                           f"{Recommendation(computed.recommendation).label.lower()}: write why "
                           "you override it.")
            raise ApplicationError(message, field="override_reason")
        if override_reason and not overridden:
            raise ApplicationError("The outcome is the policy's recommendation: confirm it "
                                   "without an override reason.", field="override_reason")
        basis.update(policy=policy, recommendation=computed.recommendation,
                     overridden=overridden, runs=computed.runs)

    _transition(review_request=review_request, action="determine", actor=actor,
                data={"outcome": outcome}, check=check)
    determination = Determination(request=review_request, outcome=outcome,
                                  rationale=rationale.strip(),
                                  internal_notes=(internal_notes or "").strip(),
                                  decided_by=actor, policy_version=basis["policy"],
                                  recommendation=basis["recommendation"],
                                  overridden=basis["overridden"],
                                  override_reason=override_reason)
    save_or_refuse(determination)
    determination.runs.set(basis["runs"])
    determination.reviews.set(reviews_basis(review_request=review_request))
    # The audit trail is for program admins; the override's reason stays on the record only.
    audit_record(actor=actor, action="determination.recorded", obj=determination,
                 organisation=review_request.model.organisation,
                 data={"request": review_request.pk, "outcome": outcome,
                       "policy": basis["policy"].number,
                       "recommendation": basis["recommendation"],
                       "overridden": basis["overridden"],
                       "runs": sorted(run.pk for run in basis["runs"])})
    return determination


@transaction.atomic
def reviewer_assign(*, review_request: ReviewRequest, reviewer: User | None, actor: User,
                    is_lead: bool | None = None) -> ReviewerAssignment:
    """Assign a reviewer. `is_lead`: True makes them the lead (the previous lead stays as a
    reviewer), False does not, None (the default) makes them lead when the request has none, so
    a request under review always has someone who can record the determination. A `reviewer`
    of None (an unknown name) is refused after the actor is checked, so only program admins
    learn which names exist."""
    if not policy.is_program_admin(actor):
        raise PermissionDenied("Only program admins assign reviewers.")
    if reviewer is None or not policy.is_agency_reviewer(reviewer):
        raise ApplicationError("Only active agency reviewers can be assigned.", field="reviewer")
    if review_request.status not in OPEN_STATES - {ReviewRequest.Status.DRAFT}:
        raise TransitionNotAllowed("Reviewers are assigned to submitted requests under review.")
    # Serialised with reviews.services.conflict_declare, which takes the same lock: a conflict
    # declared at the same moment is either seen here or recuses the reviewer right after.
    User.objects.select_for_update().get(pk=reviewer.pk)
    organisation = review_request.model.organisation
    conflict = ConflictOfInterest.objects.filter(reviewer=reviewer,
                                                 organisation=organisation).first()
    if conflict is not None:
        raise ApplicationError(
            f"{reviewer.username} declared a conflict of interest with {organisation} "
            f"({conflict.get_kind_display().lower()}) and cannot review its models.",
            field="reviewer", status=409)
    if Recusal.objects.filter(request=review_request, reviewer=reviewer).exists():
        raise ApplicationError(f"{reviewer.username} recused from this request.",
                               field="reviewer", status=409)
    if review_request.assignments.filter(reviewer=reviewer).exists():
        raise ApplicationError(f"{reviewer.username} is already assigned.", status=409)
    current_lead = review_request.assignments.filter(is_lead=True).first()
    lead = current_lead is None if is_lead is None else bool(is_lead)
    if lead and current_lead is not None:
        current_lead.is_lead = False
        current_lead.save(update_fields=["is_lead"])
    assignment = ReviewerAssignment(request=review_request, reviewer=reviewer, assigned_by=actor,
                                    is_lead=lead)
    save_or_refuse(assignment)
    assign_perm("submissions.view_reviewrequest", reviewer, review_request)
    assign_perm("submissions.view_frontiermodel", reviewer, review_request.model)
    audit_record(actor=actor, action="reviewer.assigned", obj=review_request,
                 organisation=review_request.model.organisation,
                 data={"reviewer": reviewer.username, "lead": lead})
    submission_events.reviewer_assigned(assignment=assignment)
    if review_request.status == ReviewRequest.Status.SUBMITTED:
        _transition(review_request=review_request, action="start_review", actor=actor)
    return assignment


def assignment_revoke_access(*, assignment: ReviewerAssignment) -> None:
    """Delete an assignment and the object permissions it gave. No audit: the caller records
    why (unassignment, recusal). Call inside transaction.atomic()."""
    review_request, reviewer = assignment.request, assignment.reviewer
    assignment.delete()
    remove_perm("submissions.view_reviewrequest", reviewer, review_request)
    if not ReviewerAssignment.objects.filter(reviewer=reviewer,
                                             request__model=review_request.model).exists():
        remove_perm("submissions.view_frontiermodel", reviewer, review_request.model)


@transaction.atomic
def reviewer_unassign(*, assignment: ReviewerAssignment, actor: User) -> None:
    if not policy.is_program_admin(actor):
        raise PermissionDenied("Only program admins change assignments.")
    review_request, reviewer = assignment.request, assignment.reviewer
    assignment_revoke_access(assignment=assignment)
    audit_record(actor=actor, action="reviewer.unassigned", obj=review_request,
                 organisation=review_request.model.organisation,
                 data={"reviewer": reviewer.username})


def request_view_record(*, review_request: ReviewRequest, actor: User) -> None:
    """Reads of a request by the government side are confidential-material reads: record them."""
    if policy.is_government(actor):
        audit_record(actor=actor, action="review_request.viewed", obj=review_request,
                     organisation=review_request.model.organisation)
