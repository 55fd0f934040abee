"""Reads for evaluations. Only the government side (assigned reviewers, program admins) may see
suites and runs; developers never do."""

from django.db.models import QuerySet
from django.http import Http404

from accounts import policy
from evaluations.models import BenchmarkSuite, EvaluationRun, SuiteVersion
from submissions.models import FrontierModel, ReviewRequest
from submissions.selectors import model_get_for_user, requests_visible_to


def suites_visible_to(user) -> QuerySet[BenchmarkSuite]:
    if not policy.is_government(user):
        return BenchmarkSuite.objects.none()
    return BenchmarkSuite.objects.all()


def suite_versions_visible_to(user) -> QuerySet[SuiteVersion]:
    if not policy.is_government(user):
        return SuiteVersion.objects.none()
    return SuiteVersion.objects.select_related("suite")


def runs_visible_to(user) -> QuerySet[EvaluationRun]:
    """Runs of the requests the user may see, for government users only."""
    if not policy.is_government(user):
        return EvaluationRun.objects.none()
    return EvaluationRun.objects.filter(
        request__in=requests_visible_to(user).values("pk")
    ).select_related("suite_version__suite", "request__model", "started_by")


def endpoint_model_get_for_user(*, user, pk) -> FrontierModel:
    """The model whose evaluation endpoint the user may read: its developers and the government
    side that can see the model. Everyone else gets 404."""
    model = model_get_for_user(user=user, pk=pk)
    if not (policy.is_developer_of(user, model) or policy.is_government(user)):
        raise Http404
    return model


def latest_successful_runs(*, review_request: ReviewRequest) -> list[EvaluationRun]:
    """The newest succeeded run of each suite for the request: the evidence a recommendation
    rests on. Each run's `metrics` is {"overall": {...}, "categories": {category: {"accuracy",
    "stderr", "n"}}}."""
    runs = (
        EvaluationRun.objects.filter(request=review_request,
                                     status=EvaluationRun.Status.SUCCEEDED)
        .select_related("suite_version__suite")
        .order_by("suite_version__suite_id", "-finished_at", "-id")
    )
    latest: dict[int, EvaluationRun] = {}
    for run in runs:
        latest.setdefault(run.suite_version.suite_id, run)
    return list(latest.values())


def run_waiting_for_queue(*, run: EvaluationRun) -> bool:
    """The run's newest job is still in the outbox: the broker has not taken it yet."""
    from evaluations.services import run_ref
    from jobs.models import OutboxMessage

    job = OutboxMessage.objects.filter(ref=run_ref(run.pk)).order_by("-id").values_list(
        "state", flat=True).first()
    return job == OutboxMessage.State.WAITING
