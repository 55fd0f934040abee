"""Status at a glance: what each role's home page shows as needing their action.

Each item is a count, the first few rows as links and a link to the full list, read from one
selector of the app that owns it (that selector returns nothing for any other role, so a home
can never show another role's items). Two queries an item (its first rows and its count), and
the program admins' worker health is the health page's own report."""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts import policy

FEW = 3


def _when(moment) -> str:
    """A moment in the current time zone, named."""
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


@dataclass(frozen=True)
class Glance:
    key: str
    title: str
    count: int
    items: list[tuple[str, str]]
    more_url: str
    more_label: str
    empty: str
    summary: str = ""
    problems: list[str] = field(default_factory=list)


def glance(*, key: str, title: str, queryset: QuerySet, label: Callable, url: Callable,
           more_url: str, more_label: str, empty: str) -> Glance:
    rows = list(queryset[:FEW])
    count = queryset.count()
    return Glance(key=key, title=title, count=count,
                  items=[(label(row), url(row)) for row in rows],
                  more_url=more_url, more_label=more_label, empty=empty)


def _developer(user) -> list[Glance]:
    from partners import selectors as partners
    from submissions import selectors as submissions

    return [
        glance(key="questions", title="Questions to answer",
               queryset=submissions.questions_to_answer(user),
               label=lambda r: f"Request #{r.pk} · {r.model}",
               url=lambda r: reverse("request_detail", args=[r.pk]) + "#thread",
               more_url=reverse("request_list") + "?status=information_requested",
               more_label="All requests awaiting your answer",
               empty="No reviewer is waiting for an answer."),
        glance(key="windows", title="Windows to schedule",
               queryset=submissions.windows_to_schedule(user),
               label=lambda m: f"{m} · covered, no government window",
               url=lambda m: reverse("window_edit", args=[m.pk]),
               more_url=reverse("model_list"), more_label="All your models",
               empty="Every covered model has its government window."),
        glance(key="partner-requests", title="Partner requests to approve",
               queryset=partners.partner_requests_to_approve(user),
               label=lambda r: f"{r.organisation.name} · {r.model}",
               url=lambda r: reverse("access_request_detail", args=[r.pk]),
               more_url=reverse("access_request_list"), more_label="All early-access requests",
               empty="No partner request waits for your approval."),
    ]


def _reviewer(user) -> list[Glance]:
    from reviews import selectors as reviews
    from submissions import selectors as submissions

    def label(r):
        return f"Request #{r.pk} · {r.model}"

    def url(r):
        return reverse("request_detail", args=[r.pk])

    return [
        glance(key="assigned", title="Assigned requests",
               queryset=submissions.assigned_requests(user), label=label, url=url,
               more_url=reverse("request_list"), more_label="All your requests",
               empty="No open request is assigned to you."),
        glance(key="lead", title="Lead duties",
               queryset=submissions.lead_duties(user), label=label, url=url,
               more_url=reverse("request_list") + "?status=in_review",
               more_label="All requests in review",
               empty="You lead no request in review."),
        glance(key="reviews-due", title="Reviews due",
               queryset=reviews.reviews_due(user), label=label,
               url=lambda r: reverse("review_edit", args=[r.pk]),
               more_url=reverse("request_list") + "?status=in_review",
               more_label="All requests in review",
               empty="You have submitted every review assigned to you."),
    ]


def _admin(user) -> list[Glance]:
    from jobs.selectors import queue_health
    from partners import selectors as partners
    from submissions import selectors as submissions

    health = queue_health(user=user)
    return [
        glance(key="unassigned", title="Unassigned requests",
               queryset=submissions.unassigned_requests(user),
               label=lambda r: f"Request #{r.pk} · {r.model}",
               url=lambda r: reverse("request_detail", args=[r.pk]),
               more_url=reverse("request_list") + "?status=submitted",
               more_label="All submitted requests",
               empty="Every submitted request has a reviewer."),
        glance(key="flagged", title="Flagged windows",
               queryset=submissions.flagged_windows(user),
               label=lambda w: f"{w.model}: {w.flag_reason}",
               url=lambda w: reverse("window_list") + "?flagged=1",
               more_url=reverse("window_list") + "?flagged=1", more_label="All flagged windows",
               empty="No window is flagged."),
        glance(key="vetting", title="Vetting queue",
               queryset=partners.vetting_queue(user),
               label=lambda p: f"{p.organisation.name} · applied {p.created_at:%Y-%m-%d}",
               url=lambda p: reverse("partner_list"),
               more_url=reverse("partner_list"), more_label="All partner organisations",
               empty="No partner organisation waits for vetting."),
        Glance(key="workers", title="Worker health", count=len(health.problems), items=[],
               more_url=reverse("queue_health"), more_label="Background jobs",
               empty="Workers, queues and beat are all running.", summary=health.status,
               problems=health.problems),
    ]


def _partner(user) -> list[Glance]:
    from partners import selectors as partners

    def grant_url(g):
        return reverse("grant_detail", args=[g.pk])

    return [
        glance(key="live-grants", title="Live grants", queryset=partners.live_grants(user),
               label=lambda g: f"{g.model} · until {_when(g.ends_at)}",
               url=grant_url, more_url=reverse("grant_list"), more_label="All your grants",
               empty="Your organisation holds no live grant."),
        glance(key="ending-grants", title="Ending within 7 days",
               queryset=partners.ending_grants(user),
               label=lambda g: f"{g.model} · ends {_when(g.ends_at)}",
               url=grant_url, more_url=reverse("grant_list"), more_label="All your grants",
               empty="No live grant ends within 7 days."),
        glance(key="terms", title="Terms to accept", queryset=partners.terms_to_accept(user),
               label=lambda r: f"{r.model} · request #{r.pk}",
               url=lambda r: reverse("access_request_detail", args=[r.pk]),
               more_url=reverse("access_request_list"), more_label="All your requests",
               empty="No request waits for your organisation to accept terms."),
    ]


def _operator(user) -> list[Glance]:
    from exposures import exposure_selectors as exposures

    def label(e):
        priority = e.get_priority_display() or "Not yet prioritised"
        due = f" · act by {_when(e.due_at)}" if e.due_at else ""
        return f"{priority} · {exposures.asset_label(e)} · {e.vulnerability.title}{due}"

    def url(e):
        return reverse("exposure_detail", args=[e.pk])

    open_exposures, to_confirm = exposures.home_exposures(user)
    return [
        glance(key="exposures", title="Exposures to act on",
               queryset=open_exposures, label=label, url=url,
               more_url=reverse("exposure_list"), more_label="All your exposures",
               empty="Nothing the clearinghouse released to you waits for action."),
        glance(key="to-confirm", title="Matches to confirm",
               queryset=to_confirm, label=label, url=url,
               more_url=reverse("exposure_list"), more_label="All your exposures",
               empty="No match by vendor and product name waits for your confirmation."),
    ]


def _vendor(user) -> list[Glance]:
    from clearinghouse import case_selectors as cases
    from clearinghouse.models import Embargo

    def embargo_end(a):
        embargo = a.embargo
        revising = embargo.status == Embargo.Status.REVISE
        proposed = embargo.proposed_ends_at if revising else embargo.ends_at
        return f"{embargo.case.reference} · proposed end {_when(proposed)}"

    return [
        glance(key="statements", title="Statements to give",
               queryset=cases.statements_to_give(user),
               label=lambda s: f"{s.vulnerability.case.reference} · {s.product_name}",
               url=lambda s: reverse("case_detail", args=[s.vulnerability.case_id])
               + "#statements",
               more_url=reverse("case_list"), more_label="All your cases",
               empty="No product of yours waits for a statement."),
        glance(key="embargoes", title="Embargoes to answer",
               queryset=cases.embargoes_to_answer(user), label=embargo_end,
               url=lambda a: reverse("case_detail", args=[a.embargo.case_id]) + "#embargo",
               more_url=reverse("case_list"), more_label="All your cases",
               empty="No embargo proposal waits for your answer."),
    ]


def home_glances(user) -> list[Glance]:
    """The items of the user's home, for their role only; none without one."""
    if policy.is_developer(user):
        return _developer(user)
    if policy.is_agency_reviewer(user):
        return _reviewer(user)
    if policy.is_program_admin(user):
        return _admin(user)
    if policy.is_partner(user):
        return _partner(user)
    if policy.is_operator(user):
        return _operator(user)
    if policy.is_vendor(user):
        return _vendor(user)
    return []
