"""Reads for the intake: report lists, the triage queue and each reporter organisation's yield.
What a user may see at all is clearinghouse/access.py's; these only narrow and annotate it."""

from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts import policy
from accounts.models import Organisation
from clearinghouse import access
from clearinghouse.models import DuplicateCandidate, Report

RS = Report.Status

# Decided: the coordinator said something about its validity. A report still received, or
# withdrawn by its reporter, says nothing about the reporter's yield.
DECIDED_Q = ~Q(status=RS.RECEIVED) & ~Q(status=RS.CLOSED, close_reason=Report.CloseReason.WITHDRAWN)
# Found valid: valid, accepted, deferred (deferred only follows valid) or closed as coordinated.
FOUND_VALID_Q = Q(status__in=[RS.VALID, RS.ACCEPTED, RS.DEFERRED]) | Q(
    status=RS.CLOSED, close_reason=Report.CloseReason.COORDINATED)


@dataclass(frozen=True)
class Yield:
    filed: int
    decided: int
    found_valid: int

    @property
    def percent(self) -> int | None:
        """The share of decided reports found valid, or None before any decision."""
        return round(100 * self.found_valid / self.decided) if self.decided else None


def reports_for_list(user) -> QuerySet[Report]:
    return access.reports_visible_to(user).select_related("organisation")


def triage_queue(user) -> QuerySet[Report]:
    """Reports waiting for the coordinator: received (and needing more info last), oldest first.
    Low-yield reporters are not blocked (Node.js): the yield is shown next to each."""
    if not policy.is_clearinghouse_coordinator(user):
        return Report.objects.none()
    return (Report.objects.filter(status=RS.RECEIVED).select_related("organisation")
            .order_by("needs_more_info", "created_at", "id"))


def _count(condition: Q) -> Subquery:
    rows = (Report.objects.filter(condition, organisation_id=OuterRef("pk"))
            .order_by().values("organisation_id").annotate(n=Count("pk")).values("n"))
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def reporter_organisations_with_yield(user) -> QuerySet[Organisation]:
    """Reporter organisations annotated with `filed`, `decided` and `found_valid`. The
    coordinator sees every one; a reporter its own; anyone else none."""
    qs = Organisation.objects.filter(clearinghouse_reports__isnull=False).distinct()
    if not policy.is_clearinghouse_coordinator(user):
        org_id = policy.organisation_id_of(user)
        if org_id is None or not policy.may_file_report(user):
            return qs.none()
        qs = qs.filter(pk=org_id)
    return qs.annotate(filed=_count(Q()), decided=_count(DECIDED_Q),
                       found_valid=_count(DECIDED_Q & FOUND_VALID_Q)).order_by("name", "id")


def yield_of(organisation_id: int) -> Yield:
    counts = Report.objects.filter(organisation_id=organisation_id).aggregate(
        filed=Count("pk"), decided=Count("pk", filter=DECIDED_Q),
        found_valid=Count("pk", filter=DECIDED_Q & FOUND_VALID_Q))
    return Yield(**counts)


def yields_by_organisation(organisation_ids) -> dict[int, Yield]:
    rows = (Report.objects.filter(organisation_id__in=set(organisation_ids)).order_by()
            .values("organisation_id").annotate(
                filed=Count("pk"), decided=Count("pk", filter=DECIDED_Q),
                found_valid=Count("pk", filter=DECIDED_Q & FOUND_VALID_Q)))
    return {r.pop("organisation_id"): Yield(**r) for r in rows}


def candidates_for(user, report: Report) -> QuerySet[DuplicateCandidate]:
    """Duplicate and regression candidates: the coordinator's (they name other reporters'
    reports)."""
    if not policy.is_clearinghouse_coordinator(user):
        return DuplicateCandidate.objects.none()
    return report.duplicate_candidates.select_related("candidate__organisation")
