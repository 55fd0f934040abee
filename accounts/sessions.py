"""Session lifetimes per role.

Government users (agency reviewers, program admins) sign in with a second factor (NIST SP
800-63B AAL2), and AAL2 asks for a new sign-in at least every 12 hours whatever the activity and
after 30 minutes of inactivity (OMB M-22-09 points agencies to it). Their sessions therefore end
GOVERNMENT_SESSION_MAX_AGE after sign-in (8 h by default, at most 12 h) and after
GOVERNMENT_SESSION_IDLE_TIMEOUT without a request (30 min by default, at most 30 min).

Developers and partners keep SESSION_COOKIE_AGE (14 days by default, at most 30, AAL1's bound):
they sign in with a password alone and use the portal now and then over a review.

The absolute end is fixed at sign-in (an absolute expiry date on the session, which the session
store enforces); the idle timeout is checked here on every request. The time of the last request
is written at most once a minute, so a busy user does not cost a session write per request.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

from accounts.policy import is_government

# Session keys: when this sign-in ends (ISO), and when the user was last seen (ISO).
ENDS_KEY = "portal_session_ends"
SEEN_KEY = "portal_last_seen"
SEEN_RESOLUTION = timedelta(seconds=60)
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


def government_max_age() -> timedelta:
    return timedelta(seconds=settings.GOVERNMENT_SESSION_MAX_AGE)


def government_idle_timeout() -> timedelta:
    return timedelta(seconds=settings.GOVERNMENT_SESSION_IDLE_TIMEOUT)


@receiver(user_logged_in, dispatch_uid="accounts.sessions.start")
def start_session(sender, request, user, **kwargs) -> None:
    """A government sign-in ends at a fixed time; every other one keeps SESSION_COOKIE_AGE."""
    if request is None or not hasattr(request, "session"):
        return
    now = timezone.now()
    if is_government(user):
        ends = now + government_max_age()
        request.session.set_expiry(ends)
        request.session[ENDS_KEY] = ends.isoformat()
        request.session[SEEN_KEY] = now.isoformat()
    else:
        request.session.set_expiry(None)  # SESSION_COOKIE_AGE
        request.session.pop(ENDS_KEY, None)
        request.session.pop(SEEN_KEY, None)


def _parse(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


class SessionLifetimeMiddleware:
    """Ends a government user's session when it is idle too long or past its absolute end (the
    latter is enforced by the session store too; checking it here also covers a session that
    began before its user became a government user, or before this policy)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path not in PROBE_PATHS:
            self._check(request)
        return self.get_response(request)

    def _check(self, request) -> None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not is_government(user):
            return
        now = timezone.now()
        session = request.session
        ends, seen = _parse(session.get(ENDS_KEY)), _parse(session.get(SEEN_KEY))
        if ends is None or seen is None or ends > now + government_max_age():
            reason = "Please sign in again."  # a session without this policy's limits
        elif now >= ends:
            reason = "Your session ended; please sign in again."
        elif now - seen >= government_idle_timeout():
            minutes = settings.GOVERNMENT_SESSION_IDLE_TIMEOUT // 60
            reason = f"You were signed out after {minutes} minutes without activity."
        else:
            if now - seen >= SEEN_RESOLUTION:
                session[SEEN_KEY] = now.isoformat()
            return
        logout(request)
        messages.info(request, reason)
