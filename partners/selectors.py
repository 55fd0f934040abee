"""Reads for trusted partners, filtered for the user (one access helper per entity).

Partners' access to a model is decided here on every call: a live grant (now inside
[starts_at, ends_at), not revoked, organisation still vetted) AND the guardian object permission.
The permission alone is never enough, so access ends at the window's end even when the sweep
that removes permissions has not run (fail closed).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, User
from partners.models import (
    AccessGrant,
    AccessRequest,
    PartnerProfile,
    TermsAcceptance,
    TermsVersion,
)
from submissions.models import (
    AccessWindow,
    Artifact,
    FrontierModel,
    FrontierModelGroupObjectPermission,
)

# --- partner organisations ------------------------------------------------------------------

def partner_profiles_visible_to(user) -> QuerySet[PartnerProfile]:
    qs = PartnerProfile.objects.select_related("organisation")
    if policy.is_government(user):
        return qs
    if policy.is_developer(user):
        # Developers choose whom to invite among vetted partners.
        return qs.filter(status=PartnerProfile.Status.VETTED)
    if policy.is_partner(user):
        return qs.filter(organisation_id=policy.organisation_id_of(user))
    return qs.none()


def partner_profile_get_for_user(*, user, pk) -> PartnerProfile:
    return get_object_or_404(partner_profiles_visible_to(user), pk=pk)


def partner_profile_of(*, organisation: Organisation) -> PartnerProfile | None:
    return PartnerProfile.objects.filter(organisation=organisation).first()


# --- access requests ------------------------------------------------------------------------

def _reviewer_model_ids(user):
    from submissions.models import ReviewerAssignment

    return ReviewerAssignment.objects.filter(reviewer=user).values("request__model_id")


def access_requests_visible_to(user) -> QuerySet[AccessRequest]:
    qs = AccessRequest.objects.select_related(
        "model", "model__organisation", "organisation", "requested_by", "developer_approved_by",
        "agency_approved_by", "denied_by")
    if policy.is_program_admin(user):
        return qs
    if policy.is_agency_reviewer(user):
        # Reviewers see only what concerns the models of requests assigned to them.
        return qs.filter(model__in=_reviewer_model_ids(user))
    if policy.is_developer(user):
        return qs.filter(model__organisation_id=policy.organisation_id_of(user))
    if policy.is_partner(user):
        return qs.filter(organisation_id=policy.organisation_id_of(user))
    return qs.none()


def access_request_get_for_user(*, user, pk) -> AccessRequest:
    return get_object_or_404(access_requests_visible_to(user), pk=pk)


AGENCY_LABEL = "The agency"


def agency_approver_label(*, user, access_request: AccessRequest) -> str | None:
    """Who approved for the agency, as `user` may know it: the reviewer's username for the
    government side, "The agency" for developers and partners; None until the agency approves.
    """
    if access_request.agency_approved_by_id is None:
        return None
    if policy.sees_agency_identities(user):
        return access_request.agency_approved_by.username
    return AGENCY_LABEL


def government_window_end(*, model: FrontierModel):
    """When the government window ends: the scheduled one's end, else the planned partner
    release (which a government window may not pass)."""
    window = model.windows.filter(kind=AccessWindow.Kind.GOVERNMENT,
                                  status=AccessWindow.Status.SCHEDULED).first()
    return window.ends_at if window else model.planned_partner_release_at


# --- terms ----------------------------------------------------------------------------------

def terms_current(*, model: FrontierModel) -> TermsVersion | None:
    return TermsVersion.objects.filter(model=model).order_by("-version").first()


# --- grants ---------------------------------------------------------------------------------

def grants_visible_to(user) -> QuerySet[AccessGrant]:
    """Grants as history: partners see their own (live or not), developers those on their
    models, the agency all. Use `models_granted_to` for access itself."""
    qs = AccessGrant.objects.select_related(
        "model", "model__organisation", "organisation", "organisation__partner_profile",
        "revoked_by")
    if policy.is_program_admin(user):
        return qs
    if policy.is_agency_reviewer(user):
        # Reviewers see only what concerns the models of requests assigned to them.
        return qs.filter(model__in=_reviewer_model_ids(user))
    if policy.is_developer(user):
        return qs.filter(model__organisation_id=policy.organisation_id_of(user))
    if policy.is_partner(user):
        return qs.filter(organisation_id=policy.organisation_id_of(user))
    return qs.none()


def grant_get_for_user(*, user, pk) -> AccessGrant:
    return get_object_or_404(grants_visible_to(user), pk=pk)


def partner_grants_of(user) -> QuerySet[AccessGrant]:
    """The grants of a partner member's own organisation, live or not, with what the
    granted-model page shows (model, developer, vetting status, accepted terms); none for
    anyone else: the page is the partner's own."""
    if not policy.is_partner(user):
        return AccessGrant.objects.none()
    return AccessGrant.objects.filter(
        organisation_id=policy.organisation_id_of(user)).select_related(
        "model", "model__organisation", "organisation__partner_profile",
        "terms_acceptance__terms", "terms_acceptance__accepted_by")


def partner_grant_get_for_user(*, user, pk) -> AccessGrant:
    return get_object_or_404(partner_grants_of(user), pk=pk)


def partner_grant_for_model(*, user, model_pk) -> AccessGrant:
    """The partner organisation's grant on a model that matters now: a live one, else the one
    that starts latest. 404 when the organisation never held one."""
    grants = list(partner_grants_of(user).filter(model_id=model_pk))
    if not grants:
        from django.http import Http404

        raise Http404
    live = [grant for grant in grants if policy.grant_is_live(grant)]
    return (live or grants)[0]


def time_until(moment: datetime, *, now: datetime) -> str:
    """A countdown in words, to the minute, its two largest units: "3 days 4 hours",
    "5 hours 12 minutes", "less than a minute"."""
    minutes = max(int((moment - now) / timedelta(minutes=1)), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    while units and units[0][0] == 0:
        units.pop(0)
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in units[:2] if n]
    return " ".join(words) or "less than a minute"


@dataclass(frozen=True)
class GrantStatus:
    """Where a grant stands now, for its page: `state` is one of live, scheduled, ended,
    revoked, suspended (the organisation is no longer vetted); `countdown` is the time to the
    next moment that matters (the end when live, the start when scheduled), else ""."""

    state: str
    countdown: str = ""

    @property
    def live(self) -> bool:
        return self.state == "live"


def grant_status(grant: AccessGrant, *, now: datetime | None = None) -> GrantStatus:
    """The grant's state, live exactly when `policy.grant_is_live` says so (the page offers the
    gateway, the token and the documents only then)."""
    now = now or timezone.now()
    if policy.grant_is_live(grant):
        return GrantStatus("live", time_until(grant.ends_at, now=now))
    if grant.revoked_at is not None:
        return GrantStatus("revoked")
    if grant.ends_at <= now:
        return GrantStatus("ended")
    if grant.organisation.partner_profile.status != PartnerProfile.Status.VETTED:
        return GrantStatus("suspended")
    return GrantStatus("scheduled", time_until(grant.starts_at, now=now))


def models_granted_to(user) -> QuerySet[FrontierModel]:
    """The models a partner may use now: guardian permission AND a live grant."""
    if not policy.is_partner(user):
        return FrontierModel.objects.none()
    organisation = Organisation.objects.get(pk=policy.organisation_id_of(user))
    # The group's view permissions, read from guardian's direct table by its (group,
    # permission, object) index: what get_objects_for_group decides, as a semi-join.
    permitted = FrontierModelGroupObjectPermission.objects.filter(
        group_id=organisation.group_id, permission__codename="view_frontiermodel",
        permission__content_type__app_label="submissions").values("content_object_id")
    live = AccessGrant.objects.filter(policy.live_grant_q(), model=OuterRef("pk"),
                                      organisation_id=organisation.pk)
    return FrontierModel.objects.filter(Exists(live), pk__in=permitted).select_related(
        "organisation")


def granted_model_get_for_user(*, user, pk) -> FrontierModel:
    return get_object_or_404(models_granted_to(user), pk=pk)


def shareable_artifacts_for_partner(*, user, model: FrontierModel) -> QuerySet[Artifact]:
    return Artifact.objects.filter(
        request__model__in=models_granted_to(user).filter(pk=model.pk).values("pk"),
        shareable_with_partners=True)


def partner_artifact_get_for_user(*, user, pk) -> Artifact:
    return get_object_or_404(
        Artifact.objects.filter(request__model__in=models_granted_to(user).values("pk"),
                                shareable_with_partners=True).select_related(
            "request__model__organisation"),
        pk=pk)


def member_emails(*, organisation_id: int) -> list[str]:
    return list(User.objects.filter(membership__organisation_id=organisation_id, is_active=True)
                .values_list("email", flat=True))


def vetted_partner_organisations() -> QuerySet[Organisation]:
    return Organisation.objects.filter(partner_profile__status=PartnerProfile.Status.VETTED)


def requestable_models(user) -> QuerySet[FrontierModel]:
    """The models a partner member may ask early access to, for the request form's picker: the
    determination in force is "covered" and the planned public release is still ahead (a
    partner window ends by it). The service checks the same again when the request is filed."""
    from submissions.models import Determination, ReviewRequest

    if not policy.is_partner(user):
        return FrontierModel.objects.none()
    in_force = (Determination.objects.filter(request__model=OuterRef("pk"),
                                             request__status=ReviewRequest.Status.DETERMINED)
                .order_by("-decided_at", "-id").values("outcome")[:1])
    return (FrontierModel.objects.annotate(outcome_in_force=Subquery(in_force))
            .filter(outcome_in_force=Determination.Outcome.COVERED,
                    planned_public_release_at__gt=timezone.now())
            .select_related("organisation").order_by("name", "version", "id"))


def requestable_model_get(*, user, pk) -> FrontierModel:
    """A partner names a covered model by its number; anything else answers 404, so a partner
    cannot probe which uncovered models exist."""
    from django.http import Http404

    from submissions.selectors import model_is_covered

    model = FrontierModel.objects.filter(pk=pk).first()
    if model is None or not policy.is_partner(user) or not model_is_covered(
            model=model):
        raise Http404
    return model


# --- status at a glance (the home page): one selector per item, each for its own role --------

ENDING_SOON = timedelta(days=7)


def partner_requests_to_approve(user) -> QuerySet[AccessRequest]:
    """Pending access requests on a developer's models that wait for the developer's approval
    and that this developer may give (not their own invitation)."""
    if not policy.is_developer(user):
        return AccessRequest.objects.none()
    return (AccessRequest.objects.filter(model__organisation_id=policy.organisation_id_of(user),
                                         status=AccessRequest.Status.PENDING,
                                         developer_approved_by__isnull=True)
            .exclude(requested_by=user).select_related("model", "organisation")
            .order_by("created_at", "id"))


def live_grants(user) -> QuerySet[AccessGrant]:
    """The partner organisation's live grants, the soonest to end first."""
    return partner_grants_of(user).filter(policy.live_grant_q()).order_by("ends_at", "id")


def ending_grants(user) -> QuerySet[AccessGrant]:
    """Live grants of the partner organisation that end within ENDING_SOON (7 days)."""
    return live_grants(user).filter(ends_at__lte=timezone.now() + ENDING_SOON)


def terms_to_accept(user) -> QuerySet[AccessRequest]:
    """The partner organisation's open requests (pending or approved) whose model's current
    terms it has not accepted: access needs them accepted by a named member."""
    if not policy.is_partner(user):
        return AccessRequest.objects.none()
    organisation_id = policy.organisation_id_of(user)
    current = (TermsVersion.objects.filter(model=OuterRef("model_id")).order_by("-version")
               .values("pk")[:1])
    accepted = TermsAcceptance.objects.filter(terms_id=OuterRef("current_terms"),
                                              organisation_id=organisation_id)
    return (AccessRequest.objects.filter(organisation_id=organisation_id, status__in=[
        AccessRequest.Status.PENDING, AccessRequest.Status.APPROVED])
        .annotate(current_terms=Subquery(current)).filter(current_terms__isnull=False)
        .exclude(Exists(accepted)).select_related("model").order_by("created_at", "id"))


def vetting_queue(user) -> QuerySet[PartnerProfile]:
    """Partner organisations that applied and wait for a program admin's vetting."""
    if not policy.is_program_admin(user):
        return PartnerProfile.objects.none()
    return (PartnerProfile.objects.filter(status=PartnerProfile.Status.APPLIED)
            .select_related("organisation").order_by("created_at", "id"))


def own_partner_profile(user) -> PartnerProfile | None:
    """A partner member's own organisation's profile (None before it applied, or for anyone
    else)."""
    if not policy.is_partner(user):
        return None
    return PartnerProfile.objects.filter(organisation_id=policy.organisation_id_of(user)).first()
