from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts import time_zones
from accounts.selectors import (
    needs_second_factor,
    security_key_required,
    signed_in_with_security_key,
)

# Pages a government user may reach before enrolling a second factor: the enrolment itself,
# logout and static files. Everything else in the portal holds confidential material.
ALLOWED_PREFIXES = ("/accounts/", "/static/")
# The health probes answer without a session: checked before request.user is, whose lookup
# would load the session from the database.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class RequireSecondFactorMiddleware:
    """Government users (agency, program office) reach nothing confidential before they hold a
    second factor. When GOVERNMENT_REQUIRE_WEBAUTHN is on, that factor is a security key or
    passkey, and the session must have used it: a user who signed in with a (phishable) TOTP
    code is asked for the key first, and meanwhile reaches no other account page either, so a
    phished session cannot add its own key, remove the user's keys or change the password."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in PROBE_PATHS:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith("/static/"):
            return self.get_response(request)
        if request.path.startswith(ALLOWED_PREFIXES) and not security_key_required(user):
            return self.get_response(request)
        if needs_second_factor(user):
            if request.path.startswith(ALLOWED_PREFIXES):
                return self.get_response(request)
            if security_key_required(user):
                return self._refuse(request, "mfa_add_webauthn", "Register a security key or "
                                    "passkey before using the portal.")
            return self._refuse(request, "mfa_activate_totp",
                                "Set up two-factor authentication before using the portal.")
        if security_key_required(user) and not signed_in_with_security_key(request):
            if request.path in (reverse("mfa_reauthenticate_webauthn"),
                                reverse("account_logout")):
                return self.get_response(request)
            return self._refuse(request, "mfa_reauthenticate_webauthn", "Sign in with your "
                                "security key or passkey before using the portal.", next_=True)
        return self.get_response(request)

    @staticmethod
    def _refuse(request, url_name: str, detail: str, next_: bool = False):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail}, status=403)
        url = reverse(url_name)
        if next_ and request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)


class UserTimeZoneMiddleware:
    """Pages render times in the signed-in user's own zone (a profile setting; UTC by default).
    The API always speaks UTC, whoever calls it: its answers are data for programs, and a
    client that shares one URL across users must get the same text."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        name = time_zones.UTC_NAME
        if not request.path.startswith("/api/") and request.path not in PROBE_PATHS \
                and user is not None and user.is_authenticated:
            name = time_zones.zone_name_of(user)
        if name == time_zones.UTC_NAME:
            timezone.deactivate()  # settings.TIME_ZONE, which is UTC
        else:
            timezone.activate(time_zones.zone(name))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
