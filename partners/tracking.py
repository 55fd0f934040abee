"""Tracking every access window, government and partner: selectors for the admin page, the API
overview and the iCalendar feed, the feed's services, and government-token introspection.

States are computed here, on the server, from the clock: a window is never "active" because a
job forgot to end it. Every list runs a fixed number of queries whatever the number of windows:
lists are pages of a date range (default the coming 90 days), feeds cover a horizon.
"""

import base64
import binascii
import gzip
import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Exists, IntegerField, Max, OuterRef, Q, Value
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, User
from accounts.selectors import needs_second_factor
from audit.services import audit_record
from partners import selectors
from partners.models import AccessGrant, CalendarFeed, PartnerProfile
from review_portal.errors import ApplicationError
from review_portal.ids import MAX_ID
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
    # A mark per state over its colour (an SVG path in an 8 x 8 tile), so that no state is told
    # apart by colour alone: the timeline's bars and the legend's swatches use the same patterns.
    MARKS = {
        SCHEDULED: "M1.5 2.5h1M5.5 6.5h1", ACTIVE: "",
        ENDING_SOON: "M-2 2L2-2M0 8L8 0M6 10L10 6", ENDED: "M0 4H8",
        REVOKED: "M0 0L8 8M8 0L0 8", CANCELLED: "M0 0L8 8M-2 6L2 10M6-2L10 2",
        FLAGGED: "M4 0V8", SUSPENDED: "M0 4H8M4 0V8",
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
    request_id: int | None = None  # a partner grant's access request (its page)

    @property
    def state_label(self) -> str:
        return State.LABELS[self.state]

    @property
    def colour(self) -> str:
        return State.COLOURS[self.state]

    @property
    def url(self) -> str:
        """Where the window's bar and row lead: the model's page (its government window) or
        the access request a partner grant came from."""
        if self.kind == PARTNER and self.request_id:
            return reverse("access_request_detail", args=[self.request_id])
        return reverse("model_detail", args=[self.model_id]) + "#windows"

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
        note=grant.revoke_reason, request_id=grant.request_id)


def _rows(windows, grants) -> list[TrackedWindow]:
    now = timezone.now()
    windows = windows.select_related("model", "model__organisation", "token_organisation")
    grants = grants.select_related("model", "model__organisation", "organisation",
                                   "organisation__partner_profile")
    rows = [_from_window(w, now) for w in windows] + [_from_grant(g, now) for g in grants]
    rows.sort(key=lambda r: (r.model_label, r.model_id, r.starts_at, r.kind, r.pk))
    return rows


# --- the admin tracking page and the API overview -------------------------------------------
#
# Both show one page of the windows that overlap a date range (default: the coming 90 days),
# ordered on one key over both tables: (starts_at, kind, id), government before partner on a
# tie. One UNION ALL query picks the page's keys (each branch ordered by its (starts_at, id)
# index); two queries load those rows. The page's cost is the page's size, not the table's.

DEFAULT_RANGE_DAYS = 90
PAGE_SIZE = 50  # the HTML page
API_PAGE_SIZE, API_MAX_PAGE_SIZE = 100, 500
# The HTML page counts the windows of the range up to this many, then says "more than" (the
# page passes review_portal/pagination.py's bound: 20 pages of 50).
COUNT_CAP = 1000
MAX_PAGE = 10**9
KIND_RANK = {GOVERNMENT: 0, PARTNER: 1}
RANK_KIND = {rank: kind for kind, rank in KIND_RANK.items()}


def can_track(user) -> bool:
    return policy.may_track_windows(user)


def filter_date_check(*, field: str, value: date | None) -> None:
    if value is not None and not FILTER_DATE_MIN <= value <= FILTER_DATE_MAX:
        raise ApplicationError(f"{field}: {FILTER_DATE_ERROR}", field=field)


@dataclass(frozen=True)
class DateRange:
    """Whole days, both ends included, in the current time zone."""
    date_from: date
    date_to: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to + timedelta(days=1), time.min,
                                tzinfo=timezone.get_current_timezone())

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def date_range_resolve(*, date_from: date | None = None,
                       date_to: date | None = None) -> DateRange:
    """The range a list shows: both dates as given; one missing is the other plus (or minus)
    89 days; none, today and the 89 days after it. ApplicationError (400) for a date outside
    FILTER_DATE_MIN..FILTER_DATE_MAX or an end before the start."""
    filter_date_check(field="date_from", value=date_from)
    filter_date_check(field="date_to", value=date_to)
    span = timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if date_from is None and date_to is None:
        date_from = timezone.localdate()
    if date_to is None:
        date_to = min(date_from + span, FILTER_DATE_MAX)
    elif date_from is None:
        date_from = max(date_to - span, FILTER_DATE_MIN)
    if date_to < date_from:
        raise ApplicationError("date_to: The end of the range is before its start.",
                               field="date_to")
    return DateRange(date_from, date_to)


def _window_state_q(state: str, now: datetime) -> Q:
    """The government windows whose government_window_state() is `state`, as SQL."""
    soon = now + ENDING_SOON
    running = ~Q(status=AccessWindow.Status.CANCELLED)
    clean = running & Q(flag_reason="")
    return {
        State.CANCELLED: Q(status=AccessWindow.Status.CANCELLED),
        State.ENDED: running & Q(ends_at__lte=now),
        State.FLAGGED: running & ~Q(flag_reason="") & Q(ends_at__gt=now),
        State.SCHEDULED: clean & Q(starts_at__gt=now),
        State.ACTIVE: clean & Q(starts_at__lte=now, ends_at__gt=soon),
        State.ENDING_SOON: clean & Q(starts_at__lte=now, ends_at__gt=now, ends_at__lte=soon),
    }.get(state, Q(pk__in=[]))


def _grant_state_q(state: str, now: datetime) -> Q:
    """The grants whose grant_state() is `state`, as SQL."""
    soon = now + ENDING_SOON
    live = Q(revoked_at__isnull=True)
    vetted = Q(organisation__partner_profile__status=PartnerProfile.Status.VETTED)
    return {
        State.REVOKED: Q(revoked_at__isnull=False),
        State.ENDED: live & Q(ends_at__lte=now),
        State.SUSPENDED: live & Q(ends_at__gt=now) & ~vetted,
        State.SCHEDULED: live & vetted & Q(starts_at__gt=now),
        State.ACTIVE: live & vetted & Q(starts_at__lte=now, ends_at__gt=soon),
        State.ENDING_SOON: live & vetted & Q(starts_at__lte=now, ends_at__gt=now,
                                            ends_at__lte=soon),
    }.get(state, Q(pk__in=[]))


def _tracked_querysets(*, user, date_range: DateRange, model_id: int | None = None,
                       organisation_id: int | None = None, state: str | None = None):
    """The windows and grants the user may track that overlap the range (404 for anyone who
    may not track: program admins all, a developer those of its own models)."""
    if not can_track(user):
        raise Http404
    windows, grants = windows_visible_to(user), selectors.grants_visible_to(user)
    if model_id is not None:
        windows, grants = windows.filter(model_id=model_id), grants.filter(model_id=model_id)
    if organisation_id is not None:
        windows = windows.filter(Q(model__organisation_id=organisation_id)
                                 | Q(token_organisation_id=organisation_id))
        grants = grants.filter(Q(model__organisation_id=organisation_id)
                               | Q(organisation_id=organisation_id))
    start, end = date_range.start, date_range.end
    windows = windows.filter(ends_at__gt=start, starts_at__lt=end)
    grants = grants.filter(ends_at__gt=start, starts_at__lt=end)
    if state:
        now = timezone.now()
        windows, grants = (windows.filter(_window_state_q(state, now)),
                           grants.filter(_grant_state_q(state, now)))
    return windows, grants


Key = tuple[datetime, int, int]  # (starts_at, kind rank, id): the order of every list here


def _after_q(rank: int, after: Key) -> Q:
    """Rows of the branch of kind `rank` that come after `after` in (starts_at, rank, id)."""
    starts_at, after_rank, pk = after
    if rank > after_rank:
        return Q(starts_at__gte=starts_at)
    if rank == after_rank:
        return Q(starts_at__gt=starts_at) | Q(starts_at=starts_at, pk__gt=pk)
    return Q(starts_at__gt=starts_at)


def _keys_union(windows, grants, after: Key | None = None):
    if after is not None:
        windows = windows.filter(_after_q(KIND_RANK[GOVERNMENT], after))
        grants = grants.filter(_after_q(KIND_RANK[PARTNER], after))
    rank = {kind: Value(KIND_RANK[kind], output_field=IntegerField()) for kind in KIND_RANK}
    w = (windows.order_by().annotate(rank=rank[GOVERNMENT])
         .values_list("starts_at", "rank", "pk"))
    g = grants.order_by().annotate(rank=rank[PARTNER]).values_list("starts_at", "rank", "pk")
    return w.union(g, all=True).order_by("starts_at", "rank", "pk")


def _load(keys: list[Key]) -> list[TrackedWindow]:
    """The rows of these keys, in their order: one query per kind, even for a kind absent from
    the page (an id that no row has), so that a page's query count never depends on its data
    and can be pinned."""
    now = timezone.now()
    ids = {kind: [pk for _, rank, pk in keys if rank == KIND_RANK[kind]] or [0]
           for kind in KIND_RANK}
    found = {}
    for w in AccessWindow.objects.filter(pk__in=ids[GOVERNMENT]).select_related(
            "model", "model__organisation", "token_organisation"):
        found[GOVERNMENT, w.pk] = _from_window(w, now)
    for g in AccessGrant.objects.filter(pk__in=ids[PARTNER]).select_related(
            "model", "model__organisation", "organisation", "organisation__partner_profile"):
        found[PARTNER, g.pk] = _from_grant(g, now)
    return [found[RANK_KIND[rank], pk] for _, rank, pk in keys]


@dataclass(frozen=True)
class WindowPage:
    rows: list[TrackedWindow]
    date_range: DateRange
    number: int
    size: int
    count: int  # at most count_cap + 1
    count_cap: int
    has_next: bool

    @property
    def count_capped(self) -> bool:
        return self.count > self.count_cap

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def num_pages(self) -> int | None:
        return None if self.count_capped else max(1, -(-self.count // self.size))

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1

    @property
    def last_index(self) -> int:
        return self.first_index + len(self.rows) - 1


def windows_page(*, user, date_from: date | None = None, date_to: date | None = None,
                 page: int = 1, size: int = PAGE_SIZE, model_id: int | None = None,
                 organisation_id: int | None = None, state: str | None = None,
                 count_cap: int | None = None) -> WindowPage:
    """Page `page` of the windows the user may track that overlap the range, with a count of
    them bounded at `count_cap` (default COUNT_CAP): 4 queries plus the role checks, whatever
    the number of windows. 404 for anyone who may not track; ApplicationError (400) for a bad
    range."""
    count_cap = COUNT_CAP if count_cap is None else count_cap
    if not can_track(user):
        raise Http404
    date_range = date_range_resolve(date_from=date_from, date_to=date_to)
    if not 1 <= page <= MAX_PAGE:
        raise ApplicationError(f"page: Enter a page between 1 and {MAX_PAGE}.", field="page")
    windows, grants = _tracked_querysets(
        user=user, date_range=date_range, model_id=model_id, organisation_id=organisation_id,
        state=state)
    union = _keys_union(windows, grants)
    offset = (page - 1) * size
    keys = list(union[offset:offset + size + 1])
    count = _keys_union(windows, grants)[:count_cap + 1].count()
    return WindowPage(rows=_load(keys[:size]), date_range=date_range, number=page, size=size,
                      count=max(count, min(offset + len(keys), count_cap + 1)),
                      count_cap=count_cap, has_next=len(keys) > size)


@dataclass(frozen=True)
class CursorPage:
    rows: list[TrackedWindow]
    date_range: DateRange
    next_cursor: str | None


def cursor_encode(key: Key) -> str:
    starts_at, rank, pk = key
    raw = json.dumps([starts_at.astimezone(UTC).isoformat(), rank, pk], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(cursor: str) -> Key:
    """The key a cursor carries; ApplicationError (400) for anything this module did not
    write."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        starts_at, rank, pk = json.loads(raw)
        moment = datetime.fromisoformat(starts_at)
        # The date check keeps a moment the database cannot store (year 1 east of UTC) out.
        if (moment.tzinfo is None or rank not in RANK_KIND or type(pk) is not int
                or not 0 < pk <= MAX_ID
                or not FILTER_DATE_MIN <= moment.date() <= FILTER_DATE_MAX):
            raise ValueError(cursor)
    except (ValueError, TypeError, UnicodeDecodeError, binascii.Error):
        raise ApplicationError("cursor: Not a cursor this list gave out.",
                               field="cursor") from None
    return moment, rank, pk


def windows_overview(*, user, date_from: date | None = None, date_to: date | None = None,
                     cursor: str | None = None, size: int = API_PAGE_SIZE,
                     model_id: int | None = None, organisation_id: int | None = None,
                     state: str | None = None) -> CursorPage:
    """The API's page: the windows after `cursor` in (starts_at, kind, id) order, `size` of
    them (1..API_MAX_PAGE_SIZE), and the cursor of the next page (None on the last). Three
    queries plus the role checks, whatever the number of windows or the page's depth: a
    cursor seeks on the (starts_at, id) indexes, it never skips rows. 404 for anyone who may
    not track; ApplicationError (400) for a bad range, size or cursor."""
    if not can_track(user):
        raise Http404
    date_range = date_range_resolve(date_from=date_from, date_to=date_to)
    if not 1 <= size <= API_MAX_PAGE_SIZE:
        raise ApplicationError(f"page_size: Enter a number between 1 and {API_MAX_PAGE_SIZE}.",
                               field="page_size")
    after = cursor_decode(cursor) if cursor else None
    windows, grants = _tracked_querysets(
        user=user, date_range=date_range, model_id=model_id, organisation_id=organisation_id,
        state=state)
    keys = list(_keys_union(windows, grants, after)[:size + 1])
    next_cursor = cursor_encode(keys[size - 1]) if len(keys) > size else None
    return CursorPage(rows=_load(keys[:size]), date_range=date_range, next_cursor=next_cursor)


def tracking_filter_choices(*, user) -> tuple[list[FrontierModel], list[Organisation]]:
    """The models and organisations the filters offer (two queries)."""
    if not can_track(user):
        raise Http404
    models = list(models_visible_to(user).order_by("name", "version"))
    organisations = Organisation.objects.filter(
        kind__in=[Organisation.Kind.AI_DEVELOPER, Organisation.Kind.PARTNER])
    if policy.is_developer(user):
        own = policy.organisation_id_of(user)
        # EXISTS per organisation (a handful) stops at its first grant; a join with DISTINCT
        # read every grant on the developer's models on every page.
        organisations = organisations.filter(Q(pk=own) | Exists(AccessGrant.objects.filter(
            organisation_id=OuterRef("pk"), model__organisation_id=own)))
    return models, list(organisations.order_by("name"))


@dataclass(frozen=True)
class Bar:
    row: TrackedWindow
    x: float
    y: float
    width: float
    clipped_start: bool  # starts before the range: the bar begins at the axis' left edge
    clipped_end: bool  # ends after the range


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    now_x: float | None
    starts: datetime
    ends: datetime


# Timeline geometry in SVG user units (the SVG scales to the page width).
LABEL_W, CHART_W, ROW_H, TOP = 300, 700, 22, 24


def timeline(rows: list[TrackedWindow], date_range: DateRange) -> Timeline:
    """Every row on one time axis, the range's: a bar per window, clipped to the range, so
    that overlaps and gaps between windows (of any model) show at a glance. Ticks on the first
    of each month (every few months on a long range)."""
    lo, hi = date_range.start, date_range.end
    span = (hi - lo).total_seconds()

    def x_of(moment: datetime) -> float:
        share = min(max((moment - lo).total_seconds() / span, 0.0), 1.0)
        return round(LABEL_W + CHART_W * share, 1)

    bars = []
    for i, r in enumerate(rows):
        x = x_of(r.starts_at)
        bars.append(Bar(row=r, x=x, y=TOP + i * ROW_H, width=max(round(x_of(r.ends_at) - x, 1),
                                                                 2.0),
                        clipped_start=r.starts_at < lo, clipped_end=r.ends_at > hi))
    months = (date_range.date_to.year - date_range.date_from.year) * 12 + (
        date_range.date_to.month - date_range.date_from.month)
    step = max(1, -(-months // 12))  # at most about 12 ticks
    ticks, year, month = [], date_range.date_from.year, date_range.date_from.month
    while True:
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
        if year > date_range.date_to.year or (year == date_range.date_to.year
                                              and month > date_range.date_to.month):
            break
        day = date(year, month, 1)
        moment = datetime.combine(day, time.min, tzinfo=lo.tzinfo)
        ticks.append(Tick(x=x_of(moment), label=f"{day:%Y-%m}" if step < 12 else f"{day:%Y}"))
    now = timezone.now()
    return Timeline(height=TOP + len(rows) * ROW_H + 4, bars=bars, ticks=ticks,
                    now_x=x_of(now) if lo <= now <= hi else None, starts=lo, ends=hi)


# --- the iCalendar feed ---------------------------------------------------------------------
#
# A feed lists the windows that end after now - FEED_PAST and start before now + FEED_FUTURE:
# the recent past and the coming year, not the whole history. Calendar apps poll it; the
# answer carries an ETag and a Last-Modified computed by two aggregate queries (one per kind)
# without rendering anything, and a poll that sends either back gets 304 while nothing the
# feed shows has changed.

FEED_PAST, FEED_FUTURE = timedelta(days=30), timedelta(days=365)


def _calendar_querysets(*, user, now: datetime):
    """The windows and grants the user may see right now, within the feed's horizon: admins
    all, developers their models', reviewers those of models of requests assigned to them,
    partners their own live or future grants."""
    if policy.may_track_windows(user):
        windows, grants = windows_visible_to(user), selectors.grants_visible_to(user)
    elif policy.is_agency_reviewer(user):
        # Assigned reviewers hold the view permission on the model as users.
        models = models_visible_to(user).values("pk")
        windows, grants = windows_visible_to(user), AccessGrant.objects.filter(model__in=models)
    elif policy.is_partner(user):
        windows = AccessWindow.objects.none()
        grants = AccessGrant.objects.filter(
            organisation_id=policy.organisation_id_of(user), revoked_at__isnull=True,
            ends_at__gt=now,
            organisation__partner_profile__status=PartnerProfile.Status.VETTED)
    else:
        return AccessWindow.objects.none(), AccessGrant.objects.none()
    horizon = Q(ends_at__gt=now - FEED_PAST, starts_at__lt=now + FEED_FUTURE)
    return windows.filter(horizon), grants.filter(horizon)


def _calendar_embargoes(*, user, now: datetime):
    """The embargo ends of the cases the user may see (clearinghouse), within the horizon."""
    from clearinghouse.case_selectors import embargoes_for_calendar

    return embargoes_for_calendar(user=user, since=now - FEED_PAST, until=now + FEED_FUTURE)


def windows_for_calendar(*, user) -> list[TrackedWindow]:
    windows, grants = _calendar_querysets(user=user, now=timezone.now())
    return _rows(windows, grants)


def calendar_version(*, user) -> tuple[str, datetime]:
    """(ETag, Last-Modified) of the user's feed, from two aggregate queries. Last-Modified is
    the latest of: a change to a window, its model, a grant's creation or revocation, a
    partner's vetting status, a state the clock moved a window into (start, 3 days before the
    end, end), and the start of the current day (UTC), so that what no timestamp records
    (a renamed organisation) reaches calendars within a day. The ETag adds the number of
    windows of each kind (a window leaving or entering the horizon) and the user's role."""
    now = timezone.now()
    windows, grants = _calendar_querysets(user=user, now=now)
    soon = now + ENDING_SOON

    def clock(prefix: str) -> dict:
        return {f"{prefix}_started": Max("starts_at", filter=Q(starts_at__lte=now)),
                f"{prefix}_ended": Max("ends_at", filter=Q(ends_at__lte=now)),
                f"{prefix}_soon": Max("ends_at", filter=Q(ends_at__lte=soon))}

    w = windows.order_by().aggregate(
        w_count=Count("pk"), w_changed=Max("updated_at"), w_model=Max("model__updated_at"),
        **clock("w"))
    g = grants.order_by().aggregate(
        g_count=Count("pk"), g_created=Max("created_at"), g_revoked=Max("revoked_at"),
        g_model=Max("model__updated_at"),
        g_vetting=Max("organisation__partner_profile__status_changed_at"), **clock("g"))
    e = _calendar_embargoes(user=user, now=now).order_by().aggregate(
        e_count=Count("pk"), e_changed=Max("status_changed_at"))
    day = datetime.combine(now.astimezone(UTC).date(), time.min, tzinfo=UTC)
    moments = [day]
    for values in (w, g, e):
        for key, value in values.items():
            if isinstance(value, datetime):
                moments.append(value - ENDING_SOON if key.endswith("_soon") else value)
    last_modified = min(max(moments), now)
    digest = hashlib.sha256(json.dumps(
        [user.pk, policy.role_of(user), day.isoformat(), w["w_count"], g["g_count"],
         e["e_count"],
         sorted((k, v.isoformat()) for k, v in (w | g | e).items() if isinstance(v, datetime))],
        default=str).encode()).hexdigest()[:32]
    return f'"{digest}"', last_modified


FEED_CACHE_SECONDS = 24 * 3600


def calendar_body(*, user, token: str, etag: str) -> bytes:
    """The rendered feed of this version (ETag) of this feed URL, gzip-compressed: from the
    cache when a client already fetched it, else rendered, compressed and kept for a day. The
    key holds the token's hash (a random, per-URL value) and the ETag, so a change to anything
    the feed shows (or a new day) is a new key, and a revoked URL never reaches this function.
    Kept compressed: a year of windows is megabytes of text and a tenth of that in gzip, which
    is what calendar apps ask for; the view unpacks it for a client that does not."""
    key = f"calendar-feed-gz:{CalendarFeed.hash_token(token)}:{etag.strip(chr(34))}"
    body = cache.get(key)
    if body is None:
        text = calendar_render(windows_for_calendar(user=user),
                               embargoes=list(_calendar_embargoes(user=user,
                                                                  now=timezone.now())))
        body = gzip.compress(text.encode(), compresslevel=6, mtime=0)
        cache.set(key, body, FEED_CACHE_SECONDS)
    return body


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


def calendar_render(rows: list[TrackedWindow], embargoes=()) -> str:
    """A VCALENDAR with one VEVENT per window, and one per embargo end of the user's
    clearinghouse cases (named by the case's reference only). Reasons (flags, revocations) and
    vulnerability details stay out: a feed URL ends up in calendar apps and their sync
    services."""
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
    for e in embargoes:
        lines += [
            "BEGIN:VEVENT", f"UID:embargo-{e.pk}@frontier-review-portal", f"DTSTAMP:{stamp}",
            f"DTSTART:{_ical_time(e.ends_at)}",
            "SUMMARY:" + ical_escape(f"Embargo ends: case {e.case.reference}"),
            "DESCRIPTION:" + ical_escape(
                f"The embargo of case {e.case.reference} ends at "
                f"{e.ends_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC.\n"
                f"State: {e.get_status_display()}."),
            "STATUS:CONFIRMED" if e.status == "active" else "STATUS:TENTATIVE",
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
    """RFC 7662 answer for a government window's token (partners.gateway.window_token_answer):
    active only while the window is scheduled and now is inside it; for any developer but the
    model's own, the same answer as an unknown token."""
    from partners.gateway import window_token_answer

    return window_token_answer(token=token, caller=caller)
