from django.http import JsonResponse
from django.shortcuts import redirect

from accounts.selectors import needs_second_factor

# Pages a government user may reach before enrolling a second factor: the enrolment itself,
# logout and static files. Everything else in the portal holds confidential material.
ALLOWED_PREFIXES = ("/accounts/", "/static/")
# The health probes answer without a session: checked before request.user is, whose lookup
# would load the session from the database.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


class RequireSecondFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path in PROBE_PATHS:
            return self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(ALLOWED_PREFIXES)
            and needs_second_factor(user)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    {"detail": "Set up two-factor authentication before using the portal."},
                    status=403,
                )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
