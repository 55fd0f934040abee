"""Coordinator metrics of the clearinghouse (issue 12, part 6): how fast vendors acknowledge and
fix, how fast operators deploy, how many AI-found reports were reproduced and how many exposed
operators were patched by the embargo's end. Selectors only (reads); coordinators only.

Definitions (one value per case, and one over every case of the period):
- time to acknowledge: a confirmed vendor participant's `notified_at` → `acknowledged_at`
  (the median over the case's vendors; overall, over every vendor of every case);
- time to fix: the case's `vendor_aware_at` → `fix_ready_at`, or, when the coordinator did not
  set that state, the first vendor-fix remediation of the case;
- time to deploy: an exposure's `released_at` → its move to patched or mitigated
  (`status_changed_at`; live, confirmed exposures only), the median over the case's exposures;
  and, where the coordinator set it, the case's fix ready → `fix_deployed_at`;
- AI-found reports reproduced: reports with `ai_found` that have a verification whose result is
  "reproduced", over all AI-found reports (of the case; overall, filed in the period);
- operators patched by the embargo's end: distinct operator organisations with a live,
  confirmed exposure to the case, and of those the ones whose every such exposure was patched,
  mitigated or found not affected at or before the embargo's `ends_at`.

Set-based: a fixed number of queries whatever the number of cases, exposures or operators
(medians are SQL aggregates: PERCENTILE_CONT on PostgreSQL, a registered MEDIAN on SQLite).
Nothing here names an operator or what it runs: only counts leave this module.
"""

import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import (
    Aggregate,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import policy
from clearinghouse.models import Case, Participant, Remediation, Report, Verification
from exposures.models import Exposure

XS = Exposure.Status
DEPLOYED = (XS.PATCHED, XS.MITIGATED)
SETTLED_BY_END = (XS.PATCHED, XS.MITIGATED, XS.NOT_AFFECTED)

# The periods the page, the CSV and the API offer: days back from now (None: all time).
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
PERIOD_LABELS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months",
                 "all": "All time"}
DEFAULT_PERIOD = "90"


# --- a median that both databases compute ----------------------------------------------------

class _SqliteMedian:
    """sqlite3 aggregate: the median of the non-null values (durations arrive as microseconds)."""

    def __init__(self):
        self.values = []

    def step(self, value):
        if value is not None:
            self.values.append(value)

    def finalize(self):
        return statistics.median(self.values) if self.values else None


class Median(Aggregate):
    function = "MEDIAN"
    name = "Median"
    template = "%(function)s(%(expressions)s)"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection,
                           template="PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY %(expressions)s)",
                           **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        connection.ensure_connection()
        connection.connection.create_aggregate("MEDIAN", 1, _SqliteMedian)
        return self.as_sql(compiler, connection, **extra_context)


def _between(start: str, end: str) -> ExpressionWrapper:
    return ExpressionWrapper(F(end) - F(start), output_field=DurationField())


def _duration(value) -> timedelta | None:
    """SQLite hands a median of durations back as microseconds (a float) in some versions."""
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))


# --- results ---------------------------------------------------------------------------------

@dataclass
class CaseMetrics:
    case_id: int
    reference: str
    created_at: datetime
    vendors_notified: int = 0
    vendors_acknowledged: int = 0
    acknowledge_median: timedelta | None = None
    fix_ready_at: datetime | None = None
    time_to_fix: timedelta | None = None
    exposures: int = 0
    exposures_deployed: int = 0
    deploy_median: timedelta | None = None
    fix_deployed: timedelta | None = None
    ai_reports: int = 0
    ai_reproduced: int = 0
    embargo_ends_at: datetime | None = None
    operators_exposed: int = 0
    operators_patched_by_end: int = 0

    @property
    def ai_reproduced_percent(self) -> int | None:
        return _percent(self.ai_reproduced, self.ai_reports)

    @property
    def operators_patched_percent(self) -> int | None:
        return _percent(self.operators_patched_by_end, self.operators_exposed)


@dataclass
class Overall:
    period: str
    since: datetime | None
    cases: int = 0
    vendors_notified: int = 0
    vendors_acknowledged: int = 0
    acknowledge_median: timedelta | None = None
    cases_fixed: int = 0
    fix_median: timedelta | None = None
    exposures: int = 0
    exposures_deployed: int = 0
    deploy_median: timedelta | None = None
    cases_deployed: int = 0
    fix_deployed_median: timedelta | None = None
    ai_reports: int = 0
    ai_reproduced: int = 0
    operators_exposed: int = 0
    operators_patched_by_end: int = 0

    @property
    def ai_reproduced_percent(self) -> int | None:
        return _percent(self.ai_reproduced, self.ai_reports)

    @property
    def operators_patched_percent(self) -> int | None:
        return _percent(self.operators_patched_by_end, self.operators_exposed)


@dataclass
class Metrics:
    overall: Overall
    cases: list[CaseMetrics] = field(default_factory=list)


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


# --- selectors -------------------------------------------------------------------------------

def period_since(period: str, *, now: datetime | None = None) -> datetime | None:
    """The start of `period` (a key of PERIODS; ValueError otherwise), None for all time."""
    if period not in PERIODS:
        raise ValueError(period)
    days = PERIODS[period]
    return None if days is None else (now or timezone.now()) - timedelta(days=days)


def cases_in_period(since: datetime | None) -> QuerySet[Case]:
    qs = Case.objects.all()
    return qs if since is None else qs.filter(created_at__gte=since)


def _first_fix() -> Subquery:
    rows = (Remediation.objects.filter(statement__vulnerability__case_id=OuterRef("pk"),
                                       category=Remediation.Category.VENDOR_FIX)
            .order_by().values("statement__vulnerability__case_id")
            .annotate(first=Min("created_at")).values("first"))
    return Subquery(rows, output_field=DateTimeField())


def _cases_with_fix(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.annotate(fixed_at=Coalesce("fix_ready_at", _first_fix())).annotate(
        fix_took=_between("vendor_aware_at", "fixed_at"),
        deploy_took=_between("fixed_at", "fix_deployed_at"))


def _vendors(case_filter: Q) -> QuerySet[Participant]:
    return Participant.objects.filter(case_filter, role=Participant.Role.VENDOR, confirmed=True,
                                      notified_at__isnull=False)


def _live_exposures(case_filter: Q) -> QuerySet[Exposure]:
    return Exposure.objects.filter(case_filter, active=True, confirmed=True)


def _deployed(qs: QuerySet[Exposure]) -> QuerySet[Exposure]:
    return qs.filter(status__in=DEPLOYED, released_at__isnull=False,
                     status_changed_at__isnull=False)


def _operator_rows(case_filter: Q):
    """One row per (case, operator): its live exposures and how many were settled by the end."""
    settled = Q(status__in=SETTLED_BY_END, status_changed_at__isnull=False,
                status_changed_at__lte=F("vulnerability__case__embargo__ends_at"))
    return (_live_exposures(case_filter)
            .filter(vulnerability__case__embargo__isnull=False).order_by()
            .values("vulnerability__case_id", "organisation_id")
            .annotate(total=Count("pk"), settled=Count("pk", filter=settled)))


def metrics_for(user, *, period: str = DEFAULT_PERIOD, case_ids=None,
                now: datetime | None = None) -> Metrics:
    """The coordinator's metrics for `period`: overall, and per case (every case of the period,
    or only `case_ids` of them, newest first). Anyone but a coordinator gets empty metrics.
    Eleven queries whatever the data (fewer when the period holds no case)."""
    since = period_since(period, now=now)
    overall = Overall(period=period, since=since)
    if not policy.is_clearinghouse_coordinator(user):
        return Metrics(overall=overall)
    cases_qs = cases_in_period(since)
    in_period = Q() if since is None else Q(case__created_at__gte=since)
    exposure_in_period = (Q() if since is None
                          else Q(vulnerability__case__created_at__gte=since))

    # 1. Cases (with their embargo's end and their fix times), newest first.
    listed = _cases_with_fix(cases_qs).select_related("embargo").order_by("-created_at", "-id")
    if case_ids is not None:
        listed = listed.filter(pk__in=list(case_ids))
    per_case = {}
    for case in listed:
        embargo = getattr(case, "embargo", None)
        per_case[case.pk] = CaseMetrics(
            case_id=case.pk, reference=case.reference, created_at=case.created_at,
            fix_ready_at=case.fixed_at, time_to_fix=_duration(case.fix_took),
            fix_deployed=_duration(case.deploy_took),
            embargo_ends_at=embargo.ends_at if embargo else None)
    only = Q(case_id__in=list(per_case))
    only_exposure = Q(vulnerability__case_id__in=list(per_case))

    # 2. Vendors: acknowledged per case, and overall.
    vendors = _vendors(in_period)
    for row in (vendors.filter(only).order_by().values("case_id").annotate(
            notified=Count("pk"), acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
            median=Median(_between("notified_at", "acknowledged_at")))):
        m = per_case[row["case_id"]]
        m.vendors_notified, m.vendors_acknowledged = row["notified"], row["acknowledged"]
        m.acknowledge_median = _duration(row["median"])
    totals = vendors.aggregate(notified=Count("pk"),
                               acknowledged=Count("pk", filter=Q(acknowledged_at__isnull=False)),
                               median=Median(_between("notified_at", "acknowledged_at")))
    overall.vendors_notified, overall.vendors_acknowledged = (totals["notified"],
                                                              totals["acknowledged"])
    overall.acknowledge_median = _duration(totals["median"])

    # 3. Cases overall: fixed, fix-deployed and their medians.
    totals = _cases_with_fix(cases_qs).order_by().aggregate(
        cases=Count("pk"), fixed=Count("pk", filter=Q(fix_took__isnull=False)),
        fix=Median("fix_took"), deployed=Count("pk", filter=Q(deploy_took__isnull=False)),
        deploy=Median("deploy_took"))
    overall.cases, overall.cases_fixed = totals["cases"], totals["fixed"]
    overall.fix_median = _duration(totals["fix"])
    overall.cases_deployed = totals["deployed"]
    overall.fix_deployed_median = _duration(totals["deploy"])

    # 4. Exposures: deployed per case, and overall.
    live = _live_exposures(exposure_in_period)
    deploy = _between("released_at", "status_changed_at")
    deployed_q = Q(status__in=DEPLOYED, released_at__isnull=False,
                   status_changed_at__isnull=False)
    for row in (live.filter(only_exposure).order_by().values("vulnerability__case_id").annotate(
            total=Count("pk"), deployed=Count("pk", filter=deployed_q))):
        m = per_case[row["vulnerability__case_id"]]
        m.exposures, m.exposures_deployed = row["total"], row["deployed"]
    for row in (_deployed(live.filter(only_exposure)).order_by()
                .values("vulnerability__case_id").annotate(median=Median(deploy))):
        per_case[row["vulnerability__case_id"]].deploy_median = _duration(row["median"])
    totals = live.aggregate(total=Count("pk"), deployed=Count("pk", filter=deployed_q))
    overall.exposures, overall.exposures_deployed = totals["total"], totals["deployed"]
    overall.deploy_median = _duration(_deployed(live).aggregate(m=Median(deploy))["m"])

    # 5. AI-found reports and their reproduction.
    reproduced = Q(verifications__result=Verification.Result.REPRODUCED)
    ai = Report.objects.filter(ai_found=True)
    for row in (ai.filter(only).order_by().values("case_id").annotate(
            total=Count("pk", distinct=True),
            reproduced=Count("pk", filter=reproduced, distinct=True))):
        m = per_case[row["case_id"]]
        m.ai_reports, m.ai_reproduced = row["total"], row["reproduced"]
    filed = ai if since is None else ai.filter(created_at__gte=since)
    totals = filed.aggregate(total=Count("pk", distinct=True),
                             reproduced=Count("pk", filter=reproduced, distinct=True))
    overall.ai_reports, overall.ai_reproduced = totals["total"], totals["reproduced"]

    # 6. Operators patched by the embargo's end (one row per case and operator).
    for row in _operator_rows(exposure_in_period):
        patched = row["settled"] == row["total"]
        overall.operators_exposed += 1
        overall.operators_patched_by_end += patched
        m = per_case.get(row["vulnerability__case_id"])
        if m is not None:
            m.operators_exposed += 1
            m.operators_patched_by_end += patched
    return Metrics(overall=overall, cases=list(per_case.values()))


# --- presentation helpers shared by the page, the CSV and the API ----------------------------

def hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 1)


def days(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 86400, 1)


CSV_COLUMNS = [
    "case", "opened_at", "vendors_notified", "vendors_acknowledged",
    "acknowledge_median_hours", "fix_ready_at", "time_to_fix_hours", "exposures",
    "exposures_deployed", "deploy_median_hours", "fix_deployed_hours", "ai_found_reports",
    "ai_found_reproduced", "embargo_ends_at", "operators_exposed",
    "operators_patched_by_embargo_end",
]


def _iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat()


def csv_row(m: CaseMetrics) -> list:
    return [m.reference, _iso(m.created_at), m.vendors_notified, m.vendors_acknowledged,
            hours(m.acknowledge_median), _iso(m.fix_ready_at), hours(m.time_to_fix),
            m.exposures, m.exposures_deployed, hours(m.deploy_median), hours(m.fix_deployed),
            m.ai_reports, m.ai_reproduced, _iso(m.embargo_ends_at), m.operators_exposed,
            m.operators_patched_by_end]


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ (or a tab or carriage
    return) is prefixed with an apostrophe (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
