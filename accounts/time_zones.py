"""Time zones: the ones a user may choose (IANA names with a region, and UTC), and the zone a
user's pages are shown in. The portal stores and the API speaks UTC; pages show each time in the
user's own zone (a profile setting) with UTC beside it (review_portal/templatetags/portal_time),
and forms that take a time start in that zone."""

import zoneinfo
from functools import lru_cache

UTC_NAME = "UTC"


@lru_cache(maxsize=1)
def choices() -> list[tuple[str, str]]:
    return [(tz, tz.replace("_", " ")) for tz in sorted(zoneinfo.available_timezones())
            if "/" in tz and not tz.startswith(("Etc/", "SystemV/", "posix/", "right/"))
            or tz == UTC_NAME]


@lru_cache(maxsize=1)
def names() -> frozenset[str]:
    return frozenset(name for name, _ in choices())


@lru_cache(maxsize=64)
def zone(name: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(name)


def zone_name_of(user) -> str:
    """The user's chosen zone, UTC when none was chosen (or it is no longer known)."""
    name = getattr(user, "time_zone", "") or UTC_NAME
    return name if name in names() else UTC_NAME
