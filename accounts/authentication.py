from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiToken
from accounts.selectors import needs_second_factor, security_key_required
from accounts.services import api_token_record_use


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer frp_…` with a personal token; only the token's hash is stored."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        parts = header.split()
        if not parts or parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        token = (
            ApiToken.objects.select_related("user", "user__membership")
            .filter(key_hash=ApiToken.hash_key(parts[1]), revoked_at__isnull=True,
                    user__is_active=True)
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        # The second-factor middleware only sees the session user; a token must not let a
        # government user who has not enrolled a device around it. A token records no sign-in
        # method, so when the program requires a security key the rule is that the user holds
        # one (a token is created on the profile page, which needs a key-signed session then).
        if needs_second_factor(token.user):
            raise exceptions.PermissionDenied(
                "Register a security key or passkey before using the portal."
                if security_key_required(token.user)
                else "Set up two-factor authentication before using the portal.")
        api_token_record_use(token=token)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI schema (a bearer token), so the docs can send it."""

    target_class = ApiTokenAuthentication
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (frp_…), created on your profile page or with "
                           "`manage.py createapitoken`.",
        }


class GatewayClientAuthentication(authentication.BaseAuthentication):
    """A developer's model gateway as an OAuth 2.0 client: `Authorization: Basic` with its
    client id and secret (client_secret_basic, RFC 6749 §2.3.1, as RFC 7662 §2.1 expects).
    Only the introspection endpoints use it. The caller is no user: request.user stays
    anonymous and request.auth is the GatewayClient."""

    def authenticate(self, request):
        import base64
        import binascii
        from urllib.parse import unquote_plus

        from django.contrib.auth.models import AnonymousUser

        from partners.gateway import gateway_client_authenticate

        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() != b"basic":
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        try:
            decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.") from exc
        client_id, sep, secret = decoded.partition(":")
        client = sep and gateway_client_authenticate(client_id=unquote_plus(client_id),
                                                     secret=unquote_plus(secret))
        if not client:
            raise exceptions.AuthenticationFailed("Invalid gateway client credentials.")
        return AnonymousUser(), client

    def authenticate_header(self, request):
        return 'Basic realm="model gateway"'


class GatewayClientAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes the gateway client's credentials in the OpenAPI schema (HTTP Basic)."""

    target_class = GatewayClientAuthentication
    name = "gatewayClient"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "A model gateway's client id and secret (gwc_… / gws_…), registered "
                           "by its developer organisation on the Model gateways page "
                           "(client_secret_basic, RFC 7662 §2.1).",
        }
