from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings


class NoSignupAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by program admins for vetted organisations; no self sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False


class PortalMFAAdapter(DefaultMFAAdapter):
    """allauth's MFA defaults, with the portal's name in the browser's security-key dialog."""

    def get_public_key_credential_rp_entity(self) -> dict[str, str]:
        entity = super().get_public_key_credential_rp_entity()
        entity["name"] = settings.MFA_TOTP_ISSUER
        return entity
