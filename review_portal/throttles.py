"""API throttles, counted in the shared cache (every web process sees the same counts).

- `TokenOrUserRateThrottle`: an authenticated caller, per API token when the request carries
  one (each of a user's scripts has its own budget), else per user (the pages' own calls).
- `ClientAddressRateThrottle`: anonymous callers, per client address as TRUSTED_PROXY_COUNT
  defines it (review_portal.client_ip), never a spoofable X-Forwarded-For.

Rates are read when a request is checked, not when the class is defined, so a setting changed
in a test or by an operator's environment applies. A throttled call answers 429 JSON with
Retry-After (review_portal.api.exception_handler keeps DRF's header).
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from review_portal.client_ip import client_ip


class _SettingsRateThrottle(SimpleRateThrottle):
    def __init__(self):  # the rate is looked up per request, in allow_request
        pass

    def allow_request(self, request, view):
        self.rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class TokenOrUserRateThrottle(_SettingsRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return None  # ClientAddressRateThrottle's case
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        else:
            ident = f"user:{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ClientAddressRateThrottle(_SettingsRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"ip:{client_ip(request)}"}
