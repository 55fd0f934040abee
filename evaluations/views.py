"""Pages for benchmark suites, a request's evaluations, a run, and the model's endpoint."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.policy import is_developer_of, is_government, is_program_admin, may_file_report
from evaluations import selectors, services
from evaluations.api import log_response
from evaluations.forms import EndpointForm, RunStartForm, SuiteForm
from evaluations.models import Capability, EvaluationEndpoint
from jobs.selectors import run_queue_notice
from review_portal.errors import ApplicationError
from review_portal.pages import call_service, download_refused
from review_portal.pagination import paginate
from submissions.selectors import model_get_for_user, request_get_for_user


def _require_government(user) -> None:
    if not is_government(user):
        raise Http404


@login_required
def suite_list(request):
    _require_government(request.user)
    form = SuiteForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not is_program_admin(request.user):
            raise PermissionDenied
        if form.is_valid():
            d = form.cleaned_data
            upload = d.get("file")
            version = call_service(request, form, lambda: services.suite_version_create(
                actor=request.user, suite_name=d["suite_name"], description=d["description"],
                filename=upload.name if upload else "",
                content=upload.read() if upload else b"", solver=d["solver"],
                scorer=d["scorer"], grader_model=d["grader_model"],
                registry_name=d["registry_name"], task_args=d["task_args"]))
            if version:
                messages.success(request, f"{version} created ({version.content_hash[:12]}…).")
                return redirect("suite_list")
    # One row per version, paged (a suite's versions are rows of their own, not nested).
    versions = selectors.suite_versions_visible_to(request.user).defer("items")
    return render(request, "evaluations/suite_list.html", {
        "versions": paginate(request, versions), "form": form,
        "can_create": is_program_admin(request.user)})


CHART_ROW = 32  # height of one bar's row in the chart, in SVG units
CHART_AXIS = 24 + 52  # the axis titles above and below the bars, the ticks
# The accuracy axis: (percent, x offset of the tick in the 400-unit-wide plot area).
CHART_TICKS = [(pct, pct * 4) for pct in range(0, 101, 20)]


def _chart(runs, thresholds: dict) -> list[dict]:
    """Per-category bars of the latest successful runs, with the policy's threshold if any."""
    bars = []
    for run in runs:
        for category, m in run.metrics.get("categories", {}).items():
            bars.append({"category": category, "label": Capability(category).label
                         if category in Capability.values else category,
                         "accuracy": m["accuracy"], "stderr": m["stderr"], "n": m["n"],
                         "suite": str(run.suite_version), "run": run.pk,
                         "pct": round(100 * m["accuracy"]),
                         "lo": max(0, round(100 * (m["accuracy"] - m["stderr"]))),
                         "hi": min(100, round(100 * (m["accuracy"] + m["stderr"]))),
                         "threshold": thresholds.get(category),
                         "threshold_pct": round(100 * thresholds[category])
                         if category in thresholds else None})
    return bars


def category_thresholds() -> dict:
    """The active threshold policy's accuracy thresholds by category (the reviews app owns it)."""
    from reviews.selectors import active_category_thresholds

    return active_category_thresholds()


@login_required
def request_evaluation(request, pk):
    review_request = request_get_for_user(user=request.user, pk=pk)
    _require_government(request.user)
    versions = selectors.suite_versions_visible_to(request.user)
    form = RunStartForm(request.POST or None, versions=versions)
    if request.method == "POST" and form.is_valid():
        run = call_service(request, form, lambda: services.run_start(
            review_request=review_request, suite_version=form.cleaned_data["suite_version"],
            actor=request.user, repeat=form.cleaned_data["repeat"]))
        if run:
            return redirect("run_detail", pk=run.pk)
    runs = selectors.runs_visible_to(request.user).filter(request=review_request)
    latest = selectors.latest_successful_runs(review_request=review_request)
    bars = _chart(latest, category_thresholds())
    endpoint = EvaluationEndpoint.objects.filter(model=review_request.model).first()
    return render(request, "evaluations/request_evaluation.html", {
        "r": review_request, "runs": paginate(request, runs, fragment="runs"), "form": form,
        "bars": bars,
        "chart_height": CHART_ROW * len(bars) + CHART_AXIS,
        "axis_y": CHART_ROW * len(bars) + 4,
        "ticks": CHART_TICKS,
        "endpoint": endpoint,
        # The same rule the service enforces: no "Run the suite" where it would be refused.
        "run_refusal": services.run_start_refusal(actor=request.user,
                                                  review_request=review_request,
                                                  has_endpoint=endpoint is not None)})


def _run_for(user, pk):
    return get_object_or_404(selectors.runs_visible_to(user), pk=pk)


@login_required
def run_detail(request, pk):
    run = _run_for(request.user, pk)
    return render(request, "evaluations/run_detail.html", {
        "run": run,
        "samples": paginate(request, run.samples.all(), fragment="samples")
        if run.is_finished else [],
        "queue_notice": run_queue_notice(run=run),
        "may_report": may_file_report(request.user)})


@login_required
@require_POST
def run_cancel(request, pk):
    run = _run_for(request.user, pk)
    if call_service(request, None, lambda: services.run_cancel(run=run, actor=request.user)):
        messages.success(request, "Cancellation requested.")
    return redirect("run_detail", pk=pk)


@login_required
def run_log(request, pk):
    run = _run_for(request.user, pk)
    try:
        opened = services.run_log_open(run=run, actor=request.user)
    except ApplicationError as exc:  # no log for this run (or none left), or storage down
        return download_refused(exc)
    return log_response(*opened)


@login_required
def endpoint_edit(request, model_pk):
    model = model_get_for_user(user=request.user, pk=model_pk)
    if not is_developer_of(request.user, model):
        raise PermissionDenied
    endpoint = EvaluationEndpoint.objects.filter(model=model).first()
    initial = {}
    if endpoint:
        initial = {"kind": endpoint.kind, "base_url": endpoint.base_url,
                   "model_name": endpoint.model_name,
                   "simulated_latency_ms": endpoint.simulated_latency_ms,
                   **{f"level_{k}": v for k, v in endpoint.simulated_levels.items()}}
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        saved = call_service(request, form, lambda: services.endpoint_set(
            model=model, actor=request.user, kind=d["kind"], model_name=d["model_name"],
            base_url=d["base_url"] or "", api_key=d["api_key"] or None,
            simulated_levels=form.levels(),
            simulated_latency_ms=d["simulated_latency_ms"] or 0))
        if saved:
            messages.success(request, "The evaluation endpoint is saved.")
            return redirect("model_detail", pk=model.pk)
    return render(request, "evaluations/endpoint_form.html", {
        "form": form, "model": model, "endpoint": endpoint})
