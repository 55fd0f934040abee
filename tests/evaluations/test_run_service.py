"""Evaluation runs in the service layer: who starts and cancels them, what a run records, the
claim that makes a result be written exactly once, the sweep that recovers runs from dead workers,
the metrics, and the simulated model.

Tests that really run Inspect call `run_execute` in this process. They are transactional: the
engine's watcher reports the heartbeat from a thread, with its own database connection, which
would not see rows of a test transaction that was never committed.
"""

import asyncio
import importlib.metadata
import json
import os
import socket
import subprocess
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.model import ChatMessageUser, GenerateConfig
from inspect_ai.scorer import Score

from audit.models import AuditEvent
from evaluations import engine, services, simulated
from evaluations.models import EvaluationRun, SampleResult
from review_portal.errors import ApplicationError, TransitionNotAllowed
from submissions import services as submission_services
from submissions.models import ReviewRequest
from tests.conftest import bring_to
from tests.evaluations.conftest import LEVELS, purge_queues, simulated_endpoint

ITEMS = [
    {"id": f"{cat[:4]}-{n}", "input": f"Question {n} about {cat}?",
     "choices": ["first", "second", "third"], "target": "ABC"[n % 3], "category": cat}
    for cat in ("vulnerability_discovery", "attack_automation") for n in range(3)
]


@pytest.fixture
def small_suite(world):
    return services.suite_version_create(
        actor=world.admin, suite_name="Small", filename="small.jsonl",
        content="\n".join(json.dumps(i) for i in ITEMS).encode(), solver="multiple_choice",
        scorer="choice")


@pytest.fixture
def log_root(settings, tmp_path):
    settings.EVALUATION_LOG_ROOT = tmp_path / "eval-logs"
    settings.INSPECT_DATA_DIR = tmp_path / "inspect-data"
    return settings.EVALUATION_LOG_ROOT


@pytest.fixture
def ready(in_review, small_suite, log_root):
    """A request in review, its reviewer assigned, a simulated endpoint and a small suite."""
    simulated_endpoint(in_review)
    return in_review


def make_run(world, version, **fields) -> EvaluationRun:
    """A run row as run_start writes it, without enqueueing it (in transactional tests an
    enqueued job would run at once, eagerly). Marked a repeat, so a test may hold several
    active runs of one suite."""
    endpoint = world.model.evaluation_endpoint
    row = {
        "request": world.request, "suite_version": version, "started_by": world.reviewer,
        "suite_hash": version.content_hash, "inspect_version": engine.INSPECT_VERSION,
        "model_identity": services.endpoint_model_spec(endpoint).identity,
        "samples_total": len(version.items),
        "parameters": {"max_samples": 4, "time_limit": 60, "timeout": 5, "max_retries": 0,
                       "solver": version.solver, "scorer": version.scorer,
                       "endpoint_kind": endpoint.kind},
        "is_repeat": True,
    }
    return EvaluationRun.objects.create(**{**row, **fields})


def stale(seconds_ago=3600):
    return timezone.now() - timedelta(seconds=seconds_ago)


def expected_accuracy(world, items, category) -> float:
    """What the simulated model must score, computed by hand from its deterministic rule."""
    seed = f"{world.model.pk}:atlas-sim"
    hits = [simulated.answers_correctly(seed=seed, item_id=i["id"], level=LEVELS[category])
            for i in items if i["category"] == category]
    return sum(hits) / len(hits)


# --- run_start ------------------------------------------------------------------------------

def test_an_assigned_reviewer_starts_a_run_that_records_how_to_reproduce_it(
        ready, small_suite, settings, django_capture_on_commit_callbacks):
    w = ready
    with django_capture_on_commit_callbacks() as callbacks:
        run = services.run_start(review_request=w.request, suite_version=small_suite,
                                 actor=w.reviewer)
    assert len(callbacks) == 1  # the job is enqueued only once the run row is committed
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.QUEUED and run.attempts == 0
    assert run.started_by == w.reviewer and run.samples_total == 6 and run.samples_done == 0
    assert run.suite_hash == small_suite.content_hash
    assert run.inspect_version == importlib.metadata.version("inspect_ai")
    assert run.model_identity.startswith("portalsim/atlas-sim (simulated; levels ")
    assert json.dumps(LEVELS, sort_keys=True) in run.model_identity
    assert run.parameters == {
        "solver": "multiple_choice", "scorer": "choice", "grader_model": "",
        "registry_name": "", "task_args": {}, "max_samples": settings.EVALUATION_MAX_SAMPLES,
        "time_limit": settings.EVALUATION_SAMPLE_TIME_LIMIT,
        "timeout": settings.EVALUATION_HTTP_TIMEOUT,
        "max_retries": settings.EVALUATION_HTTP_MAX_RETRIES, "endpoint_kind": "simulated"}
    event = AuditEvent.objects.get(action="run.started")
    assert event.actor == w.reviewer and event.object_id == str(run.pk)
    assert event.organisation == w.acme
    assert event.data == {"request": w.request.pk, "suite": "Small v1",
                          "hash": small_suite.content_hash}


def test_a_run_can_start_while_the_developer_is_asked_for_information(
        world, small_suite, log_root, django_capture_on_commit_callbacks):
    bring_to(world, "information_requested")
    simulated_endpoint(world)
    with django_capture_on_commit_callbacks():
        run = services.run_start(review_request=world.request, suite_version=small_suite,
                                 actor=world.reviewer)
    assert run.status == EvaluationRun.Status.QUEUED


@pytest.mark.parametrize("actor", ["owner", "colleague", "admin", "reviewer2", "partner"])
def test_only_an_assigned_reviewer_starts_a_run(ready, small_suite, actor,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(PermissionDenied):
        services.run_start(review_request=ready.request, suite_version=small_suite,
                           actor=ready.actors()[actor])
    assert callbacks == []
    assert not EvaluationRun.objects.exists()
    assert not AuditEvent.objects.filter(action="run.started").exists()


def determined(world):
    """The request determined, its reviewer still assigned. Set on the row: recording a
    determination also needs the reviews app's policy, which is not what is tested here."""
    bring_to(world, "in_review")
    ReviewRequest.objects.filter(pk=world.request.pk).update(
        status=ReviewRequest.Status.DETERMINED)
    world.request.refresh_from_db()
    return world


def test_a_run_does_not_start_once_the_request_is_determined(world, small_suite, log_root):
    determined(world)
    simulated_endpoint(world)
    with pytest.raises(TransitionNotAllowed) as exc:
        services.run_start(review_request=world.request, suite_version=small_suite,
                           actor=world.reviewer)
    assert exc.value.status == 409
    assert not EvaluationRun.objects.exists()


def test_a_run_does_not_start_on_a_withdrawn_request(ready, small_suite):
    submission_services.request_withdraw(review_request=ready.request, actor=ready.owner)
    ready.request.refresh_from_db()
    with pytest.raises(TransitionNotAllowed):
        services.run_start(review_request=ready.request, suite_version=small_suite,
                           actor=ready.reviewer)
    assert not EvaluationRun.objects.exists()


def test_a_draft_request_has_no_reviewer_who_could_start_a_run(world, small_suite):
    simulated_endpoint(world)
    with pytest.raises(PermissionDenied):
        services.run_start(review_request=world.request, suite_version=small_suite,
                           actor=world.reviewer)
    assert not EvaluationRun.objects.exists()


def test_a_run_needs_the_developers_endpoint(in_review, small_suite):
    with pytest.raises(ApplicationError) as exc:
        services.run_start(review_request=in_review.request, suite_version=small_suite,
                           actor=in_review.reviewer)
    assert exc.value.status == 409 and "endpoint" in exc.value.message
    assert not EvaluationRun.objects.exists()


def test_the_api_answers_409_for_a_run_on_a_determined_request(api, world, small_suite):
    determined(world)
    simulated_endpoint(world)
    response = api.as_(world.reviewer).post(
        "/api/v1/runs/", {"request": world.request.pk, "suite_version": small_suite.pk})
    assert response.status_code == 409
    assert "in review" in response.json()["detail"]
    assert not EvaluationRun.objects.exists()


# --- run_execute (real Inspect, in this process) --------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_run_is_executed_and_its_result_written_exactly_once(ready, small_suite, log_root):
    w = ready
    run = make_run(w, small_suite)

    assert services.run_execute(run_id=run.pk) == "succeeded"

    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.SUCCEEDED, run.error
    assert run.attempts == 1 and run.samples_done == 6 and run.finished_at is not None
    assert run.claimed_by == f"{socket.gethostname()}:{os.getpid()}"
    rows = SampleResult.objects.filter(run=run)
    assert sorted(rows.values_list("sample_id", flat=True)) == sorted(i["id"] for i in ITEMS)
    for category in ("vulnerability_discovery", "attack_automation"):
        m = run.metrics["categories"][category]
        assert m["n"] == 3
        assert m["accuracy"] == pytest.approx(expected_accuracy(w, ITEMS, category), abs=1e-6)
        assert m["accuracy"] == pytest.approx(
            sum(rows.filter(category=category).values_list("score", flat=True)) / 3, abs=1e-6)
    assert run.metrics["overall"]["accuracy"] == pytest.approx(run.metrics["inspect"]["accuracy"])
    log = log_root / run.log_path
    assert log.is_file() and run.log_path.startswith(f"run-{run.pk}/attempt-1/")
    assert AuditEvent.objects.filter(action="run.succeeded", object_id=str(run.pk)).count() == 1

    # The same job delivered again (acks_late after a lost acknowledgement) does nothing.
    assert services.run_execute(run_id=run.pk) == "skipped"
    assert SampleResult.objects.filter(run=run).count() == 6
    assert AuditEvent.objects.filter(action="run.succeeded").count() == 1
    again = EvaluationRun.objects.get(pk=run.pk)
    assert (again.attempts, again.finished_at, again.log_path) == (1, run.finished_at,
                                                                    run.log_path)


@pytest.mark.django_db(transaction=True)
def test_a_run_stores_its_sample_rows_without_reading_its_log_back(
        ready, small_suite, log_root, monkeypatch):
    """The rows come from the samples as they end: reading a 200-sample log back from storage
    cost about a tenth of the evaluation (and more from object storage)."""
    from inspect_ai.log import read_eval_log
    from inspect_ai.log._recorders import eval as eval_recorder

    loads = []
    real_load = eval_recorder._LazyLogData.load

    def counting_load(self):
        loads.append(self.location)
        return real_load(self)

    monkeypatch.setattr(eval_recorder._LazyLogData, "load", counting_load)
    run = make_run(ready, small_suite)

    assert services.run_execute(run_id=run.pk) == "succeeded"

    assert loads == []
    run.refresh_from_db()
    stored = list(SampleResult.objects.filter(run=run).order_by("pk").values(
        "sample_id", "category", "score", "answer", "target"))
    metrics, from_log = engine.metrics_from_log(read_eval_log(str(log_root / run.log_path)))
    assert stored == from_log  # the same rows, in the log's order
    assert run.metrics == metrics


@pytest.mark.django_db(transaction=True)
def test_a_run_writes_no_realtime_sample_buffer(ready, small_suite, log_root):
    """Inspect's realtime buffer serves live views in `inspect view`, which the portal does not
    offer; writing every event to it cost about a third of Inspect's CPU per sample."""
    from inspect_ai.log import read_eval_log

    run = make_run(ready, small_suite)

    assert services.run_execute(run_id=run.pk) == "succeeded"

    run.refresh_from_db()
    header = read_eval_log(str(log_root / run.log_path), header_only=True)
    assert header.eval.config.log_realtime is False
    assert header.results.completed_samples == 6
    assert SampleResult.objects.filter(run=run).count() == 6


@pytest.mark.django_db(transaction=True)
def test_finishing_a_run_locks_the_run_only_not_its_request_model_or_organisation(
        ready, small_suite):
    """Another transaction referencing the organisation (inserting an audit event, a run, ...)
    holds a share lock on its row: writing a result must not wait for it. Locking the joined
    rows too deadlocked run starts against finishing workers (PostgreSQL's deadlock detector
    answered the reviewer's start with 503)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises every writer")
    import psycopg2

    settings_dict = connection.settings_dict
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by="this-host:1", heartbeat_at=timezone.now())
    other = psycopg2.connect(dbname=settings_dict["NAME"], user=settings_dict["USER"],
                             host=settings_dict["HOST"], port=settings_dict["PORT"] or 5432,
                             password=settings_dict["PASSWORD"] or None)
    try:
        with other.cursor() as cursor:  # a transaction left open, as a concurrent start's is
            cursor.execute("SELECT id FROM accounts_organisation WHERE id IN (%s, %s) "
                           "FOR KEY SHARE", [ready.acme.pk, ready.request.model.organisation_id])
            cursor.execute("SELECT id FROM submissions_reviewrequest WHERE id = %s FOR KEY SHARE",
                           [ready.request.pk])
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        assert services._finish(run.pk, "this-host:1", 1, status=EvaluationRun.Status.SUCCEEDED,
                                metrics={"overall": {"accuracy": 1.0}}, rows=[])
    finally:
        other.rollback()
        other.close()
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.SUCCEEDED
    assert AuditEvent.objects.filter(action="run.succeeded", object_id=str(run.pk)).count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_run_whose_worker_stopped_beating_is_taken_over_as_attempt_2(
        ready, small_suite, log_root):
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by="lost-host:4242", heartbeat_at=stale(), started_at=stale(),
                   samples_done=2)

    assert services.run_execute(run_id=run.pk) == "succeeded"

    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.SUCCEEDED and run.attempts == 2
    assert run.claimed_by == f"{socket.gethostname()}:{os.getpid()}"
    assert run.log_path.startswith(f"run-{run.pk}/attempt-2/")
    assert SampleResult.objects.filter(run=run).count() == 6


def test_a_run_claimed_by_a_live_worker_is_not_taken(ready, small_suite, log_root):
    fresh = timezone.now()
    elsewhere = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                         claimed_by="other-host:17", heartbeat_at=fresh)
    here = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                    claimed_by=f"{socket.gethostname()}:{os.getppid()}", heartbeat_at=fresh)
    for run in (elsewhere, here):
        assert services.run_execute(run_id=run.pk) == "skipped"
        after = EvaluationRun.objects.get(pk=run.pk)
        assert (after.status, after.attempts, after.claimed_by) == ("running", 1, run.claimed_by)
    assert not log_root.exists()


def test_a_run_claimed_by_a_dead_process_on_this_host_is_claimed_again_at_once(
        ready, small_suite):
    child = subprocess.Popen(["true"])
    child.wait()  # its pid is free now
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by=f"{socket.gethostname()}:{child.pid}",
                   heartbeat_at=timezone.now())
    claimed = services._claim(run.pk)
    assert claimed is not None and claimed.attempts == 2
    assert claimed.claimed_by == f"{socket.gethostname()}:{os.getpid()}"


def test_a_finish_from_an_attempt_that_was_taken_over_writes_nothing(ready, small_suite):
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=2,
                   claimed_by="new-host:2", heartbeat_at=timezone.now())
    row = {"sample_id": "vuln-0", "category": "vulnerability_discovery", "score": 1.0,
           "answer": "A", "target": "A"}
    for me, attempt in (("old-host:1", 1), ("new-host:2", 1), ("old-host:1", 2)):
        written = services._finish(run.pk, me, attempt, status=EvaluationRun.Status.SUCCEEDED,
                                   metrics={"overall": {"accuracy": 1.0}}, rows=[row])
        assert written is False
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.RUNNING and run.metrics == {}
    assert not SampleResult.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="run.succ").exists()


def test_a_run_cancelled_while_queued_is_never_executed(ready, small_suite, log_root):
    run = make_run(ready, small_suite)
    services.run_cancel(run=run, actor=ready.reviewer)
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.CANCELLED and run.cancel_requested
    assert run.finished_at is not None

    assert services.run_execute(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.CANCELLED and run.attempts == 0
    assert not log_root.exists()
    event = AuditEvent.objects.get(action="run.cancel_requested")
    assert event.actor == ready.reviewer and event.object_id == str(run.pk)


def test_a_dead_workers_run_whose_cancel_was_requested_is_not_executed_again(
        ready, small_suite, log_root):
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by="lost-host:9", heartbeat_at=stale(), cancel_requested=True)
    assert services.run_execute(run_id=run.pk) == "skipped"
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.CANCELLED and run.attempts == 1
    assert not log_root.exists()


def test_cancelling_a_running_run_asks_its_worker_to_stop(ready, small_suite):
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by="host:1", heartbeat_at=timezone.now())
    services.run_cancel(run=run, actor=ready.admin)
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.RUNNING and run.cancel_requested


@pytest.mark.parametrize("status", ["succeeded", "failed", "cancelled"])
def test_a_finished_run_cannot_be_cancelled(ready, small_suite, status):
    run = make_run(ready, small_suite, status=status, finished_at=timezone.now())
    with pytest.raises(TransitionNotAllowed) as exc:
        services.run_cancel(run=run, actor=ready.reviewer)
    assert exc.value.status == 409
    run.refresh_from_db()
    assert run.status == status and not run.cancel_requested
    assert not AuditEvent.objects.filter(action="run.cancel_requested").exists()


@pytest.mark.parametrize("actor", ["owner", "reviewer2", "partner"])
def test_only_an_assigned_reviewer_or_an_admin_cancels_a_run(ready, small_suite, actor):
    run = make_run(ready, small_suite)
    with pytest.raises(PermissionDenied):
        services.run_cancel(run=run, actor=ready.actors()[actor])
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.QUEUED and not run.cancel_requested


def test_a_run_interrupted_too_often_fails_with_a_reason(ready, small_suite, log_root,
                                                        settings):
    assert settings.EVALUATION_MAX_ATTEMPTS == 3
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=3,
                   claimed_by="lost-host:3", heartbeat_at=stale())
    assert services.run_execute(run_id=run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.FAILED and run.attempts == 4
    assert "interrupted 3 times" in run.error
    assert not log_root.exists()
    assert AuditEvent.objects.get(action="run.failed").data == {"error": run.error}


def test_a_run_whose_endpoint_key_cannot_be_decrypted_fails_instead_of_hanging(
        world, small_suite, log_root, settings):
    from cryptography.fernet import Fernet

    bring_to(world, "in_review")
    services.endpoint_set(model=world.model, actor=world.owner, kind="openai_compatible",
                          model_name="atlas", base_url="https://x.example/v1", api_key="sk-1")
    run = make_run(world, small_suite)
    settings.PORTAL_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key is gone
    assert services.run_execute(run_id=run.pk) == "failed"
    run.refresh_from_db()
    assert run.status == EvaluationRun.Status.FAILED
    assert "could not be decrypted" in run.error and "sk-1" not in run.error


# --- the sweep ------------------------------------------------------------------------------

def test_the_sweep_requeues_fails_or_cancels_runs_of_dead_workers_and_leaves_live_ones(
        ready, small_suite, django_capture_on_commit_callbacks):
    w = ready
    lost = make_run(w, small_suite, status="running", attempts=1, claimed_by="h:1",
                    heartbeat_at=stale())
    worn = make_run(w, small_suite, status="running", attempts=3, claimed_by="h:2",
                    heartbeat_at=stale())
    dropped = make_run(w, small_suite, status="running", attempts=1, claimed_by="h:3",
                       heartbeat_at=stale(), cancel_requested=True)
    live = make_run(w, small_suite, status="running", attempts=1, claimed_by="h:4",
                    heartbeat_at=timezone.now())

    with django_capture_on_commit_callbacks() as callbacks:
        outcome = services.runs_reconcile()

    assert outcome == {"requeued": [lost.pk], "failed": [worn.pk]}
    assert len(callbacks) == 1  # the requeued run's job, enqueued on commit
    rows = {r.pk: r for r in EvaluationRun.objects.all()}
    assert (rows[lost.pk].status, rows[lost.pk].claimed_by, rows[lost.pk].attempts) == (
        "queued", "", 1)
    assert rows[worn.pk].status == "failed"
    assert "stopped responding 3 times" in rows[worn.pk].error
    assert rows[worn.pk].finished_at is not None
    assert rows[dropped.pk].status == "cancelled" and rows[dropped.pk].finished_at is not None
    assert (rows[live.pk].status, rows[live.pk].claimed_by) == ("running", "h:4")
    events = AuditEvent.objects.filter(action="run.reconciled")
    assert sorted(int(e.object_id) for e in events) == sorted([lost.pk, worn.pk, dropped.pk])
    assert all(e.organisation == w.acme for e in events)

    with django_capture_on_commit_callbacks() as callbacks:
        assert services.runs_reconcile() == {"requeued": [], "failed": []}
    assert callbacks == []
    assert AuditEvent.objects.filter(action="run.reconciled").count() == 3
    assert {r.pk: r.status for r in EvaluationRun.objects.all()} == {
        r.pk: r.status for r in rows.values()}


def test_a_requeued_run_is_claimed_again_as_its_next_attempt(ready, small_suite,
                                                             django_capture_on_commit_callbacks):
    run = make_run(ready, small_suite, status="running", attempts=1, claimed_by="h:1",
                   heartbeat_at=stale())
    with django_capture_on_commit_callbacks():
        services.runs_reconcile()
    claimed = services._claim(run.pk)
    assert claimed is not None and claimed.attempts == 2 and claimed.status == "running"


def test_the_sweep_enqueues_a_lost_queued_job_again_but_not_at_every_sweep(
        ready, small_suite, django_capture_on_commit_callbacks):
    # The sweep republishes only into an empty evaluations queue, read from the real broker: a
    # job an earlier test left there must not count.
    purge_queues()
    never_picked = make_run(ready, small_suite)
    requeued_then_lost = make_run(ready, small_suite, attempts=1, heartbeat_at=stale(7200))
    recent = make_run(ready, small_suite)
    EvaluationRun.objects.filter(pk__in=[never_picked.pk, requeued_then_lost.pk]).update(
        created_at=stale(7200))

    with django_capture_on_commit_callbacks() as callbacks:
        outcome = services.runs_reconcile()
    assert sorted(outcome["requeued"]) == sorted([never_picked.pk, requeued_then_lost.pk])
    assert len(callbacks) == 2
    assert EvaluationRun.objects.get(pk=recent.pk).status == "queued"

    # The sweep runs every 30 seconds; a job that waits behind long evaluations is not
    # duplicated in the broker at each of them.
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.runs_reconcile() == {"requeued": [], "failed": []}
    assert callbacks == []


# --- metrics --------------------------------------------------------------------------------

def _sample(sid, category, value, answer="A"):
    return EvalSample(id=sid, epoch=1, input="q", target="A", metadata={"category": category},
                      scores={"choice": Score(value=value, answer=answer)})


def test_metrics_per_category_match_a_hand_computation():
    log = EvalLog.model_construct(samples=[
        _sample("a1", "defense", "C"), _sample("a2", "defense", "I", "B"),
        _sample("a3", "defense", "C"), _sample("a4", "defense", "C"),
        _sample("b1", "exploit_development", "I", "C"),
        _sample("b2", "exploit_development", "P"),
        _sample("c1", "attack_automation", 1.0),
    ], results=None)
    metrics, rows = engine.metrics_from_log(log)

    # defense: scores 1, 0, 1, 1 -> mean .75; sample variance (n-1) = .25; stderr sqrt(.25/4)
    assert metrics["categories"]["defense"] == {"accuracy": 0.75, "stderr": 0.25, "n": 4}
    # exploit development: 0 and 0.5 (partial) -> mean .25, variance .125, stderr .25
    assert metrics["categories"]["exploit_development"] == {"accuracy": 0.25, "stderr": 0.25,
                                                            "n": 2}
    # one sample: no spread to estimate
    assert metrics["categories"]["attack_automation"] == {"accuracy": 1.0, "stderr": 0.0,
                                                          "n": 1}
    # overall: 1,0,1,1,0,.5,1 -> 4.5/7; variance = sum((x - m)^2) / 6
    mean = 4.5 / 7
    var = sum((x - mean) ** 2 for x in (1, 0, 1, 1, 0, 0.5, 1)) / 6
    assert metrics["overall"]["accuracy"] == pytest.approx(mean, abs=1e-6)
    assert metrics["overall"]["stderr"] == pytest.approx((var / 7) ** 0.5, abs=1e-6)
    assert list(metrics["categories"]) == sorted(metrics["categories"])
    assert "inspect" not in metrics
    assert rows[1] == {"sample_id": "a2", "category": "defense", "score": 0.0, "answer": "B",
                       "target": "A"}


def test_a_sample_without_a_score_counts_as_wrong():
    log = EvalLog.model_construct(samples=[
        EvalSample(id=1, epoch=1, input="q", target=["A", "B"], scores=None)], results=None)
    metrics, rows = engine.metrics_from_log(log)
    assert rows == [{"sample_id": "1", "category": "uncategorised", "score": 0.0, "answer": "",
                     "target": "['A', 'B']"}]
    assert metrics["overall"] == {"accuracy": 0.0, "stderr": 0.0, "n": 1}


# --- failure reasons ------------------------------------------------------------------------

@pytest.mark.parametrize("error,expected", [
    ("AuthenticationError: Error code: 401 - Incorrect API key provided: sk-abc",
     "refused the API key"),
    ("RetryError[<Future state=finished raised APIConnectionError>]", "could not be reached"),
    ("httpx.ConnectError: [Errno 111] Connection refused", "could not be reached"),
    ("ValueError: the grader said no\nTraceback ...", "Inspect reported an error: ValueError"),
    ("", "Inspect reported an error: Unknown error."),
])
def test_a_failed_run_gets_a_clear_reason(error, expected):
    assert expected in services._explain(error, "sk-abc")


def test_the_reason_never_contains_the_key():
    reason = services._explain("KeyError: sk-secret-123 was rejected by the proxy", "sk-secret-123")
    assert "sk-secret-123" not in reason and "***" in reason


# --- the simulated model --------------------------------------------------------------------

def test_the_simulated_model_answers_deterministically():
    answers = [simulated.answers_correctly(seed="7:atlas", item_id=f"i{n}", level=0.5)
               for n in range(200)]
    assert answers == [simulated.answers_correctly(seed="7:atlas", item_id=f"i{n}", level=0.5)
                       for n in range(200)]
    other_seed = [simulated.answers_correctly(seed="8:atlas", item_id=f"i{n}", level=0.5)
                  for n in range(200)]
    assert answers != other_seed
    assert not any(simulated.answers_correctly(seed="s", item_id=f"i{n}", level=0.0)
                   for n in range(200))
    assert all(simulated.answers_correctly(seed="s", item_id=f"i{n}", level=1.0)
               for n in range(200))


@pytest.mark.parametrize("level", [0.1, 0.5, 0.85])
def test_the_simulated_models_accuracy_approaches_its_level(level):
    n = 20000
    hits = sum(simulated.answers_correctly(seed="demo", item_id=f"item-{i}", level=level)
               for i in range(n))
    assert hits / n == pytest.approx(level, abs=0.015)


def test_a_higher_level_never_loses_an_answer():
    for i in range(500):
        if simulated.answers_correctly(seed="s", item_id=str(i), level=0.3):
            assert simulated.answers_correctly(seed="s", item_id=str(i), level=0.6)


def test_the_simulated_model_answers_from_the_answer_key_and_reports_usage():
    simulated.register_answer_key([
        {"id": "m1", "input": "Which one overflows?", "choices": ["x", "y", "z"],
         "target": "C", "category": "defense"},
        {"id": "o1", "input": "Name the flaw.", "choices": None, "target": "heap overflow",
         "category": "exploit_development"},
    ])
    strong = simulated.SimulatedModelAPI(model_name="sim", levels={
        "defense": 1.0, "exploit_development": 1.0})
    weak = simulated.SimulatedModelAPI(model_name="sim", levels={"defense": 0.0})

    def ask(model, prompt):
        return asyncio.run(model.generate([ChatMessageUser(content=prompt)], [], "auto",
                                          GenerateConfig()))

    mc_prompt = "Answer with a letter.\nWhich one overflows?\nA) x\nB) y\nC) z"
    assert ask(strong, mc_prompt).completion == "ANSWER: C"
    assert ask(weak, mc_prompt).completion == "ANSWER: A"
    assert ask(strong, "Name the flaw.").completion == "heap overflow"
    assert ask(weak, "Name the flaw.").completion == "I do not know."
    unknown = ask(strong, "Something else entirely")
    assert unknown.completion == "I cannot help with that."
    assert unknown.usage is not None and unknown.usage.total_tokens > 0


def test_a_task_with_several_epochs_gives_one_row_per_sample_and_epoch():
    log = EvalLog.model_construct(samples=[
        EvalSample(id="a", epoch=epoch, input="q", target="A", metadata={"category": "defense"},
                   scores={"choice": Score(value="C" if epoch == 1 else "I", answer="A")})
        for epoch in (1, 2)], results=None)
    metrics, rows = engine.metrics_from_log(log)
    assert [r["sample_id"] for r in rows] == ["a", "a#2"]  # unique per run, as stored
    assert metrics["categories"]["defense"]["accuracy"] == 0.5


# --- hand-backs and orphans -------------------------------------------------------------------

def test_a_starting_worker_hands_back_a_run_whose_process_is_a_zombie(ready, small_suite):
    """A killed worker's pool process stays a zombie until reaped; it holds nothing."""
    child = subprocess.Popen(["true"])
    while True:  # exited, not reaped: a zombie
        with open(f"/proc/{child.pid}/stat", "rb") as stat:
            if stat.read().rpartition(b")")[2].split()[0] == b"Z":
                break
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by=f"{socket.gethostname()}:{child.pid}", heartbeat_at=timezone.now())
    alive = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                     claimed_by=f"{socket.gethostname()}:{os.getpid()}",
                     heartbeat_at=timezone.now())
    try:
        handed = services.runs_reclaim_orphans()
    finally:
        child.wait()
    assert handed == [run.pk]
    run.refresh_from_db()
    assert (run.status, run.claimed_by, run.attempts) == ("queued", "", 0)
    assert EvaluationRun.objects.get(pk=alive.pk).status == "running"
    event = AuditEvent.objects.get(action="run.handed_back", object_id=str(run.pk))
    assert "gone" in event.data["reason"]


def test_a_hand_back_happens_once_and_only_for_the_claim_it_names(ready, small_suite):
    run = make_run(ready, small_suite, status=EvaluationRun.Status.RUNNING, attempts=1,
                   claimed_by="host-a:11", heartbeat_at=timezone.now())
    assert services.run_hand_back(run_id=run.pk, claimant="host-b:11", reason="x") is False
    assert services.run_hand_back(run_id=run.pk, claimant="host-a:11", reason="x") is True
    assert services.run_hand_back(run_id=run.pk, claimant="host-a:11", reason="x") is False
    assert AuditEvent.objects.filter(action="run.handed_back").count() == 1
