"""Times shown in the current time zone with UTC beside (Django's current zone for now; a
user's own zone once the profile has one)."""

import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

FORMAT = "%Y-%m-%d %H:%M"


@register.filter
def zoned(moment):
    """`2026-12-04 09:00 CST (2026-12-04 15:00 UTC)` in a <time> element; UTC alone when the
    current zone is UTC."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    utc = moment.astimezone(datetime.UTC)
    shown = f"{local:{FORMAT}} {local.tzname()}"
    if local.utcoffset() == utc.utcoffset() and local.tzname() == "UTC":
        return format_html('<time datetime="{}">{}</time>', utc.isoformat(), shown)
    return format_html('<time datetime="{}">{}</time> <span class="muted">({} UTC)</span>',
                       utc.isoformat(), shown, f"{utc:{FORMAT}}")
