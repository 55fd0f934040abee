"""Writes for embargoes, in Vultron's embargo model (EM) with each participant's consent (PEC):

    proposed → active (every invited participant accepted) | rejected (one declined)
    active → revise (a new end proposed; every acceptance lapses) → active (all accepted the
             new end, or the revision was dropped: the current end stands)
    proposed / active / revise → exited (by the coordinator, when the end passed, or at once
             when the vulnerability or an exploit became public)

Ends are aware datetimes stored in UTC; a naive one is refused. The default end is
CLEARINGHOUSE_EMBARGO_DEFAULT_DAYS after the first vendor contact (Case.vendor_aware_at), or the
reporters' earliest deadline if sooner; no proposal or revision may pass the ceiling,
CLEARINGHOUSE_EMBARGO_CEILING_DAYS after the first vendor contact. Before any vendor was
contacted both count from now: contact cannot come earlier than that.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from accounts import policy, time_zones
from accounts.models import User
from audit.services import audit_record
from clearinghouse import access
from clearinghouse.models import Case, Embargo, EmbargoAcceptance, Participant
from clearinghouse.workflow import EMBARGO_STATES_IN_FORCE, EMBARGO_TRANSITIONS
from exposures import disclosure
from notifications import clearinghouse_events as events
from review_portal.errors import ApplicationError, TransitionNotAllowed

ES = Embargo.Status
AS = EmbargoAcceptance.Status


def _first_contact(case: Case, now: datetime) -> datetime:
    return case.vendor_aware_at or now


def embargo_ceiling(case: Case, *, now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return _first_contact(case, now) + timedelta(days=settings.CLEARINGHOUSE_EMBARGO_CEILING_DAYS)


def embargo_default_end(case: Case, *, now: datetime | None = None) -> datetime:
    """The program's default end, or the reporters' earliest deadline if sooner (never past
    the ceiling)."""
    now = now or timezone.now()
    end = _first_contact(case, now) + timedelta(days=settings.CLEARINGHOUSE_EMBARGO_DEFAULT_DAYS)
    deadline = case.reports.aggregate(d=Min("reporter_deadline"))["d"]
    if deadline is not None and now < deadline < end:
        end = deadline
    return min(end, embargo_ceiling(case, now=now))


def _check_end(case: Case, ends_at, *, now: datetime) -> datetime:
    if not isinstance(ends_at, datetime):
        raise ApplicationError("Give the embargo's end as a date and time.", field="ends_at")
    if timezone.is_naive(ends_at):
        raise ApplicationError(
            "Give the embargo's end with its time zone (an ISO 8601 offset, e.g. "
            "2026-03-01T12:00:00+00:00); a time without one is ambiguous.", field="ends_at")
    ends_at = ends_at.astimezone(UTC)
    if ends_at <= now:
        raise ApplicationError("The embargo's end must be in the future.", field="ends_at")
    ceiling = embargo_ceiling(case, now=now)
    if ends_at > ceiling:
        raise ApplicationError(
            f"An embargo may not end after {ceiling:%Y-%m-%d %H:%M} UTC, "
            f"{settings.CLEARINGHOUSE_EMBARGO_CEILING_DAYS} days after the first vendor "
            "contact (the program's ceiling).", field="ends_at")
    return ends_at


def _zone(name: str) -> str:
    name = name or time_zones.UTC_NAME
    if name not in time_zones.names():
        raise ApplicationError("Unknown time zone.", field="time_zone")
    return name


def _require_coordinator(actor, case) -> None:
    if not access.may_coordinate(actor, case):
        raise PermissionDenied("Only the clearinghouse's coordinator proposes embargoes.")


def _move(embargo: Embargo, action: str, *, now: datetime) -> str:
    sources, target = EMBARGO_TRANSITIONS[action]
    if embargo.status not in sources:
        raise TransitionNotAllowed(
            f"An embargo that is {embargo.get_status_display().lower()} cannot "
            f"{action.replace('_', ' ')}.")
    before = embargo.status
    embargo.status, embargo.status_changed_at = target, now
    return before


def _signatories(case: Case) -> set[int]:
    """The organisations whose consent the embargo needs: every confirmed participant but the
    coordinator's."""
    rows = case.participants.filter(confirmed=True).values_list("organisation_id", "role")
    coordinators = {org for org, role in rows if role == Participant.Role.COORDINATOR}
    return {org for org, _ in rows} - coordinators


def _invite_all(embargo: Embargo, case: Case, *, status: str) -> None:
    orgs = _signatories(case)
    EmbargoAcceptance.objects.filter(embargo=embargo).exclude(organisation_id__in=orgs).delete()
    EmbargoAcceptance.objects.filter(embargo=embargo).update(status=status, answered_by=None,
                                                             answered_at=None)
    EmbargoAcceptance.objects.bulk_create(
        [EmbargoAcceptance(embargo=embargo, organisation_id=org, status=status) for org in orgs],
        ignore_conflicts=True)


def _all_accepted(embargo: Embargo) -> bool:
    return not embargo.acceptances.exclude(status=AS.ACCEPTED).exists()


def _data(embargo, **data) -> dict:
    return {"case": embargo.case.reference, "status": embargo.status, **data}


@transaction.atomic
def embargo_propose(*, case: Case, actor: User, ends_at: datetime | None = None,
                    time_zone: str = "UTC", reason: str = "") -> Embargo:
    """Propose an embargo (none yet, or the last one rejected or still proposed), or, when one
    is active, a revision of its end (which needs a reason and lapses every acceptance). No end
    passes the ceiling; without an end, the default applies."""
    _require_coordinator(actor, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    now = timezone.now()
    reason = (reason or "").strip()
    end = _check_end(case, ends_at if ends_at is not None else embargo_default_end(case, now=now),
                     now=now)
    zone = _zone(time_zone)
    embargo = Embargo.objects.select_for_update().filter(case=case).first()
    if embargo is not None and embargo.status == ES.EXITED:
        raise ApplicationError("This case's embargo has ended; it does not start again.",
                               status=409)
    if embargo is not None and embargo.status in (ES.ACTIVE, ES.REVISE):
        if not reason:
            raise ApplicationError("Say why the embargo's end should change.", field="reason")
        if embargo.status == ES.ACTIVE:
            _move(embargo, "propose_revision", now=now)
        embargo.proposed_ends_at, embargo.proposal_reason = end, reason
        embargo.entered_time_zone, embargo.proposed_by = zone, actor
        embargo.status_changed_at = now
        embargo.save()
        # Vultron: a revision voids every earlier consent until it is given again.
        _invite_all(embargo, case, status=AS.LAPSED)
        audit_record(actor=actor, action="embargo.revision_proposed", obj=embargo, data=_data(
            embargo, ends_at=embargo.ends_at.isoformat(), proposed_ends_at=end.isoformat(),
            time_zone=zone, reason=reason))
        events.embargo_changed(embargo, event="revision_proposed")
        return embargo
    if embargo is None:
        embargo = Embargo(case=case, proposed_by=actor, ends_at=end)
    embargo.status, embargo.ends_at, embargo.entered_time_zone = ES.PROPOSED, end, zone
    embargo.proposed_by, embargo.proposal_reason = actor, reason
    embargo.proposed_ends_at, embargo.status_changed_at = None, now
    embargo.full_clean()
    embargo.save()
    embargo.case = case
    _invite_all(embargo, case, status=AS.INVITED)
    audit_record(actor=actor, action="embargo.proposed", obj=embargo, data=_data(
        embargo, ends_at=end.isoformat(), time_zone=zone, reason=reason))
    events.embargo_changed(embargo, event="proposed")
    if _all_accepted(embargo):  # nobody to ask (no vendor or reporter yet)
        _move(embargo, "activate", now=now)
        embargo.save(update_fields=["status", "status_changed_at"])
        audit_record(actor=actor, action="embargo.activated", obj=embargo, data=_data(embargo))
        events.embargo_changed(embargo, event="active")
    return embargo


@transaction.atomic
def embargo_answer(*, embargo: Embargo, actor: User, accept: bool) -> Embargo:
    """A participant organisation accepts or declines the embargo's current proposal (or its
    revision). All accepted: the proposal becomes the embargo (or the revision its end). A
    decline rejects a proposal, or drops a revision (the current end stands)."""
    embargo = Embargo.objects.select_for_update().select_related("case").get(pk=embargo.pk)
    org_id = policy.organisation_id_of(actor)
    acceptance = EmbargoAcceptance.objects.select_for_update().filter(
        embargo=embargo, organisation_id=org_id).first()
    if acceptance is None or not access.case_roles_of(actor, embargo.case) or \
            not access.is_active_member(actor):
        raise PermissionDenied("Only an invited participant answers the embargo.")
    if embargo.status not in (ES.PROPOSED, ES.REVISE):
        raise TransitionNotAllowed("Nothing awaits an answer on this embargo.")
    now = timezone.now()
    acceptance.status = AS.ACCEPTED if accept else AS.DECLINED
    acceptance.answered_by, acceptance.answered_at = actor, now
    acceptance.save()
    audit_record(actor=actor, action="embargo.accepted" if accept else "embargo.declined",
                 obj=embargo, data=_data(embargo, organisation=acceptance.organisation_id))
    if accept and _all_accepted(embargo):
        if embargo.status == ES.PROPOSED:
            _move(embargo, "activate", now=now)
            event = "active"
        else:
            _move(embargo, "accept_revision", now=now)
            embargo.ends_at, embargo.proposed_ends_at = embargo.proposed_ends_at, None
            event = "revised"
        embargo.save()
        audit_record(actor=None, obj=embargo,
                     action="embargo.activated" if event == "active" else "embargo.revised",
                     data=_data(embargo, ends_at=embargo.ends_at.isoformat()))
        events.embargo_changed(embargo, event=event)
    elif not accept:
        if embargo.status == ES.PROPOSED:
            _move(embargo, "reject", now=now)
            event = "rejected"
        else:
            _move(embargo, "drop_revision", now=now)
            embargo.proposed_ends_at = None
            # The current end had everyone's consent; it stands as agreed.
            embargo.acceptances.update(status=AS.ACCEPTED)
            event = "revision_dropped"
        embargo.save()
        audit_record(actor=None, obj=embargo, data=_data(embargo),
                     action="embargo.rejected" if event == "rejected"
                     else "embargo.revision_dropped")
        events.embargo_changed(embargo, event=event)
    return embargo


def _exit(embargo: Embargo, *, actor, reason: str, now: datetime) -> Embargo:
    before = _move(embargo, "exit", now=now)
    embargo.exit_reason, embargo.exited_at, embargo.proposed_ends_at = reason, now, None
    embargo.save()
    audit_record(actor=actor, action="embargo.exited", obj=embargo,
                 data=_data(embargo, reason=reason, **{"from": before}))
    events.embargo_changed(embargo, event="exited")
    # An exit does not publish by itself; if the case is already public (its state says so),
    # its exposures are released now rather than at the next hourly sweep.
    if disclosure.case_is_public(embargo.case):
        disclosure.case_published_later(embargo.case)
    return embargo


@transaction.atomic
def embargo_exit(*, embargo: Embargo, actor: User, reason: str) -> Embargo:
    """The coordinator ends the embargo early (attacks observed, the vendor asks), with a
    reason."""
    embargo = Embargo.objects.select_for_update().select_related("case").get(pk=embargo.pk)
    _require_coordinator(actor, embargo.case)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the embargo ends.", field="reason")
    return _exit(embargo, actor=actor, reason=reason, now=timezone.now())


def embargo_exit_if_in_force(*, case: Case, actor, reason: str) -> Embargo | None:
    """Exit the case's embargo if one is in force (called inside the caller's transaction)."""
    embargo = Embargo.objects.select_for_update().filter(
        case=case, status__in=EMBARGO_STATES_IN_FORCE).first()
    if embargo is None:
        return None
    embargo.case = case
    return _exit(embargo, actor=actor, reason=reason, now=timezone.now())


def embargoes_sweep_ended(*, now: datetime | None = None) -> list[int]:
    """The beat job: embargoes in force whose end passed exit, with that reason. Each is
    claimed under a row lock and its status re-read, so a re-run exits nothing twice."""
    now = now or timezone.now()
    exited = []
    due = Embargo.objects.filter(status__in=EMBARGO_STATES_IN_FORCE, ends_at__lte=now)
    for pk in list(due.values_list("pk", flat=True)):
        with transaction.atomic():
            embargo = (Embargo.objects.select_for_update(skip_locked=True)
                       .filter(pk=pk, status__in=EMBARGO_STATES_IN_FORCE, ends_at__lte=now)
                       .select_related("case").first())
            if embargo is None:
                continue
            _exit(embargo, actor=None, now=now,
                  reason=f"The embargo's end passed ({embargo.ends_at:%Y-%m-%d %H:%M} UTC).")
            exited.append(pk)
    return exited


def embargo_prompts_exit(case: Case) -> bool:
    """Attacks were observed while the embargo holds: the coordinator should end it early
    (Vultron SHOULD). Shown as a notice on the case page."""
    embargo = getattr(case, "embargo", None)
    return (case.attacks_observed_at is not None and embargo is not None
            and embargo.status in EMBARGO_STATES_IN_FORCE)
