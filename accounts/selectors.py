from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import ApiToken, Membership, User


def role_of(user) -> str | None:
    """The user's role, or None for anonymous users and users without an organisation."""
    if not getattr(user, "is_authenticated", False):
        return None
    membership = user.membership_or_none
    return membership.role if membership else None


def is_program_admin(user) -> bool:
    return role_of(user) == Membership.Role.PROGRAM_ADMIN


def is_reviewer(user) -> bool:
    return role_of(user) == Membership.Role.REVIEWER


def is_developer(user) -> bool:
    return role_of(user) == Membership.Role.DEVELOPER


def is_government(user) -> bool:
    """An active agency reviewer or program admin: the side that may see confidential program
    material (suites, runs, reviews, policies)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return role_of(user) in (Membership.Role.REVIEWER, Membership.Role.PROGRAM_ADMIN)


def sees_agency_identities(user) -> bool:
    """Whether the user may learn which agency reviewer acted (approved, denied). The program
    promises developers and partners that they never learn who reviewed: they see "the agency".
    Only the government side (active reviewers, program admins) sees names."""
    return is_government(user)


def needs_second_factor(user) -> bool:
    """Agency and program-office users must hold a TOTP device before any confidential page."""
    from allauth.mfa.utils import is_mfa_enabled

    membership = user.membership_or_none
    if membership is None or not membership.is_government:
        return False
    return not is_mfa_enabled(user)


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get_for_user(*, user: User, pk: int) -> ApiToken:
    return get_object_or_404(api_tokens_for_user(user=user), pk=pk)


def program_admin_emails() -> list[str]:
    return list(
        User.objects.filter(membership__role=Membership.Role.PROGRAM_ADMIN, is_active=True)
        .values_list("email", flat=True)
    )
