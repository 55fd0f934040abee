"""API throttles, counted in the shared cache (every web process sees the same counts).

- `TokenOrUserRateThrottle`: an authenticated caller, per API token when the request carries
  one (each of a user's scripts has its own budget), else per user (the pages' own calls).
- `ClientAddressRateThrottle`: anonymous callers, per client address as TRUSTED_PROXY_COUNT
  defines it (review_portal.client_ip), never a spoofable X-Forwarded-For.

Each caller's budget is a fixed window of the rate's length ("300/min": 300 calls per minute)
counted by one integer in the cache: a call costs one INCR (DRF's SimpleRateThrottle reads and
rewrites the caller's whole list of call times on every call, a list as long as the rate allows).
A window's key carries its number, so a count never outlives its window whatever the cache does
with timeouts. Windows start at an offset of their own per caller (a hash of the key), so not
every caller's budget renews in the same second. A fixed window lets a caller spend one budget at
the end of a window and the next at the start of the following one: at most twice the rate over
a short span, the usual trade for a counter.

Rates are read when a request is checked, not when the class is defined, so a setting changed
in a test or by an operator's environment applies. A throttled call answers 429 JSON with
Retry-After, the seconds until the caller's window renews (review_portal.api.exception_handler
keeps DRF's header).
"""

import math
import time
import zlib

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from accounts.models import ApiToken
from review_portal.client_ip import client_ip


def parse_rate(rate: str) -> tuple[int, int]:
    """"300/min" -> (300, 60): DRF's rate format (s, m, h, d)."""
    return SimpleRateThrottle.parse_rate(None, rate)


class _CountingRateThrottle(BaseThrottle):
    scope = ""
    cache = cache
    wait_seconds: float | None = None

    def get_cache_key(self, request, view) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        if rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        allowed, duration = parse_rate(rate)
        offset = zlib.crc32(key.encode()) % duration
        window, into = divmod(time.time() - offset, duration)
        window_key = f"throttle:{key}:{int(window)}"
        try:
            count = self.cache.incr(window_key)
        except ValueError:  # the window's first call (or its key was culled)
            if self.cache.add(window_key, 1, timeout=duration + 1):
                count = 1
            else:  # another process started it first
                try:
                    count = self.cache.incr(window_key)
                except ValueError:
                    count = 1
        if count <= allowed:
            return True
        self.wait_seconds = max(1, math.ceil(duration - into))
        return False

    def wait(self) -> float | None:
        return self.wait_seconds


def _is_gateway_client(request) -> bool:
    from partners.models import GatewayClient

    return isinstance(request.auth, GatewayClient)


class GatewayClientRateThrottle(_CountingRateThrottle):
    """A model gateway (a gateway client), per client: it asks once per partner call."""

    scope = "gateway"

    def get_cache_key(self, request, view):
        return f"{self.scope}:client:{request.auth.pk}" if _is_gateway_client(request) else None


class TokenOrUserRateThrottle(_CountingRateThrottle):
    scope = "user"

    def get_cache_key(self, request, view):
        if _is_gateway_client(request):
            return None  # GatewayClientRateThrottle's case
        if not request.user or not request.user.is_authenticated:
            return None  # ClientAddressRateThrottle's case
        if isinstance(request.auth, ApiToken):
            return f"{self.scope}:token:{request.auth.pk}"
        return f"{self.scope}:user:{request.user.pk}"


class ClientAddressRateThrottle(_CountingRateThrottle):
    scope = "anon"

    def get_cache_key(self, request, view):
        if (request.user and request.user.is_authenticated) or _is_gateway_client(request):
            return None
        return f"{self.scope}:ip:{client_ip(request)}"
