from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings

from review_portal.client_ip import client_ip


class NoSignupAccountAdapter(DefaultAccountAdapter):
    """Accounts are created by program admins for vetted organisations; no self sign-up."""

    def is_open_for_signup(self, request) -> bool:
        return False

    def get_client_ip(self, request) -> str:
        # Login rate limits key on the same client address as the API's throttles: REMOTE_ADDR
        # unless TRUSTED_PROXY_COUNT / TRUSTED_CLIENT_IP_HEADER say otherwise, and never a 500
        # for an X-Forwarded-For shorter than expected.
        return client_ip(request)


class PortalMFAAdapter(DefaultMFAAdapter):
    """allauth's MFA defaults, with the portal's name in the browser's security-key dialog."""

    def get_public_key_credential_rp_entity(self) -> dict[str, str]:
        entity = super().get_public_key_credential_rp_entity()
        entity["name"] = settings.MFA_TOTP_ISSUER
        return entity
