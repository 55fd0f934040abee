"""The coordinator's metrics page and its CSV, under /exposures/metrics/ (exposures/metrics.py
computes; this parses the period, draws the charts and writes the CSV). Anyone but a coordinator
gets 404: the page is not there for them."""

import csv
from io import StringIO

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts import policy
from exposures import metrics
from exposures.charts import bar_chart
from review_portal.pagination import paginate

CHART_CASES = 20  # the charts show the page's newest cases, at most this many


def _metrics_or_404(request):
    if not policy.is_clearinghouse_coordinator(request.user):
        raise Http404("No such page.")
    period = request.GET.get("period", metrics.DEFAULT_PERIOD)
    if period not in metrics.PERIODS:
        raise Http404("No such period.")
    return period, metrics.metrics_for(request.user, period=period)


def _charts(rows: list[metrics.CaseMetrics]) -> list:
    def chart(key, title, description, axis_label, unit, value, maximum=None):
        return bar_chart(key=key, title=title, description=description, axis_label=axis_label,
                         unit=unit, rows=[(m.reference, value(m)) for m in rows],
                         maximum=maximum)

    return [
        chart("acknowledge", "Median time to acknowledge, per case",
              "One bar per case: the median, over the case's vendors, of the hours between "
              "notifying a vendor and its acknowledgement. No bar: no vendor acknowledged yet.",
              "Hours from notification to acknowledgement", "h",
              lambda m: metrics.hours(m.acknowledge_median)),
        chart("fix", "Time to fix, per case",
              "One bar per case: the days from the vendor becoming aware to a fix being ready. "
              "No bar: no fix yet.", "Days from vendor awareness to a fix", "days",
              lambda m: metrics.days(m.time_to_fix)),
        chart("deploy", "Median time to deploy, per case",
              "One bar per case: the median, over the exposures of operators, of the days "
              "from an exposure's release to the operator to its patch or mitigation. No bar: "
              "no operator deployed yet.", "Days from release to patched or mitigated", "days",
              lambda m: metrics.days(m.deploy_median)),
        chart("operators", "Operators patched by the embargo's end, per case",
              "One bar per case under embargo with exposed operators: the share of those "
              "operators whose every exposure was patched, mitigated or not affected by the "
              "embargo's end.", "Share of exposed operators (%)", "%",
              lambda m: m.operators_patched_percent, maximum=100),
        chart("ai", "AI-found reports reproduced, per case",
              "One bar per case with AI-found reports: the share of them that a verification "
              "reproduced.", "Share of AI-found reports (%)", "%",
              lambda m: m.ai_reproduced_percent, maximum=100),
    ]


@login_required
def metrics_page(request):
    period, data = _metrics_or_404(request)
    page = paginate(request, data.cases)
    return render(request, "exposures/metrics.html", {
        "overall": data.overall, "cases": page, "period": period,
        "periods": list(metrics.PERIOD_LABELS.items()),
        "period_label": metrics.PERIOD_LABELS[period],
        "charts": _charts(page.rows[:CHART_CASES]),
        "acknowledge_hours": metrics.hours(data.overall.acknowledge_median),
        "fix_days": metrics.days(data.overall.fix_median),
        "deploy_days": metrics.days(data.overall.deploy_median),
        "fix_deployed_days": metrics.days(data.overall.fix_deployed_median)})


@login_required
def metrics_csv(request):
    """One row per case of the period with each metric: counts and durations only, no
    operator, asset or product name. Cells a spreadsheet would run are defused."""
    period, data = _metrics_or_404(request)
    out = StringIO()
    writer = csv.writer(out)
    writer.writerow(metrics.CSV_COLUMNS)
    for row in data.cases:
        writer.writerow([metrics.csv_safe(cell) for cell in metrics.csv_row(row)])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = (
        f'attachment; filename="clearinghouse-metrics-{period}-{stamp}.csv"')
    response["X-Content-Type-Options"] = "nosniff"
    return response
