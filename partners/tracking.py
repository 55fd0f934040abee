"""Tracking every access window, government and partner: selectors for the admin page, the API
overview and the iCalendar feed, the feed's services, and government-token introspection.

States are computed here, on the server, from the clock: a window is never "active" because a
job forgot to end it. Every list runs a fixed number of queries (two row queries, one per kind,
plus the role checks of the selectors), whatever the number of windows.
"""

import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, User
from accounts.selectors import needs_second_factor
from audit.services import audit_record
from partners import selectors
from partners.models import AccessGrant, CalendarFeed, PartnerProfile
from review_portal.errors import ApplicationError
from submissions.models import AccessWindow, FrontierModel
from submissions.selectors import models_visible_to, windows_visible_to

ENDING_SOON = timedelta(days=3)
GOVERNMENT, PARTNER = "government", "partner"
# Dates the overview filters accept. No window predates the program, and the ends of Python's
# calendar (9999-12-31 plus a day, 0001-01-01 west of UTC) cannot become moments at all: a date
# outside this range is the caller's mistake (400), never an OverflowError (500).
FILTER_DATE_MIN, FILTER_DATE_MAX = date(2000, 1, 1), date(2999, 12, 31)
FILTER_DATE_ERROR = (f"Enter a date between {FILTER_DATE_MIN:%Y-%m-%d} and "
                     f"{FILTER_DATE_MAX:%Y-%m-%d}.")


class State:
    SCHEDULED = "scheduled"
    ACTIVE = "active"
    ENDING_SOON = "ending_soon"
    ENDED = "ended"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    FLAGGED = "flagged"
    SUSPENDED = "suspended"

    LABELS = {
        SCHEDULED: "Scheduled", ACTIVE: "Active", ENDING_SOON: "Ending within 3 days",
        ENDED: "Ended", REVOKED: "Revoked", CANCELLED: "Cancelled", FLAGGED: "Flagged",
        SUSPENDED: "Partner suspended",
    }
    # Colour-blind-safe palette (Okabe-Ito), used by the timeline and its legend.
    COLOURS = {
        SCHEDULED: "#56B4E9", ACTIVE: "#009E73", ENDING_SOON: "#E69F00", ENDED: "#999999",
        REVOKED: "#D55E00", CANCELLED: "#BBBBBB", FLAGGED: "#CC79A7", SUSPENDED: "#F0E442",
    }


@dataclass(frozen=True)
class TrackedWindow:
    kind: str  # GOVERNMENT or PARTNER
    pk: int
    model_id: int
    model_label: str
    developer_id: int
    developer: str
    holder_id: int | None  # the partner organisation, or the government token's holder
    holder: str
    starts_at: datetime
    ends_at: datetime
    state: str
    note: str  # flag or revocation reason; shown to admins and the developer only

    @property
    def state_label(self) -> str:
        return State.LABELS[self.state]

    @property
    def colour(self) -> str:
        return State.COLOURS[self.state]

    @property
    def uid(self) -> str:
        return f"{self.kind}-window-{self.pk}@frontier-review-portal"


def _clock_state(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    if ends_at <= now:
        return State.ENDED
    if starts_at > now:
        return State.SCHEDULED
    return State.ENDING_SOON if ends_at - now <= ENDING_SOON else State.ACTIVE


def government_window_state(window: AccessWindow, now: datetime) -> str:
    if window.status == AccessWindow.Status.CANCELLED:
        return State.CANCELLED
    state = _clock_state(window.starts_at, window.ends_at, now)
    # A flag matters while the window can still run; an ended window is history.
    if window.flag_reason and state != State.ENDED:
        return State.FLAGGED
    return state


def grant_state(grant: AccessGrant, now: datetime) -> str:
    if grant.revoked_at is not None:
        return State.REVOKED
    state = _clock_state(grant.starts_at, grant.ends_at, now)
    profile = getattr(grant.organisation, "partner_profile", None)
    if state != State.ENDED and (profile is None
                                 or profile.status != PartnerProfile.Status.VETTED):
        return State.SUSPENDED
    return state


def _from_window(window: AccessWindow, now: datetime) -> TrackedWindow:
    holder = window.token_organisation
    return TrackedWindow(
        kind=GOVERNMENT, pk=window.pk, model_id=window.model_id, model_label=str(window.model),
        developer_id=window.model.organisation_id, developer=window.model.organisation.name,
        holder_id=holder.pk if holder else None,
        holder=holder.name if holder else "Government", starts_at=window.starts_at,
        ends_at=window.ends_at, state=government_window_state(window, now),
        note=window.flag_reason)


def _from_grant(grant: AccessGrant, now: datetime) -> TrackedWindow:
    return TrackedWindow(
        kind=PARTNER, pk=grant.pk, model_id=grant.model_id, model_label=str(grant.model),
        developer_id=grant.model.organisation_id, developer=grant.model.organisation.name,
        holder_id=grant.organisation_id, holder=grant.organisation.name,
        starts_at=grant.starts_at, ends_at=grant.ends_at, state=grant_state(grant, now),
        note=grant.revoke_reason)


def _rows(windows, grants) -> list[TrackedWindow]:
    now = timezone.now()
    windows = windows.select_related("model", "model__organisation", "token_organisation")
    grants = grants.select_related("model", "model__organisation", "organisation",
                                   "organisation__partner_profile")
    rows = [_from_window(w, now) for w in windows] + [_from_grant(g, now) for g in grants]
    rows.sort(key=lambda r: (r.model_label, r.model_id, r.starts_at, r.kind, r.pk))
    return rows


# --- the admin tracking page and the API overview -------------------------------------------

def can_track(user) -> bool:
    return policy.may_track_windows(user)


def filter_date_check(*, field: str, value: date | None) -> None:
    if value is not None and not FILTER_DATE_MIN <= value <= FILTER_DATE_MAX:
        raise ApplicationError(f"{field}: {FILTER_DATE_ERROR}", field=field)


def windows_overview(*, user, model_id: int | None = None, organisation_id: int | None = None,
                     date_from: date | None = None, date_to: date | None = None,
                     state: str | None = None) -> list[TrackedWindow]:
    """Every window the user may track: program admins all, a developer those of its own
    models (through the same selectors as the window and grant lists); anyone else 404.
    Dates outside FILTER_DATE_MIN..FILTER_DATE_MAX raise ApplicationError (400)."""
    if not can_track(user):
        raise Http404
    filter_date_check(field="date_from", value=date_from)
    filter_date_check(field="date_to", value=date_to)
    windows, grants = windows_visible_to(user), selectors.grants_visible_to(user)
    if model_id is not None:
        windows, grants = windows.filter(model_id=model_id), grants.filter(model_id=model_id)
    if organisation_id is not None:
        windows = windows.filter(Q(model__organisation_id=organisation_id)
                                 | Q(token_organisation_id=organisation_id))
        grants = grants.filter(Q(model__organisation_id=organisation_id)
                               | Q(organisation_id=organisation_id))
    tz = timezone.get_current_timezone()
    if date_from is not None:
        start = datetime.combine(date_from, time.min, tzinfo=tz)
        windows, grants = windows.filter(ends_at__gt=start), grants.filter(ends_at__gt=start)
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=tz)
        windows, grants = windows.filter(starts_at__lt=end), grants.filter(starts_at__lt=end)
    rows = _rows(windows, grants)
    if state:
        rows = [r for r in rows if r.state == state]
    return rows


def tracking_filter_choices(*, user) -> tuple[list[FrontierModel], list[Organisation]]:
    """The models and organisations the filters offer (two queries)."""
    if not can_track(user):
        raise Http404
    models = list(models_visible_to(user).order_by("name", "version"))
    organisations = Organisation.objects.filter(
        kind__in=[Organisation.Kind.AI_DEVELOPER, Organisation.Kind.PARTNER])
    if policy.is_developer(user):
        own = policy.organisation_id_of(user)
        organisations = organisations.filter(
            Q(pk=own) | Q(access_grants__model__organisation_id=own)).distinct()
    return models, list(organisations.order_by("name"))


@dataclass(frozen=True)
class Bar:
    row: TrackedWindow
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class Timeline:
    model_label: str
    height: int
    bars: list[Bar]
    now_x: float | None
    starts: datetime
    ends: datetime


# Timeline geometry in SVG user units (the SVG scales to the page width).
LABEL_W, CHART_W, ROW_H, TOP = 240, 760, 22, 20


def timelines(rows: list[TrackedWindow]) -> list[Timeline]:
    """One timeline per model, one row per window on a shared time axis per model, so that
    overlaps and gaps between the government window and partner windows show at a glance."""
    now = timezone.now()
    by_model: OrderedDict[int, list[TrackedWindow]] = OrderedDict()
    for row in rows:
        by_model.setdefault(row.model_id, []).append(row)
    result = []
    for model_rows in by_model.values():
        lo = min(r.starts_at for r in model_rows)
        hi = max(r.ends_at for r in model_rows)
        span = (hi - lo).total_seconds() or 1.0

        def x_of(moment: datetime, lo=lo, span=span) -> float:
            return round(LABEL_W + CHART_W * (moment - lo).total_seconds() / span, 1)

        bars = [Bar(row=r, x=x_of(r.starts_at), y=TOP + i * ROW_H,
                    width=max(round(x_of(r.ends_at) - x_of(r.starts_at), 1), 2.0))
                for i, r in enumerate(model_rows)]
        result.append(Timeline(model_label=model_rows[0].model_label,
                               height=TOP + len(model_rows) * ROW_H + 4, bars=bars,
                               now_x=x_of(now) if lo <= now <= hi else None, starts=lo,
                               ends=hi))
    return result


# --- the iCalendar feed ---------------------------------------------------------------------

def windows_for_calendar(*, user) -> list[TrackedWindow]:
    """The windows the user may see right now: admins all, developers their models', reviewers
    those of models of requests assigned to them, partners their own live or future grants."""
    if policy.may_track_windows(user):
        return windows_overview(user=user)
    if policy.is_agency_reviewer(user):
        # Assigned reviewers hold the view permission on the model as users.
        models = models_visible_to(user).values("pk")
        return _rows(windows_visible_to(user), AccessGrant.objects.filter(model__in=models))
    if policy.is_partner(user):
        grants = AccessGrant.objects.filter(
            organisation_id=policy.organisation_id_of(user), revoked_at__isnull=True,
            ends_at__gt=timezone.now(),
            organisation__partner_profile__status=PartnerProfile.Status.VETTED)
        return _rows(AccessWindow.objects.none(), grants)
    return []


def ical_escape(text: str) -> str:
    """RFC 5545 3.3.11 TEXT escaping."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def ical_fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued after CRLF and one space, never
    splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        limit = 75 if not out else 74  # continuation lines start with a space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def _ical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def calendar_render(rows: list[TrackedWindow]) -> str:
    """A VCALENDAR with one VEVENT per window. Reasons (flags, revocations) stay out: a feed
    URL ends up in calendar apps and their sync services."""
    stamp = _ical_time(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Frontier Review Portal//Windows//EN",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", "X-WR-CALNAME:Access windows"]
    for row in rows:
        what = "Government window" if row.kind == GOVERNMENT else f"Partner window ({row.holder})"
        cancelled = row.state in (State.CANCELLED, State.REVOKED)
        lines += [
            "BEGIN:VEVENT", f"UID:{row.uid}", f"DTSTAMP:{stamp}",
            f"DTSTART:{_ical_time(row.starts_at)}", f"DTEND:{_ical_time(row.ends_at)}",
            "SUMMARY:" + ical_escape(f"{what}: {row.model_label}"),
            "DESCRIPTION:" + ical_escape(f"{what} on {row.model_label} ({row.developer}).\n"
                                         f"State: {row.state_label}."),
            f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
            "TRANSP:TRANSPARENT", "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(ical_fold(line) + "\r\n" for line in lines)


def calendar_feed_active(*, user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


@transaction.atomic
def calendar_feed_create(*, user: User) -> tuple[CalendarFeed, str]:
    """A new secret feed URL for the user; any earlier one stops working. The token is
    returned once; only its SHA-256 is stored."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    User.objects.select_for_update().get(pk=user.pk)  # one live feed even under double submit
    for feed in CalendarFeed.objects.filter(user=user, revoked_at__isnull=True):
        _calendar_feed_revoke(feed=feed, actor=user)
    token = CalendarFeed.TOKEN_PREFIX + secrets.token_urlsafe(32)
    feed = CalendarFeed(user=user, token_hash=CalendarFeed.hash_token(token),
                        token_hint=token[:10])
    feed.full_clean()
    feed.save()
    audit_record(actor=user, action="calendar_feed.created", obj=feed,
                 data={"hint": feed.token_hint})
    return feed, token


def _calendar_feed_revoke(*, feed: CalendarFeed, actor: User) -> None:
    feed.revoked_at = timezone.now()
    feed.save(update_fields=["revoked_at"])
    audit_record(actor=actor, action="calendar_feed.revoked", obj=feed,
                 data={"hint": feed.token_hint})


@transaction.atomic
def calendar_feed_revoke(*, user: User) -> CalendarFeed | None:
    """Revoke the user's live feed URL (the user's own only)."""
    feed = CalendarFeed.objects.select_for_update().filter(
        user=user, revoked_at__isnull=True).first()
    if feed is not None:
        _calendar_feed_revoke(feed=feed, actor=user)
    return feed


def calendar_feed_user(*, token: str) -> User:
    """The user behind a live feed token; 404 for a revoked or unknown token, an inactive
    user, or a government user without a second factor."""
    feed = (CalendarFeed.objects.select_related("user", "user__membership")
            .filter(token_hash=CalendarFeed.hash_token(token), revoked_at__isnull=True,
                    user__is_active=True).first())
    if feed is None or needs_second_factor(feed.user):
        raise Http404
    return feed.user


# --- government window tokens ---------------------------------------------------------------

def window_token_introspect(*, token: str, caller) -> dict:
    """RFC 7662-style answer for a government window's token, in one query. Active only while
    the window is scheduled and now is inside it; for any developer but the model's own, the
    same answer as an unknown token."""
    inactive = {"active": False}
    if not token or not policy.is_developer(caller):
        return inactive
    window = (AccessWindow.objects.filter(token_hash=AccessWindow.hash_token(token))
              .select_related("model", "token_organisation").first())
    if window is None or not policy.is_developer_of(caller, window.model):
        return inactive
    now = timezone.now()
    if (window.status != AccessWindow.Status.SCHEDULED
            or not window.starts_at <= now < window.ends_at):
        return inactive
    return {"active": True, "model": window.model_id,
            "organisation": window.token_organisation.name,
            "exp": int(window.ends_at.timestamp())}
