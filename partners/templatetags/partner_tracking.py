from django import template

from partners.tracking import calendar_feed_active

register = template.Library()


@register.simple_tag
def calendar_feed_of(user):
    """The user's live calendar feed (its hint and date; the URL itself is shown once)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return calendar_feed_active(user=user)
