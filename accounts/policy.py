"""Who may act: the one module of small policy functions every selector, service, view and
serializer asks (HOUSE_STYLE: "who may act is decided in one module").

Named `policy` after the house style's words; it lives in `accounts` because roles are the
accounts app's (`Membership.Role`) and every app already depends on accounts. (Not to be
confused with `reviews/policy.py`, the threshold policy that recommends a determination.)

Rules of this module:
- Pure functions of (user, obj): they read attributes the caller has loaded and run no query,
  except where noted (`is_assigned_to_model`), or when a relation was not prefetched.
- Anonymous users, inactive users and users without an organisation hold no role: every check
  goes through `_membership`, which checks `is_active` once, so no rule can forget it.
- A developer of a model is a member, with the developer role, of the organisation that owns
  it. That is the truth; the guardian permissions granted to the organisation's group when the
  model is registered (submissions.services.model_register) follow from it and are what lists
  are filtered by (selectors), never what an action is decided by.
"""

from django.db.models import Q
from django.utils import timezone

from accounts.models import Membership

R = Membership.Role


def is_active_user(user) -> bool:
    """Signed in and not deactivated: the precondition of every role."""
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_active", False))


def _membership(user) -> Membership | None:
    """The membership of an active, signed-in user; None for anyone else."""
    return user.membership_or_none if is_active_user(user) else None


# --- roles ----------------------------------------------------------------------------------

def role_of(user) -> str | None:
    """The active user's role, or None (anonymous, inactive, no organisation)."""
    membership = _membership(user)
    return membership.role if membership else None


def organisation_id_of(user) -> int | None:
    """The id of the active user's organisation, or None."""
    membership = _membership(user)
    return membership.organisation_id if membership else None


def is_agency_reviewer(user) -> bool:
    """An active agency reviewer."""
    return role_of(user) == R.REVIEWER


def is_program_admin(user) -> bool:
    """An active program admin (program office)."""
    return role_of(user) == R.PROGRAM_ADMIN


def is_developer(user) -> bool:
    """An active member of an AI developer organisation."""
    return role_of(user) == R.DEVELOPER


def is_partner(user) -> bool:
    """An active member of a trusted-partner organisation (vetted or not)."""
    return role_of(user) == R.PARTNER


def is_government(user) -> bool:
    """The government side (an active reviewer or program admin): may see confidential program
    material (suites, runs, reviews, policies, who reviewed)."""
    return role_of(user) in (R.REVIEWER, R.PROGRAM_ADMIN)


def is_government_member(user) -> bool:
    """Whether the user's membership is on the government side, active or not: a history keeps
    calling a former reviewer "The agency" to developers and partners."""
    membership = getattr(user, "membership_or_none", None)
    return membership is not None and membership.role in (R.REVIEWER, R.PROGRAM_ADMIN)


def sees_agency_identities(user) -> bool:
    """May learn which agency reviewer acted; developers and partners only see "the agency"."""
    return is_government(user)


def may_track_windows(user) -> bool:
    """May open the window tracking page and overview: program admins and developers."""
    return role_of(user) in (R.PROGRAM_ADMIN, R.DEVELOPER)


# --- developers and partners ----------------------------------------------------------------

def is_developer_of(user, model) -> bool:
    """A developer of the organisation that owns `model` (its owner or a colleague)."""
    return is_developer(user) and organisation_id_of(user) == model.organisation_id


def introspecting_organisation_id(caller) -> int | None:
    """The developer organisation a model gateway speaks for: a live gateway client's, or an
    active developer's (the personal token); None for anyone else."""
    from partners.models import GatewayClient

    if isinstance(caller, GatewayClient):
        return caller.organisation_id if caller.revoked_at is None else None
    return organisation_id_of(caller) if is_developer(caller) else None


def is_partner_member(user, organisation_id: int) -> bool:
    """A member of the partner organisation `organisation_id`."""
    return is_partner(user) and organisation_id_of(user) == organisation_id


def sees_partner_details(user, profile) -> bool:
    """May read a partner profile's contacts and vetting file: program admins and the partner."""
    return is_program_admin(user) or is_partner_member(user, profile.organisation_id)


def live_grant_q(prefix: str = "") -> Q:
    """A live grant, as a query condition (the twin of `grant_is_live`): now inside
    [starts_at, ends_at), not revoked, organisation still vetted."""
    from partners.models import PartnerProfile

    now = timezone.now()
    return Q(**{
        f"{prefix}starts_at__lte": now,
        f"{prefix}ends_at__gt": now,
        f"{prefix}revoked_at__isnull": True,
        f"{prefix}organisation__partner_profile__status": PartnerProfile.Status.VETTED,
    })


NOT_READ = object()


def grant_is_live(grant, *, partner_status=NOT_READ) -> bool:
    """The grant is live now (see `live_grant_q`); reads grant.organisation.partner_profile,
    unless the caller read its status already (`partner_status`, e.g. a list, in SQL)."""
    from partners.models import PartnerProfile

    now = timezone.now()
    if not (grant.starts_at <= now < grant.ends_at and grant.revoked_at is None):
        return False
    if partner_status is NOT_READ:
        partner_status = grant.organisation.partner_profile.status
    return partner_status == PartnerProfile.Status.VETTED


# --- reviewers of a request -----------------------------------------------------------------

def assignment_of(user, review_request):
    """The active reviewer's assignment to `review_request`, or None. Reads
    review_request.assignments (prefetch it to avoid the query)."""
    if not is_agency_reviewer(user):
        return None
    return next((a for a in review_request.assignments.all() if a.reviewer_id == user.pk), None)


def is_assigned_reviewer(user, review_request) -> bool:
    """An active agency reviewer assigned to `review_request`."""
    return assignment_of(user, review_request) is not None


def is_lead_reviewer(user, review_request) -> bool:
    """The assigned reviewer who leads `review_request`: the only one who records its
    determination."""
    assignment = assignment_of(user, review_request)
    return assignment is not None and assignment.is_lead


def is_assigned_to_model(user, model) -> bool:
    """An active reviewer assigned to some request of `model` (one query)."""
    from submissions.models import ReviewerAssignment

    return is_agency_reviewer(user) and ReviewerAssignment.objects.filter(
        reviewer=user, request__model=model).exists()


# --- the clearinghouse (issue 11) -----------------------------------------------------------
# Roles only; what a user may see of one report or case is decided in clearinghouse/access.py,
# which asks these.

def is_vendor(user) -> bool:
    """An active member of a vendor organisation (vetted or not)."""
    return role_of(user) == R.VENDOR


def is_operator(user) -> bool:
    """An active member of a critical-infrastructure operator organisation."""
    return role_of(user) == R.OPERATOR


def is_clearinghouse_coordinator(user) -> bool:
    """Coordinates the clearinghouse: triages reports, runs cases, embargoes and publication.
    The program office coordinates (the issue: "the program office coordinates"); agency
    reviewers file and verify reports but do not coordinate."""
    return is_program_admin(user)


def may_verify_report(user) -> bool:
    """Records verifications of reports (and so reads every report): the coordinator and
    agency reviewers, the government's technical staff."""
    return role_of(user) in (R.REVIEWER, R.PROGRAM_ADMIN)


def may_file_report(user) -> bool:
    """AI developers, vendors, operators and agencies file reports; trusted partners (who hold
    early access to a model, not a seat in the clearinghouse) do not."""
    return role_of(user) in (R.DEVELOPER, R.VENDOR, R.OPERATOR, R.REVIEWER, R.PROGRAM_ADMIN)


def is_member_of(user, organisation_id) -> bool:
    """An active member of organisation `organisation_id`, whatever its kind."""
    return organisation_id is not None and organisation_id_of(user) == organisation_id


def is_ai_developer_organisation(organisation) -> bool:
    """An AI developer's organisation: its reports must name a human validator before any
    vendor sees them."""
    from accounts.models import Organisation

    return organisation.kind == Organisation.Kind.AI_DEVELOPER
