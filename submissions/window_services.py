"""The government pre-release access window: at most 30 days, before the partner release.

The rules live here and hold for pages, the API, the admin and commands alike.
"""

import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from notifications import submission_events
from review_portal.errors import ApplicationError, TransitionNotAllowed
from submissions.models import AccessWindow, Determination, FrontierModel, ReviewRequest
from submissions.selectors import model_is_covered


def max_window() -> timedelta:
    return timedelta(days=settings.ACCESS_WINDOW_MAX_DAYS)


def _length_problem(*, starts_at: datetime, ends_at: datetime) -> tuple[str, str] | None:
    if ends_at <= starts_at:
        return ("ends_at", "The window must start before it ends.")
    if ends_at - starts_at > max_window():
        days = settings.ACCESS_WINDOW_MAX_DAYS
        length = ends_at - starts_at
        return ("ends_at",
                f"A window is at most {days} days long; this one is {length.days} days"
                f"{' and ' + str(timedelta(seconds=length.seconds)) if length.seconds else ''}.")
    return None


def window_rule_violations(*, model: FrontierModel, starts_at: datetime,
                           ends_at: datetime) -> list[tuple[str, str]]:
    """The rules a government window must keep at all times, as (field, message) pairs."""
    problems = []
    length = _length_problem(starts_at=starts_at, ends_at=ends_at)
    if length:
        problems.append(length)
    if ends_at > model.planned_partner_release_at:
        problems.append((
            "ends_at",
            "The government window must end no later than the planned release to trusted "
            f"partners ({model.planned_partner_release_at:%Y-%m-%d %H:%M %Z}).",
        ))
    return problems


def validate_window_times(*, starts_at: datetime, ends_at: datetime,
                          check_start_in_past: bool = True) -> None:
    """The rules every access window keeps, government or partner: aware datetimes, not in the
    past, starting before it ends, at most ACCESS_WINDOW_MAX_DAYS long."""
    for value, field in ((starts_at, "starts_at"), (ends_at, "ends_at")):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise ApplicationError("Give a date and time with its time zone.", field=field)
    now = timezone.now()
    if check_start_in_past and starts_at < now:
        raise ApplicationError("The window cannot start in the past.", field="starts_at")
    if ends_at <= now:
        raise ApplicationError("The window cannot end in the past.", field="ends_at")
    problem = _length_problem(starts_at=starts_at, ends_at=ends_at)
    if problem:
        raise ApplicationError(problem[1], field=problem[0])


def _validate(*, model: FrontierModel, starts_at: datetime, ends_at: datetime,
              check_start_in_past: bool) -> None:
    validate_window_times(starts_at=starts_at, ends_at=ends_at,
                          check_start_in_past=check_start_in_past)
    problems = window_rule_violations(model=model, starts_at=starts_at, ends_at=ends_at)
    if problems:
        field, message = problems[0]
        raise ApplicationError(message, field=field)


def _require_developer(actor: User, model: FrontierModel) -> None:
    if not policy.is_developer_of(actor, model):
        raise PermissionDenied("Only the developer organisation schedules its access windows.")


def to_utc(value: datetime) -> datetime:
    """Store UTC; naive values are left for validation to refuse with a clear message."""
    if isinstance(value, datetime) and not timezone.is_naive(value):
        return value.astimezone(UTC)
    return value


def _schedule_refusal(model: FrontierModel) -> str | None:
    """Why no window can be scheduled for `model` now, or None: one query (whether the
    determination in force, as `model_is_covered` reads it, is covered, and whether a
    government window is scheduled already)."""
    in_force = Determination.objects.filter(
        request__model=OuterRef("pk"), request__status=ReviewRequest.Status.DETERMINED,
    ).order_by("-decided_at", "-id").values("outcome")[:1]
    scheduled = AccessWindow.objects.filter(model=OuterRef("pk"),
                                            kind=AccessWindow.Kind.GOVERNMENT,
                                            status=AccessWindow.Status.SCHEDULED)
    outcome, has_window = FrontierModel.objects.filter(pk=model.pk).annotate(
        outcome=Subquery(in_force), has_window=Exists(scheduled)).values_list(
        "outcome", "has_window").get()
    if outcome != Determination.Outcome.COVERED:
        return ("A government access window is scheduled only for a model determined to be a "
                "covered frontier model.")
    if has_window:
        return "This model already has a government window; change it instead."
    return None


def window_may_schedule(*, actor, model: FrontierModel) -> bool:
    """`window_schedule` would accept a window for `model` from `actor` now (one query)."""
    return policy.is_developer_of(actor, model) and _schedule_refusal(model) is None


@transaction.atomic
def window_schedule(*, model: FrontierModel, actor: User, starts_at: datetime,
                    ends_at: datetime) -> AccessWindow:
    _require_developer(actor, model)
    # Lock the model row and check against what it holds now: the caller's copy may predate a
    # move of the partner release, whose recheck would then never see this window.
    model = FrontierModel.objects.select_for_update().get(pk=model.pk)
    refusal = _schedule_refusal(model)
    if refusal is not None:
        raise ApplicationError(refusal, status=409)
    starts_at, ends_at = to_utc(starts_at), to_utc(ends_at)
    _validate(model=model, starts_at=starts_at, ends_at=ends_at, check_start_in_past=True)
    window = AccessWindow(model=model, kind=AccessWindow.Kind.GOVERNMENT, starts_at=starts_at,
                          ends_at=ends_at, created_by=actor)
    window.full_clean()
    try:
        window.save()
    except IntegrityError as exc:
        raise ApplicationError("This model already has a government window.", status=409) from exc
    audit_record(actor=actor, action="window.scheduled", obj=window,
                 organisation=model.organisation,
                 data={"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    return window


@transaction.atomic
def window_change(*, window: AccessWindow, actor: User, starts_at: datetime,
                  ends_at: datetime) -> AccessWindow:
    _require_developer(actor, window.model)
    window = AccessWindow.objects.select_for_update().select_related("model").get(pk=window.pk)
    if window.status != AccessWindow.Status.SCHEDULED:
        raise TransitionNotAllowed("A cancelled window cannot be changed.")
    if window.ends_at <= timezone.now():
        raise TransitionNotAllowed("A window that has ended cannot be changed.")
    if not model_is_covered(model=window.model):
        # E.g. while a reconsideration is open: the window may be kept or cancelled, not moved.
        raise ApplicationError("The model has no covered determination in force, so its window "
                               "can be cancelled but not changed.", status=409)
    starts_at, ends_at = to_utc(starts_at), to_utc(ends_at)
    # An active window keeps its (past) start; only a start that moves must be in the future.
    _validate(model=window.model, starts_at=starts_at, ends_at=ends_at,
              check_start_in_past=starts_at != window.starts_at)
    before = {"starts_at": window.starts_at.isoformat(), "ends_at": window.ends_at.isoformat()}
    window.starts_at, window.ends_at, window.flag_reason = starts_at, ends_at, ""
    window.full_clean()
    window.save()
    audit_record(actor=actor, action="window.changed", obj=window,
                 organisation=window.model.organisation,
                 data={"before": before, "after": {"starts_at": starts_at.isoformat(),
                                                   "ends_at": ends_at.isoformat()}})
    return window


def _cancel_refusal(window: AccessWindow) -> str | None:
    if window.status != AccessWindow.Status.SCHEDULED:
        return "This window is already cancelled."
    if window.ends_at <= timezone.now():
        return "A window that has ended cannot be cancelled."
    return None


def window_may_cancel(*, actor, window: AccessWindow) -> bool:
    """`window_cancel` would accept this now (the rule pages ask before offering it)."""
    return policy.is_developer_of(actor, window.model) and _cancel_refusal(window) is None


@transaction.atomic
def window_cancel(*, window: AccessWindow, actor: User, reason: str = "") -> AccessWindow:
    _require_developer(actor, window.model)
    window = AccessWindow.objects.select_for_update().select_related("model").get(pk=window.pk)
    refusal = _cancel_refusal(window)
    if refusal is not None:
        raise TransitionNotAllowed(refusal)
    window.status = AccessWindow.Status.CANCELLED
    window.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="window.cancelled", obj=window,
                 organisation=window.model.organisation, data={"reason": (reason or "").strip()})
    return window


def windows_recheck_for_model(*, model: FrontierModel, actor: User | None = None) -> list[int]:
    """Flag (or unflag) the model's live windows against its current dates; never change them.

    Returns the ids of windows newly flagged. Idempotent: a second run changes nothing.
    """
    newly_flagged = []
    live = model.windows.filter(status=AccessWindow.Status.SCHEDULED,
                                ends_at__gt=timezone.now())
    for window in live.select_for_update():
        problems = window_rule_violations(model=model, starts_at=window.starts_at,
                                          ends_at=window.ends_at)
        reason = " ".join(message for _, message in problems)
        if reason == window.flag_reason:
            continue
        window.flag_reason = reason
        window.save(update_fields=["flag_reason", "updated_at"])
        event = audit_record(actor=actor,
                             action="window.flagged" if reason else "window.unflagged",
                             obj=window, organisation=model.organisation,
                             data={"reason": reason})
        if reason:
            newly_flagged.append(window.pk)
            submission_events.window_flagged(window=window, reason=reason,
                                             occasion=f"event:{event.pk}")
    return newly_flagged


@transaction.atomic
def windows_check_rules() -> list[int]:
    """The periodic sweep: re-check every live window (the setting may have been lowered)."""
    flagged: list[int] = []
    model_ids = AccessWindow.objects.filter(
        status=AccessWindow.Status.SCHEDULED, ends_at__gt=timezone.now()
    ).values_list("model_id", flat=True).distinct()
    for model in FrontierModel.objects.filter(pk__in=list(model_ids)):
        flagged += windows_recheck_for_model(model=model)
    return flagged


@transaction.atomic
def window_issue_token(*, window: AccessWindow, actor: User) -> tuple[AccessWindow, str]:
    """Issue (or rotate) the government's access token for a scheduled window that has not
    ended. A program admin, or a reviewer assigned to a review request of the model, issues it;
    the token is returned once and only its SHA-256 is kept. The developer's gateway checks it
    through the introspection endpoint, which answers active only inside the window."""
    if not (policy.is_program_admin(actor)
            or policy.is_assigned_to_model(actor, window.model)):
        raise PermissionDenied("A program admin or an assigned reviewer issues the government "
                               "window's token.")
    window = AccessWindow.objects.select_for_update(of=("self",)).select_related("model").get(
        pk=window.pk)
    if window.status != AccessWindow.Status.SCHEDULED:
        raise TransitionNotAllowed("This window is cancelled; no token is issued for it.")
    if window.ends_at <= timezone.now():
        raise TransitionNotAllowed("This window has ended; no token is issued for it.")
    token = AccessWindow.TOKEN_PREFIX + secrets.token_urlsafe(32)
    window.token_hash, window.token_hint = AccessWindow.hash_token(token), token[:10]
    window.token_organisation = actor.membership.organisation
    window.token_issued_at = timezone.now()
    window.save(update_fields=["token_hash", "token_hint", "token_organisation",
                               "token_issued_at", "updated_at"])
    audit_record(actor=actor, action="window.token_issued", obj=window,
                 organisation=window.model.organisation, data={"hint": window.token_hint})
    return window, token
