"""Writes of operators on their exposures, and the terms they accept (issue 12, points 4-5).

- `terms_accept`: an operator member accepts the current pre-disclosure terms for the whole
  organisation (TermsAcceptance, once per version); what was waiting only for that is released.
- `exposure_status_set`: new → acknowledged → patched / mitigated / not affected (a CSAF VEX
  justification, ProductStatement.Justification) / risk accepted (a reason), per
  exposures/workflow.py. Only on a live exposure (a vendor/product match is confirmed first).
- `exposure_confirm` / `exposure_reject`: the operator says whether a vendor/product match is
  really what it runs. Rejecting records it as not affected (component not present) with the
  operator's reason; the row stays for history and matching does not resurrect it.
- `exposure_reopen`: a settled exposure goes back to new when the case changes (a new fix or
  mitigation, a higher priority, a wider range): matching may call it directly;
  `exposures_reopen_if_changed` (called by disclosure.exposures_changed) finds the settled rows
  whose priority rose above the one they were settled at or that got a remediation after they
  were settled. A reopened exposure is told again.
Every change is audited; refusals are ApplicationError / PermissionDenied / Http404, nothing
half-written.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from accounts import policy
from audit.services import audit_record
from clearinghouse.models import ProductStatement, Remediation
from exposures import access
from exposures.models import Exposure, TermsAcceptance
from exposures.workflow import EXPOSURE_TRANSITIONS, NEEDS_REASON, SETTLED
from review_portal.errors import ApplicationError, TransitionNotAllowed

XS = Exposure.Status
JUSTIFICATIONS = frozenset(ProductStatement.Justification.values)


# --- terms ----------------------------------------------------------------------------------

def terms_current_version() -> str:
    return settings.CLEARINGHOUSE_OPERATOR_TERMS_VERSION


def terms_acceptance_of(user) -> TermsAcceptance | None:
    """The user's operator organisation's acceptance of the current terms, if any."""
    if not access.may_manage_inventory(user):
        return None
    return TermsAcceptance.objects.filter(organisation_id=policy.organisation_id_of(user),
                                          terms_version=terms_current_version()).first()


def terms_accept(*, actor) -> TermsAcceptance:
    """Accept the current terms for the actor's operator organisation (idempotent: a second
    acceptance returns the first). Then releases what waited only for the terms."""
    if not access.may_manage_inventory(actor):
        raise PermissionDenied("Only a member of a vetted operator accepts the terms.")
    org_id = policy.organisation_id_of(actor)
    with transaction.atomic():
        acceptance, created = TermsAcceptance.objects.get_or_create(
            organisation_id=org_id, terms_version=terms_current_version(),
            defaults={"accepted_by": actor})
        if created:
            audit_record(actor=actor, action="exposure.terms_accepted", obj=acceptance,
                         organisation=acceptance.organisation,
                         data={"version": acceptance.terms_version})
    if created:
        from exposures import disclosure

        disclosure.exposures_release(organisation_id=org_id)
    return acceptance


# --- status ---------------------------------------------------------------------------------

def _locked_for(actor, exposure: Exposure) -> Exposure:
    """The exposure, locked, if the actor may act on it (else 404, as for reading it)."""
    if not access.may_manage_inventory(actor):
        raise PermissionDenied("Only the operator's members change its exposures.")
    visible = access.exposures_visible_to(actor).filter(pk=exposure.pk)
    row = Exposure.objects.select_for_update(of=("self",)).filter(
        pk__in=visible.values("pk")).first()
    if row is None:
        from django.http import Http404

        raise Http404("No such exposure.")
    return row


def _audit_exposure(actor, exposure: Exposure, *, action: str, **data) -> None:
    audit_record(actor=actor, action=action, obj=exposure, organisation=exposure.organisation,
                 data={"exposure": exposure.pk, **data})


@transaction.atomic
def exposure_status_set(*, exposure: Exposure, actor, status: str, justification: str = "",
                        reason: str = "") -> Exposure:
    exposure = _locked_for(actor, exposure)
    if not exposure.active:
        raise TransitionNotAllowed("This exposure no longer applies (the vendor's statement "
                                   "no longer covers the asset).")
    if not exposure.confirmed:
        raise TransitionNotAllowed("Confirm or reject this match first: it is a vendor and "
                                   "product name match.")
    if status not in XS.values:
        raise ApplicationError("Unknown status.", field="status")
    if status not in EXPOSURE_TRANSITIONS[exposure.status]:
        raise TransitionNotAllowed(
            f"An exposure that is {exposure.get_status_display().lower()} cannot become "
            f"{XS(status).label.lower()}.")
    justification = (justification or "").strip()
    reason = (reason or "").strip()
    if status == XS.NOT_AFFECTED:
        if justification not in JUSTIFICATIONS:
            raise ApplicationError("Say why it is not affected: choose a justification.",
                                   field="justification")
    elif justification:
        raise ApplicationError("A justification is given only for not affected.",
                               field="justification")
    if status in NEEDS_REASON and not reason:
        raise ApplicationError("Say why the risk is accepted.", field="reason")
    before = exposure.status
    exposure.status, exposure.justification, exposure.status_reason = status, justification, \
        reason
    exposure.status_changed_at, exposure.status_changed_by = timezone.now(), actor
    exposure.settled_priority = exposure.priority if status in SETTLED else ""
    exposure.save(update_fields=["status", "justification", "status_reason",
                                 "status_changed_at", "status_changed_by", "settled_priority",
                                 "updated_at"])
    _audit_exposure(actor, exposure, action="exposure.status_changed",
                    **{"from": before, "to": status}, justification=justification,
                    reason=reason)
    return exposure


@transaction.atomic
def exposure_confirm(*, exposure: Exposure, actor) -> Exposure:
    exposure = _locked_for(actor, exposure)
    if exposure.confirmed:
        raise TransitionNotAllowed("This match is already confirmed.")
    if exposure.status != XS.NEW or not exposure.active:
        raise TransitionNotAllowed("Only a match still to confirm can be confirmed.")
    exposure.confirmed = True
    exposure.save(update_fields=["confirmed", "updated_at"])
    _audit_exposure(actor, exposure, action="exposure.match_confirmed", method=exposure.method)
    return exposure


@transaction.atomic
def exposure_reject(*, exposure: Exposure, actor, reason: str = "") -> Exposure:
    exposure = _locked_for(actor, exposure)
    if exposure.confirmed or exposure.status != XS.NEW:
        raise TransitionNotAllowed("Only a match still to confirm can be rejected.")
    reason = (reason or "").strip() or "The operator says this match is not what it runs."
    exposure.status = XS.NOT_AFFECTED
    exposure.justification = ProductStatement.Justification.COMPONENT_NOT_PRESENT
    exposure.status_reason = reason
    exposure.status_changed_at, exposure.status_changed_by = timezone.now(), actor
    exposure.settled_priority = exposure.priority
    exposure.save(update_fields=["status", "justification", "status_reason",
                                 "status_changed_at", "status_changed_by", "settled_priority",
                                 "updated_at"])
    _audit_exposure(actor, exposure, action="exposure.match_rejected", reason=reason)
    return exposure


# --- reopening ------------------------------------------------------------------------------

def exposure_reopen(*, exposure: Exposure, cause: str) -> bool:
    """A settled exposure goes back to new because the case changed (`cause`: e.g.
    "remediation_added", "priority_raised", "range_widened"). Rejected vendor/product matches
    stay rejected. Returns whether it reopened; a second call changes nothing."""
    with transaction.atomic():
        row = Exposure.objects.select_for_update(of=("self",)).filter(
            pk=exposure.pk, status__in=SETTLED, confirmed=True).first()
        if row is None:
            return False
        before = row.status
        now = timezone.now()
        row.status, row.justification, row.status_reason = XS.NEW, "", ""
        row.status_changed_at, row.status_changed_by = now, None
        row.reopened_at, row.settled_priority, row.notified_version = now, "", 0
        row.save(update_fields=["status", "justification", "status_reason",
                                "status_changed_at", "status_changed_by", "reopened_at",
                                "settled_priority", "notified_version", "updated_at"])
        audit_record(actor=None, action="exposure.reopened", obj=row,
                     organisation=row.organisation,
                     data={"exposure": row.pk, "from": before, "cause": cause[:100]})
    return True


def exposures_reopen_if_changed(*, exposure_ids, cause: str,
                                vulnerability_id: int | None = None) -> list[int]:
    """Reopen the settled exposures among these whose priority is now higher than when they
    were settled, or whose statement got a fix, workaround or mitigation after they were
    settled (among these, or any of `vulnerability_id`'s). Returns the ids reopened."""
    from exposures.disclosure import PRIORITY_RANK, RELEASING_CATEGORIES

    newer_fix = Exists(Remediation.objects.filter(
        statement_id=OuterRef("statement_id"), category__in=RELEASING_CATEGORIES,
        created_at__gt=OuterRef("status_changed_at")))
    scope = Q(pk__in=list(exposure_ids))
    if vulnerability_id is not None:
        scope |= Q(vulnerability_id=vulnerability_id, newer_fix=True)
    rows = (Exposure.objects.annotate(newer_fix=newer_fix)
            .filter(scope, status__in=SETTLED, confirmed=True, active=True)
            .only("pk", "priority", "settled_priority", "status_changed_at"))
    reopened = []
    for row in rows:
        rose = PRIORITY_RANK.get(row.priority, 0) > PRIORITY_RANK.get(row.settled_priority, 0)
        if rose or row.newer_fix:
            why = cause if cause else ("priority_raised" if rose else "remediation_added")
            if exposure_reopen(exposure=row, cause=why):
                reopened.append(row.pk)
    return reopened
