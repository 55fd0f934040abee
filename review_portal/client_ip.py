"""The client's address, for rate limits and throttles, as far as the portal's own proxies vouch
for it.

TRUSTED_PROXY_COUNT says how many proxies in front of the portal are ours (0 by default: the
portal is reached directly and REMOTE_ADDR is the client; X-Forwarded-For is ignored, since
anyone can send one). With N > 0, the Nth address from the right of X-Forwarded-For is the
client: each of our proxies appends the address it saw, so the addresses to its left are the
client's to invent. TRUSTED_CLIENT_IP_HEADER names a header a trusted proxy sets to the client's
address instead (X-Real-IP, CF-Connecting-IP). allauth's login limits use the same answer
(accounts.adapters).
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _clean(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    if value.startswith("[") and "]" in value:  # [v6]:port
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # v4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client's address; REMOTE_ADDR whenever the trusted headers say nothing usable."""
    remote = _clean(request.META.get("REMOTE_ADDR")) or "0.0.0.0"  # noqa: S104 - a key only
    header = getattr(settings, "TRUSTED_CLIENT_IP_HEADER", "")
    if header:
        return _clean(request.headers.get(header)) or remote
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")
            if hop.strip()]
    if not hops:
        return remote
    # Fewer hops than proxies: the request skipped an outer proxy; the furthest address one of
    # ours recorded is the client.
    return _clean(hops[-count] if len(hops) >= count else hops[0]) or remote
