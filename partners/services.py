"""Writes for trusted partners: vetting, access requests, terms, grants and their tokens.

Every status change goes through the tables in partners/workflow.py, is audited and notifies.
The same rules hold for the pages, the API and the admin.
"""

import secrets

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accounts import policy
from accounts.models import Organisation, User
from audit.services import audit_record
from notifications import partner_events
from partners import selectors
from partners.models import (
    AccessGrant,
    AccessRequest,
    PartnerProfile,
    TermsAcceptance,
    TermsVersion,
)
from partners.workflow import (
    AGENCY,
    DEVELOPER,
    PARTNER,
    PROFILE_TRANSITIONS,
    REQUEST_TRANSITIONS,
    SYSTEM,
)
from review_portal.errors import ApplicationError, TransitionNotAllowed
from submissions.models import FrontierModel
from submissions.selectors import model_is_covered
from submissions.window_services import to_utc, validate_window_times

VIEW_MODEL = "submissions.view_frontiermodel"
R = AccessRequest.Status


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Give a reason.", field="reason")
    return reason


# --- partner organisations ------------------------------------------------------------------

@transaction.atomic
def partner_apply(*, actor: User, sector: str, protects: str, contact_name: str,
                  contact_email: str, justification: str,
                  contact_phone: str = "") -> PartnerProfile:
    """A member of a partner organisation applies for it to become a trusted partner."""
    if not policy.is_partner(actor):
        raise PermissionDenied("Only a member of a partner organisation applies for it.")
    organisation = actor.membership.organisation
    if PartnerProfile.objects.filter(organisation=organisation).exists():
        raise ApplicationError("This organisation has applied already.", status=409)
    profile = PartnerProfile(organisation=organisation, sector=sector, protects=protects,
                             contact_name=contact_name, contact_email=contact_email,
                             contact_phone=contact_phone, justification=justification,
                             applied_by=actor)
    profile.full_clean()
    profile.save()
    audit_record(actor=actor, action="partner.applied", obj=profile, organisation=organisation,
                 data={"sector": sector})
    partner_events.partner_status(profile, to_members=False)
    return profile


@transaction.atomic
def partner_transition(*, profile: PartnerProfile, actor: User, action: str,
                       reason: str) -> PartnerProfile:
    """Vet, suspend or revoke a partner organisation. Program admins only, with a reason.

    Suspension and revocation cut access at once: every partner read checks the vetting status.
    Revocation also ends the organisation's grants for good and removes their permissions.
    """
    if not policy.is_program_admin(actor):
        raise PermissionDenied("Only program admins vet partner organisations.")
    if action not in PROFILE_TRANSITIONS:
        raise ApplicationError("Unknown action.")
    sources, target = PROFILE_TRANSITIONS[action]
    reason = _reason(reason)
    profile = PartnerProfile.objects.select_for_update().select_related("organisation").get(
        pk=profile.pk)
    if profile.status not in sources:
        raise TransitionNotAllowed(
            f"A partner organisation that is {profile.get_status_display().lower()} cannot be "
            f"moved to {PartnerProfile.Status(target).label.lower()}.")
    before = profile.status
    profile.status, profile.status_reason = target, reason
    profile.status_changed_at = timezone.now()
    profile.save(update_fields=["status", "status_reason", "status_changed_at"])
    audit_record(actor=actor, action=f"partner.{target}", obj=profile,
                 organisation=profile.organisation,
                 data={"from": before, "to": target, "reason": reason})
    if target == PartnerProfile.Status.REVOKED:
        for grant in AccessGrant.objects.filter(organisation=profile.organisation,
                                                revoked_at__isnull=True,
                                                ends_at__gt=timezone.now()):
            _grant_revoke(grant=grant, actor=actor,
                          reason=f"The partner organisation was revoked: {reason}")
    partner_events.partner_status(profile, to_members=True)
    return profile


# --- access requests ------------------------------------------------------------------------

def _validate_window(*, model: FrontierModel, starts_at, ends_at,
                     check_start_in_past: bool = True) -> None:
    validate_window_times(starts_at=starts_at, ends_at=ends_at,
                          check_start_in_past=check_start_in_past)
    government_end = selectors.government_window_end(model=model)
    if starts_at < government_end:
        raise ApplicationError(
            "A partner window starts no earlier than the government window ends "
            f"({government_end:%Y-%m-%d %H:%M %Z}).", field="starts_at")
    if ends_at > model.planned_public_release_at:
        raise ApplicationError(
            "A partner window ends no later than the planned public release "
            f"({model.planned_public_release_at:%Y-%m-%d %H:%M %Z}).", field="ends_at")


@transaction.atomic
def access_request_create(*, actor: User, model: FrontierModel, starts_at, ends_at,
                          justification: str,
                          organisation: Organisation | None = None) -> AccessRequest:
    """A partner member asks for access, or a developer of the model invites a partner."""
    invited = policy.is_developer_of(actor, model)
    if invited:
        if organisation is None:
            raise ApplicationError("Say which partner organisation you invite.",
                                   field="organisation")
    elif policy.is_partner(actor):
        organisation = actor.membership.organisation
    else:
        raise PermissionDenied("Partners request access; the model's developer may invite.")
    profile = selectors.partner_profile_of(organisation=organisation)
    if profile is None or profile.status != PartnerProfile.Status.VETTED:
        raise ApplicationError("Only a vetted partner organisation can hold access.",
                               field="organisation", status=409)
    model = FrontierModel.objects.select_for_update().get(pk=model.pk)
    if not model_is_covered(model=model):
        raise ApplicationError("Early access is for models determined to be covered.",
                               status=409)
    justification = (justification or "").strip()
    if not justification:
        raise ApplicationError("Give a justification.", field="justification")
    starts_at, ends_at = to_utc(starts_at), to_utc(ends_at)
    _validate_window(model=model, starts_at=starts_at, ends_at=ends_at)
    access_request = AccessRequest(model=model, organisation=organisation, requested_by=actor,
                                   invited=invited, starts_at=starts_at, ends_at=ends_at,
                                   justification=justification)
    access_request.full_clean()
    access_request.save()
    audit_record(actor=actor, action="access_request.invited" if invited
                 else "access_request.created", obj=access_request,
                 organisation=model.organisation,
                 data={"partner": organisation.name, "starts_at": starts_at.isoformat(),
                       "ends_at": ends_at.isoformat()})
    partner_events.request_received(access_request)
    return access_request


def access_request_file(*, actor: User, model_id: int, starts_at, ends_at, justification: str,
                        organisation_id: int | None = None) -> AccessRequest:
    """File an access request from ids, as the API and commands do: a partner member names a
    covered model by its number (any other number is 404, so partners cannot probe which
    uncovered models exist); a developer invites a partner organisation to a model it can see
    (404 otherwise). The government side files none (403)."""
    from django.shortcuts import get_object_or_404

    from submissions.selectors import model_get_for_user

    if policy.is_partner(actor) and organisation_id is None:
        model = selectors.requestable_model_get(user=actor, pk=model_id)
        organisation = None
    elif policy.is_developer(actor):
        model = model_get_for_user(user=actor, pk=model_id)
        organisation = None if organisation_id is None else get_object_or_404(
            Organisation, pk=organisation_id, kind=Organisation.Kind.PARTNER)
    elif policy.is_partner(actor):
        raise ApplicationError("Partners request access for their own organisation.",
                               field="organisation")
    else:
        raise PermissionDenied("Partners request access; developers invite.")
    return access_request_create(actor=actor, model=model, organisation=organisation,
                                 starts_at=starts_at, ends_at=ends_at,
                                 justification=justification)


def access_request_side(*, user, access_request: AccessRequest) -> str | None:
    if policy.is_developer_of(user, access_request.model):
        return DEVELOPER
    if policy.is_program_admin(user) or policy.is_assigned_to_model(user, access_request.model):
        return AGENCY
    if policy.is_partner_member(user, access_request.organisation_id):
        return PARTNER
    return None


def _lock(access_request: AccessRequest, actor: User, action: str) -> tuple[AccessRequest, str]:
    side = access_request_side(user=actor, access_request=access_request)
    transition = REQUEST_TRANSITIONS[action]
    if side not in transition.sides:
        raise PermissionDenied("You cannot do this on this access request.")
    # The request's row lock is the one every decision about the request serialises on,
    # terms_accept included (see there); it is always the first lock a request's transition
    # takes. (Without `of`, PostgreSQL also locks the joined model and organisation rows.)
    locked = AccessRequest.objects.select_for_update().select_related(
        "model", "organisation").get(pk=access_request.pk)
    if locked.status not in transition.sources:
        raise TransitionNotAllowed(
            f"An access request that is {locked.get_status_display().lower()} does not allow "
            f"'{action}'.")
    return locked, side


def _set_status(access_request: AccessRequest, status: str, fields: list[str]) -> None:
    access_request.status = status
    access_request.status_changed_at = timezone.now()
    access_request.full_clean()
    access_request.save(update_fields=[*fields, "status", "status_changed_at"])


def _approve_refusal(access_request: AccessRequest, actor: User,
                     side: str) -> Exception | None:
    """Why `actor` may not give `side`'s approval (the error to raise), or None."""
    if actor.pk == access_request.requested_by_id:
        return PermissionDenied("The requester cannot approve their own request.")
    mine, other = ((access_request.developer_approved_by_id, access_request.agency_approved_by_id)
                   if side == DEVELOPER else
                   (access_request.agency_approved_by_id, access_request.developer_approved_by_id))
    if mine:
        return TransitionNotAllowed("The developer has approved already." if side == DEVELOPER
                                    else "The agency has approved already.")
    if other == actor.pk:
        return PermissionDenied("The two approvals come from two different people.")
    return None


def access_request_actions_available(*, user, access_request: AccessRequest) -> list[str]:
    """The moves `user` may make on the access request now, by the rules its services enforce
    (side, state, one approval per side from two people, one reconsideration): what its page
    offers."""
    side = access_request_side(user=user, access_request=access_request)
    available = []
    for t in REQUEST_TRANSITIONS.values():
        if access_request.status not in t.sources or side not in t.sides:
            continue
        if t.action == "approve" and _approve_refusal(access_request, user, side) is not None:
            continue
        if t.action == "reconsider" and access_request.reconsidered_at is not None:
            continue
        available.append(t.action)
    return available


def partner_actions_available(*, user, profile: PartnerProfile) -> list[str]:
    """The vetting moves `user` may make on `profile` now (what `partner_transition` allows)."""
    if not policy.is_program_admin(user):
        return []
    return [action for action, (sources, _) in PROFILE_TRANSITIONS.items()
            if profile.status in sources]


def grant_may_revoke(*, user, grant: AccessGrant) -> bool:
    """`grant_revoke` would accept this now: admins or the model's developer, live or future."""
    return ((policy.is_program_admin(user) or policy.is_developer_of(user, grant.model))
            and _revoke_refusal(grant) is None)


def _revoke_refusal(grant: AccessGrant) -> str | None:
    if grant.revoked_at is not None:
        return "This grant is revoked already."
    if grant.ends_at <= timezone.now():
        return "This grant has ended already."
    return None


@transaction.atomic
def access_request_approve(*, access_request: AccessRequest, actor: User) -> AccessRequest:
    """One side's approval. Both sides, two different people, neither the requester."""
    access_request, side = _lock(access_request, actor, "approve")
    refusal = _approve_refusal(access_request, actor, side)
    if refusal is not None:
        raise refusal
    if side == DEVELOPER:
        access_request.developer_approved_by, access_request.developer_approved_at = (
            actor, timezone.now())
        fields = ["developer_approved_by", "developer_approved_at"]
    else:
        access_request.agency_approved_by, access_request.agency_approved_at = (
            actor, timezone.now())
        fields = ["agency_approved_by", "agency_approved_at"]
    both = bool(access_request.developer_approved_by_id and access_request.agency_approved_by_id)
    _set_status(access_request, R.APPROVED if both else R.PENDING, fields)
    audit_record(actor=actor, action="access_request.approved", obj=access_request,
                 organisation=access_request.model.organisation,
                 data={"side": side, "both": both})
    if both:
        partner_events.request_approved(access_request)
        # Still under the request's lock: a terms acceptance that committed while we waited
        # for it is visible now; one still running waits for this commit and grants itself.
        _grant_if_ready(access_request)
    return access_request


@transaction.atomic
def access_request_deny(*, access_request: AccessRequest, actor: User,
                        reason: str) -> AccessRequest:
    reason = _reason(reason)
    access_request, side = _lock(access_request, actor, "deny")
    access_request.denied_by, access_request.denial_reason = actor, reason
    _set_status(access_request, R.DENIED, ["denied_by", "denial_reason"])
    audit_record(actor=actor, action="access_request.denied", obj=access_request,
                 organisation=access_request.model.organisation,
                 data={"side": side, "reason": reason})
    partner_events.request_denied(access_request)
    return access_request


@transaction.atomic
def access_request_reconsider(*, access_request: AccessRequest, actor: User,
                              reason: str) -> AccessRequest:
    """A denied partner asks once for reconsideration: both approvals are needed again."""
    reason = _reason(reason)
    access_request, side = _lock(access_request, actor, "reconsider")
    if access_request.reconsidered_at is not None:
        raise TransitionNotAllowed("A denied request may be reconsidered only once.")
    _validate_window(model=access_request.model, starts_at=access_request.starts_at,
                     ends_at=access_request.ends_at, check_start_in_past=False)
    access_request.reconsidered_at = timezone.now()
    access_request.reconsideration_reason = reason
    access_request.developer_approved_by = access_request.agency_approved_by = None
    access_request.developer_approved_at = access_request.agency_approved_at = None
    access_request.denied_by = None
    _set_status(access_request, R.PENDING, [
        "reconsidered_at", "reconsideration_reason", "developer_approved_by",
        "agency_approved_by", "developer_approved_at", "agency_approved_at", "denied_by"])
    audit_record(actor=actor, action="access_request.reconsideration_requested",
                 obj=access_request, organisation=access_request.model.organisation,
                 data={"reason": reason})
    partner_events.reconsideration_requested(access_request)
    return access_request


@transaction.atomic
def access_request_withdraw(*, access_request: AccessRequest, actor: User,
                            reason: str = "") -> AccessRequest:
    access_request, side = _lock(access_request, actor, "withdraw")
    _set_status(access_request, R.WITHDRAWN, [])
    audit_record(actor=actor, action="access_request.withdrawn", obj=access_request,
                 organisation=access_request.model.organisation,
                 data={"reason": (reason or "").strip()})
    return access_request


# --- terms ----------------------------------------------------------------------------------

@transaction.atomic
def terms_set(*, model: FrontierModel, actor: User, text: str) -> TermsVersion:
    """The developer publishes a new version of the model's terms of access."""
    if not policy.is_developer_of(actor, model):
        raise PermissionDenied("Only the model's developer sets its terms.")
    text = (text or "").strip()
    if not text:
        raise ApplicationError("The terms cannot be empty.", field="text")
    FrontierModel.objects.select_for_update().get(pk=model.pk)
    current = selectors.terms_current(model=model)
    terms = TermsVersion(model=model, version=(current.version + 1) if current else 1,
                         text=text, created_by=actor)
    terms.full_clean()
    terms.save()
    audit_record(actor=actor, action="terms.published", obj=terms,
                 organisation=model.organisation, data={"version": terms.version})
    return terms


@transaction.atomic
def terms_accept(*, model: FrontierModel, actor: User, version: int,
                 accepted_name: str) -> TermsAcceptance:
    """A named member of a partner organisation accepts the current terms for it."""
    if not policy.is_partner(actor):
        raise PermissionDenied("A member of the partner organisation accepts the terms.")
    organisation = actor.membership.organisation
    accepted_name = (accepted_name or "").strip()
    if not accepted_name:
        raise ApplicationError("Type your name to accept the terms.", field="accepted_name")
    current = selectors.terms_current(model=model)
    if current is None:
        raise ApplicationError("The developer has not set terms for this model yet.",
                               status=409)
    if current.version != version:
        raise ApplicationError(f"The current terms are version {current.version}; read and "
                               "accept that one.", field="version", status=409)
    # Lock the organisation's requests for this model before deciding anything. The final
    # approval holds the same row lock while it looks for an accepted terms version, so of the
    # two, the one that commits second sees the other's write and creates the grant. Reading
    # the status unlocked let each miss the other's uncommitted write: approved, terms
    # accepted and no grant (issue 7). The requests' rows are the first lock here as in the
    # approval path (`_lock`), taken in id order, so the paths cannot deadlock. The status is
    # checked in Python, not in the query: a row that became approved while we waited for its
    # lock would not match a status filter evaluated on the snapshot taken before the wait.
    requests = list(AccessRequest.objects.select_for_update(of=("self",))
                    .select_related("model", "organisation__group")
                    .filter(model=model, organisation=organisation).order_by("pk"))
    if all(access_request.status == R.WITHDRAWN for access_request in requests):
        raise PermissionDenied("Your organisation has no access request for this model.")
    acceptance, created = TermsAcceptance.objects.get_or_create(
        terms=current, organisation=organisation,
        defaults={"accepted_by": actor, "accepted_name": accepted_name})
    if created:
        audit_record(actor=actor, action="terms.accepted", obj=acceptance,
                     organisation=organisation,
                     data={"model": model.pk, "version": current.version,
                           "name": accepted_name})
    for access_request in requests:
        _grant_if_ready(access_request)
    return acceptance


# --- grants ---------------------------------------------------------------------------------

def _grant_if_ready(access_request: AccessRequest) -> AccessGrant | None:
    """Both approvals and the current terms accepted: the request becomes a grant, once.

    The caller holds the request's row lock and read `access_request` under it, so its status
    is the committed truth: a request granted by a concurrent call is `granted` here and is
    left alone. The one-to-one `AccessGrant.request` is the database's backstop."""
    if access_request.status != R.APPROVED:
        return None
    current = selectors.terms_current(model=access_request.model)
    acceptance = current and TermsAcceptance.objects.filter(
        terms=current, organisation_id=access_request.organisation_id).first()
    if not acceptance:
        return None
    assert REQUEST_TRANSITIONS["grant"].sides == {SYSTEM}
    grant = AccessGrant(request=access_request, model=access_request.model,
                        organisation=access_request.organisation, terms_acceptance=acceptance,
                        starts_at=access_request.starts_at, ends_at=access_request.ends_at)
    grant.full_clean()
    grant.save()
    # Granted to the organisation's group, on this model only (guardian's direct FK table).
    assign_perm(VIEW_MODEL, access_request.organisation.group, access_request.model)
    _set_status(access_request, R.GRANTED, [])
    audit_record(actor=None, action="access_grant.created", obj=grant,
                 organisation=access_request.model.organisation,
                 data={"request": access_request.pk, "partner": grant.organisation.name,
                       "starts_at": grant.starts_at.isoformat(),
                       "ends_at": grant.ends_at.isoformat()})
    _notify_grant(grant, "granted")
    return grant


def _notify_grant(grant: AccessGrant, event: str) -> None:
    partner_events.grant_event(grant, event)


def _remove_permission_unless_still_granted(grant: AccessGrant) -> None:
    """Remove the group's permission unless another unrevoked, unended grant still needs it."""
    others = AccessGrant.objects.filter(
        model_id=grant.model_id, organisation_id=grant.organisation_id, revoked_at__isnull=True,
        ends_at__gt=timezone.now()).exclude(pk=grant.pk)
    if not others.exists():
        remove_perm(VIEW_MODEL, grant.organisation.group, grant.model)


def _grant_revoke(*, grant: AccessGrant, actor: User, reason: str) -> AccessGrant:
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = timezone.now(), actor, reason
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    _remove_permission_unless_still_granted(grant)
    AccessGrant.objects.filter(pk=grant.pk).update(permissions_removed_at=timezone.now())
    audit_record(actor=actor, action="access_grant.revoked", obj=grant,
                 organisation=grant.model.organisation, data={"reason": reason})
    _notify_grant(grant, "revoked")
    return grant


@transaction.atomic
def grant_revoke(*, grant: AccessGrant, actor: User, reason: str) -> AccessGrant:
    """End a grant early. Program admins or the model's developer, with a reason."""
    if not (policy.is_program_admin(actor) or policy.is_developer_of(actor, grant.model)):
        raise PermissionDenied("Only program admins or the model's developer revoke access.")
    reason = _reason(reason)
    grant = AccessGrant.objects.select_for_update().select_related(
        "model", "organisation__group").get(pk=grant.pk)
    refusal = _revoke_refusal(grant)
    if refusal is not None:
        raise TransitionNotAllowed(refusal)
    return _grant_revoke(grant=grant, actor=actor, reason=reason)


@transaction.atomic
def grant_issue_token(*, grant: AccessGrant, actor: User) -> tuple[AccessGrant, str]:
    """Issue (or rotate) the grant's access token; the token is returned once, never stored."""
    if not policy.is_partner_member(actor, grant.organisation_id):
        raise PermissionDenied("A member of the partner organisation issues its token.")
    grant = AccessGrant.objects.select_for_update(of=("self",)).select_related(
        "organisation", "model").get(pk=grant.pk)
    if grant.revoked_at is not None or grant.ends_at <= timezone.now():
        raise TransitionNotAllowed("This grant has ended; no token is issued for it.")
    token = AccessGrant.TOKEN_PREFIX + secrets.token_urlsafe(32)
    grant.token_hash, grant.token_hint = AccessGrant.hash_token(token), token[:10]
    grant.token_issued_at = timezone.now()
    grant.save(update_fields=["token_hash", "token_hint", "token_issued_at"])
    audit_record(actor=actor, action="access_grant.token_issued", obj=grant,
                 organisation=grant.organisation, data={"hint": grant.token_hint})
    return grant, token


def grants_sweep_ended() -> list[int]:
    """The beat job: remove the permissions of grants that ended. Idempotent by construction:
    each grant is claimed with a conditional update, so a second run (or a concurrent one)
    finds nothing to do and sends no second email. Access itself never waited for this: every
    read checks the window."""
    swept = []
    ended = AccessGrant.objects.filter(permissions_removed_at__isnull=True,
                                       ends_at__lte=timezone.now()).values_list("pk", flat=True)
    for pk in list(ended):
        with transaction.atomic():
            claimed = AccessGrant.objects.filter(
                pk=pk, permissions_removed_at__isnull=True).update(
                permissions_removed_at=timezone.now())
            if claimed != 1:
                continue
            grant = AccessGrant.objects.select_related("model", "organisation__group").get(pk=pk)
            _remove_permission_unless_still_granted(grant)
            audit_record(actor=None, action="access_grant.ended", obj=grant,
                         organisation=grant.model.organisation, data={})
            _notify_grant(grant, "ended")
            swept.append(pk)
    return swept


def introspect(*, token: str, caller) -> dict:
    """RFC 7662 answer for a partner's token, asked by a model gateway (a gateway client or a
    developer's personal token): see partners.gateway.grant_token_answer. A token of another
    developer's model answers inactive, the same as an unknown one."""
    from partners.gateway import grant_token_answer

    return grant_token_answer(token=token, caller=caller)
