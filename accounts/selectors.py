from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts import policy
from accounts.models import ApiToken, User


def security_key_required(user) -> bool:
    """Whether the program requires this user to sign in with a security key or passkey
    (GOVERNMENT_REQUIRE_WEBAUTHN, for agency and program-office users)."""
    return settings.GOVERNMENT_REQUIRE_WEBAUTHN and policy.is_government(user)


def needs_second_factor(user) -> bool:
    """Agency and program-office users must hold a second factor before any confidential page:
    a TOTP device or a security key, or a security key (passkey) when the program requires one.
    Also the rule for API tokens and calendar feeds, which carry no record of how one signed in."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import is_mfa_enabled

    if not policy.is_government(user):
        return False
    types = [Authenticator.Type.WEBAUTHN] if security_key_required(user) else None
    return not is_mfa_enabled(user, types=types)


def signed_in_with_security_key(request) -> bool:
    """Whether this session's sign-in (or a later confirmation) used a security key or passkey.
    allauth records every authentication method of the session; a TOTP code or recovery code
    can be phished, a WebAuthn assertion is bound to this site's origin."""
    from allauth.account.internal.flows.login import get_authentication_records
    from allauth.mfa.models import Authenticator

    return any(record.get("method") == "mfa" and record.get("type") == Authenticator.Type.WEBAUTHN
               for record in get_authentication_records(request, request.user))


def security_keys_for_user(*, user: User) -> QuerySet:
    """The user's security keys and passkeys (allauth's WebAuthn authenticators)."""
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.WEBAUTHN).order_by(
        "created_at")


def api_tokens_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_get_for_user(*, user: User, pk: int) -> ApiToken:
    return get_object_or_404(api_tokens_for_user(user=user), pk=pk)
