"""Windows in every state, for the tracking page, the API overview and the feed. Dates are
moved with update(): the services refuse past starts, so the clock is simulated."""

from datetime import timedelta

from django.utils import timezone

from partners.models import AccessGrant, AccessRequest
from submissions.models import AccessWindow
from tests.partners.conftest import make_live_grant


def extra_grant(pw, *, organisation=None, start_days: float, end_days: float,
                revoked: bool = False) -> AccessGrant:
    """Another grant row of `pw.grant`'s kind, with its own request (test data only)."""
    base = pw.grant
    now = timezone.now()
    request = AccessRequest.objects.create(
        model=base.model, organisation=organisation or base.organisation,
        requested_by=base.request.requested_by, starts_at=now + timedelta(days=start_days),
        ends_at=now + timedelta(days=end_days), justification="x",
        status=AccessRequest.Status.GRANTED)
    return AccessGrant.objects.create(
        request=request, model=base.model, organisation=request.organisation,
        terms_acceptance=base.terms_acceptance, starts_at=request.starts_at,
        ends_at=request.ends_at, revoked_at=now if revoked else None,
        revoke_reason="Misuse." if revoked else "")


def government_window(model, actor, *, start_days: float, end_days: float,
                      status=AccessWindow.Status.SCHEDULED, flag: str = "") -> AccessWindow:
    now = timezone.now()
    return AccessWindow.objects.create(
        model=model, starts_at=now + timedelta(days=start_days),
        ends_at=now + timedelta(days=end_days), status=status, flag_reason=flag,
        created_by=actor)


def with_grant(pw):
    """`pw` with a live grant of the partner (active, 5 days left)."""
    pw.grant = make_live_grant(pw)
    return pw


def build_tracked(pw):
    """The government window on `model` (scheduled), grants on it in every state, and a
    cancelled and a flagged government window on the outsider's model."""
    with_grant(pw)  # active, 5 days left
    w = pw.w
    pw.ending = extra_grant(pw, start_days=-10, end_days=2)
    pw.ended = extra_grant(pw, start_days=-20, end_days=-1)
    pw.revoked = extra_grant(pw, start_days=-1, end_days=10, revoked=True)
    pw.future = extra_grant(pw, organisation=pw.other_profile.organisation, start_days=20,
                            end_days=30)
    pw.cancelled = government_window(w.other_model, w.outsider, start_days=-5, end_days=5,
                                     status=AccessWindow.Status.CANCELLED)
    pw.flagged = government_window(w.other_model, w.outsider, start_days=-5, end_days=5,
                                   flag="It ends after the partner release.")
    return pw
