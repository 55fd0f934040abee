"""`{{ moment|when }}`: a time as the user reads it, in their own zone (accounts/time_zones.py,
activated per request by accounts.middleware.UserTimeZoneMiddleware) with UTC beside it when the
two differ, inside a <time> element carrying the exact instant:

    <time datetime="2026-12-01T14:00:00Z">2026-12-01 09:00 EST (14:00 UTC)</time>

ISO 8601 dates (year-month-day) on every page, as in the API and the exports: partners read the
portal across the world, and 03/04 means two different days to them. `when:"seconds"` adds the
seconds; `when:"date"` shows the day only (in the user's zone). Nothing (None, "") gives "", so
`|when|default:"never"` works. A builtin (settings TEMPLATES), no {% load %} needed."""

from datetime import UTC, date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html, strip_tags

register = template.Library()


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@register.filter
def when(value, style: str = ""):
    if value in (None, ""):
        return ""
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        local = timezone.localtime(value)
        if style == "date":
            return format_html('<time datetime="{}">{}</time>', _iso_z(value),
                               f"{local:%Y-%m-%d}")
        clock = "%H:%M:%S" if style == "seconds" else "%H:%M"
        text = f"{local:%Y-%m-%d} {local.strftime(clock)} {local.tzname()}"
        utc = value.astimezone(UTC)
        if local.tzname() != "UTC":
            day = "" if utc.date() == local.date() else f"{utc:%Y-%m-%d} "
            text += f" ({day}{utc.strftime(clock)} UTC)"
        return format_html('<time datetime="{}">{}</time>', _iso_z(value), text)
    if isinstance(value, date):
        return format_html('<time datetime="{}">{}</time>', value.isoformat(),
                           value.isoformat())
    return value


@register.filter
def when_text(value, style: str = ""):
    """`when` as plain text, for where markup cannot go (an SVG <title>, an attribute)."""
    return strip_tags(when(value, style))


@register.simple_tag
def current_zone() -> str:
    """The zone this page shows times in, e.g. "America/Chicago" (or "UTC")."""
    return timezone.get_current_timezone_name()
