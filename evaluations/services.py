"""Writes for suites, endpoints and evaluation runs. `run_execute` is what the worker calls."""

import csv
import hashlib
import io
import json
import logging
import os
import socket
from contextlib import closing
from datetime import timedelta
from pathlib import PurePosixPath
from typing import IO

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from evaluations.models import (
    BenchmarkSuite,
    Capability,
    EvaluationEndpoint,
    EvaluationRun,
    SampleResult,
    SuiteVersion,
)
from review_portal.crypto import decrypt_bytes, encrypt_bytes
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse
from review_portal.storage import (
    EVALUATION_LOGS,
    inspect_log_dir,
    inspect_s3_environment,
    is_s3,
    is_storage_error,
    log_name_from_location,
    open_stream,
)
from submissions.models import FrontierModel, ReviewRequest

logger = logging.getLogger(__name__)

MAX_SUITE_ITEMS = 5000
RUNNABLE_STATES = (ReviewRequest.Status.IN_REVIEW, ReviewRequest.Status.INFORMATION_REQUESTED)


def _require_program_admin(actor: User) -> None:
    if not policy.is_program_admin(actor):
        raise PermissionDenied("Only program admins manage benchmark suites.")


# --- suites ---------------------------------------------------------------------------------

def parse_dataset(*, filename: str, content: bytes) -> list[dict]:
    """Read a JSONL or CSV dataset: input, choices (optional), target, category, id (optional).

    In CSV, choices are separated by '|'. Errors name the line, so an admin can fix the file.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApplicationError("The dataset is not UTF-8 text.", field="file") from exc
    lower = filename.lower()
    rows: list[dict] = []
    if lower.endswith(".jsonl"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise ApplicationError(f"Line {number} is not valid JSON: {exc}.",
                                       field="file") from exc
            if not isinstance(row, dict):
                raise ApplicationError(f"Line {number} is not a JSON object.", field="file")
            rows.append(row)
    elif lower.endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        for row in reader:
            choices = (row.get("choices") or "").strip()
            rows.append({**row, "choices": [c.strip() for c in choices.split("|")]
                         if choices else None})
    else:
        raise ApplicationError("Upload a .jsonl or .csv dataset.", field="file")
    if not rows:
        raise ApplicationError("The dataset has no samples.", field="file")
    if len(rows) > MAX_SUITE_ITEMS:
        raise ApplicationError(f"A suite holds at most {MAX_SUITE_ITEMS} samples.", field="file")
    items, seen = [], set()
    for number, row in enumerate(rows, start=1):
        item_id = str(row.get("id") or f"s{number}")
        text_input = str(row.get("input") or "").strip()
        target = str(row.get("target") or "").strip()
        category = str(row.get("category") or "").strip()
        choices = row.get("choices") or None
        if not text_input or not target:
            raise ApplicationError(f"Sample {number} needs an input and a target.", field="file")
        if category not in Capability.values:
            raise ApplicationError(
                f"Sample {number} has category {category!r}; use one of "
                f"{', '.join(Capability.values)}.", field="file")
        if choices is not None and (not isinstance(choices, list) or len(choices) < 2):
            raise ApplicationError(f"Sample {number}: choices must be a list of at least two.",
                                   field="file")
        if item_id in seen:
            raise ApplicationError(f"Sample id {item_id!r} appears twice.", field="file")
        seen.add(item_id)
        items.append({"id": item_id, "input": text_input,
                      "choices": [str(c) for c in choices] if choices else None,
                      "target": target, "category": category})
    return items


def content_hash(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":"))
                          .encode()).hexdigest()


def _validate_solver_scorer(*, items: list[dict], solver: str, scorer: str,
                            grader_model: str) -> None:
    if solver not in SuiteVersion.Solver.values:
        raise ApplicationError("Choose a solver.", field="solver")
    if scorer not in SuiteVersion.Scorer.values:
        raise ApplicationError("Choose a scorer.", field="scorer")
    has_choices = all(item["choices"] for item in items)
    if solver == SuiteVersion.Solver.MULTIPLE_CHOICE and not has_choices:
        raise ApplicationError("The multiple-choice solver needs choices on every sample.",
                               field="solver")
    if solver == SuiteVersion.Solver.MULTIPLE_CHOICE:
        # Inspect's choice scorer compares letters: a target written as the choice's text (or a
        # letter past the last choice) would silently score every answer wrong.
        for number, item in enumerate(items, start=1):
            letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[: len(item["choices"])]
            if item["target"] not in letters:
                raise ApplicationError(
                    f"Sample {number}: with multiple choice, the target must be one of the "
                    f"letters {', '.join(letters)}, not {item['target']!r}.", field="file")
    if (scorer == SuiteVersion.Scorer.CHOICE) != (solver == SuiteVersion.Solver.MULTIPLE_CHOICE):
        raise ApplicationError("The choice scorer goes with the multiple-choice solver, and only "
                               "with it.", field="scorer")
    if scorer == SuiteVersion.Scorer.MODEL_GRADED_QA and not grader_model.strip():
        raise ApplicationError("Name the grader model for model-graded scoring.",
                               field="grader_model")


@transaction.atomic
def suite_version_create(*, actor: User, suite_name: str, description: str = "",
                         filename: str = "", content: bytes = b"", solver: str = "",
                         scorer: str = "", grader_model: str = "", registry_name: str = "",
                         task_args: dict | None = None) -> SuiteVersion:
    """Create a suite (or a new version of it) from a dataset file or an installed Inspect task.

    Versions are never edited: a change is a new version with its own content hash.
    """
    _require_program_admin(actor)
    suite_name = (suite_name or "").strip()
    if not suite_name:
        raise ApplicationError("Name the suite.", field="suite_name")
    registry_name = (registry_name or "").strip()
    if registry_name:
        if not isinstance(task_args, dict | None):
            raise ApplicationError("Task arguments must be a JSON object.", field="task_args")
        payload = {"registry_name": registry_name, "task_args": task_args or {}}
        fields = {"source": SuiteVersion.Source.REGISTRY, **payload}
    else:
        items = parse_dataset(filename=filename, content=content)
        _validate_solver_scorer(items=items, solver=solver, scorer=scorer,
                                grader_model=grader_model)
        payload = {"items": items, "solver": solver, "scorer": scorer,
                   "grader_model": grader_model.strip()}
        fields = {"source": SuiteVersion.Source.DATASET, **payload}
    suite, _ = BenchmarkSuite.objects.get_or_create(
        name=suite_name, defaults={"description": description or "", "created_by": actor})
    suite = BenchmarkSuite.objects.select_for_update().get(pk=suite.pk)
    number = (suite.versions.order_by("-number").values_list("number", flat=True).first() or 0)
    items = fields.get("items", [])
    version = SuiteVersion(suite=suite, number=number + 1, created_by=actor,
                           content_hash=content_hash(payload), item_count=len(items),
                           categories=sorted({item["category"] for item in items}), **fields)
    version.full_clean()
    version.save()
    audit_record(actor=actor, action="suite.version_created", obj=version,
                 data={"suite": suite.name, "number": version.number,
                       "hash": version.content_hash})
    return version


# --- the model under test -------------------------------------------------------------------

@transaction.atomic
def endpoint_set(*, model: FrontierModel, actor: User, kind: str, model_name: str,
                 base_url: str = "", api_key: str | None = None,
                 simulated_levels: dict | None = None,
                 simulated_latency_ms: int = 0) -> EvaluationEndpoint:
    """Set the model's evaluation endpoint. An omitted api_key keeps the stored one."""
    if not policy.is_developer_of(actor, model):
        raise PermissionDenied("Only the developer organisation sets its evaluation endpoint.")
    if kind not in EvaluationEndpoint.Kind.values:
        raise ApplicationError("Choose the kind of endpoint.", field="kind")
    model_name = (model_name or "").strip()
    if not model_name:
        raise ApplicationError("Give the model's name at the endpoint.", field="model_name")
    endpoint = EvaluationEndpoint.objects.filter(model=model).first() or EvaluationEndpoint(
        model=model)
    levels = {}
    if kind == EvaluationEndpoint.Kind.OPENAI_COMPATIBLE:
        if not (base_url or "").startswith(("http://", "https://")):
            raise ApplicationError("Give the endpoint's base URL (http or https).",
                                   field="base_url")
        if not api_key and not endpoint.api_key_encrypted:
            raise ApplicationError("Give the API key the portal should use.", field="api_key")
    else:
        for category, level in (simulated_levels or {}).items():
            if category not in Capability.values:
                raise ApplicationError(f"Unknown capability category {category!r}.",
                                       field="simulated_levels")
            if not isinstance(level, int | float) or not 0 <= level <= 1:
                raise ApplicationError("Capability levels are numbers from 0 to 1.",
                                       field="simulated_levels")
            levels[category] = float(level)
    endpoint.kind, endpoint.model_name, endpoint.updated_by = kind, model_name, actor
    endpoint.base_url = base_url if kind == EvaluationEndpoint.Kind.OPENAI_COMPATIBLE else ""
    endpoint.simulated_levels = levels
    endpoint.simulated_latency_ms = max(0, int(simulated_latency_ms or 0))
    if api_key:
        endpoint.api_key_encrypted = encrypt_bytes(api_key.encode()).decode()
    if kind == EvaluationEndpoint.Kind.SIMULATED:
        endpoint.api_key_encrypted = ""
    endpoint.full_clean()
    endpoint.save()
    # The key itself is never recorded; only that it changed.
    audit_record(actor=actor, action="endpoint.set", obj=endpoint,
                 organisation=model.organisation,
                 data={"kind": kind, "model_name": model_name, "base_url": endpoint.base_url,
                       "api_key_changed": bool(api_key)})
    return endpoint


def endpoint_model_spec(endpoint: EvaluationEndpoint):
    from evaluations.spec import ModelSpec

    if endpoint.kind == EvaluationEndpoint.Kind.SIMULATED:
        return ModelSpec(
            model=f"portalsim/{endpoint.model_name}",
            identity=f"portalsim/{endpoint.model_name} (simulated; levels "
                     f"{json.dumps(endpoint.simulated_levels, sort_keys=True)})",
            model_args={"levels": endpoint.simulated_levels,
                        "latency_ms": endpoint.simulated_latency_ms,
                        "seed": f"{endpoint.model_id}:{endpoint.model_name}"})
    key = decrypt_bytes(endpoint.api_key_encrypted.encode()).decode()
    return ModelSpec(model=f"openai-api/portal/{endpoint.model_name}",
                     identity=f"{endpoint.model_name} at {endpoint.base_url}",
                     base_url=endpoint.base_url, model_args={"api_key": key})


# --- runs -----------------------------------------------------------------------------------

NOT_ASSIGNED = "Only a reviewer assigned to this request starts evaluations."
NO_ENDPOINT = "The developer has not given an evaluation endpoint yet."


def _not_runnable(review_request: ReviewRequest) -> str:
    return (f"Evaluations run while the request is in review; request #{review_request.pk} is "
            f"{review_request.get_status_display().lower()}.")


def run_start_refusal(*, actor, review_request: ReviewRequest, has_endpoint: bool) -> str | None:
    """Why `actor` cannot start a run on the request now, or None: the rules `run_start`
    enforces, read from the loaded row (the page offers "Run the suite" only when None)."""
    if not policy.is_assigned_reviewer(actor, review_request):
        return NOT_ASSIGNED
    if review_request.status not in RUNNABLE_STATES:
        return _not_runnable(review_request)
    if not has_endpoint:
        return NO_ENDPOINT
    return None


@transaction.atomic
def run_start(*, review_request: ReviewRequest, suite_version: SuiteVersion,
              actor: User, repeat: bool = False) -> EvaluationRun:
    """Queue a run of the suite against the model. While one is queued or running for the same
    request and suite version, another is refused unless `repeat` is asked for explicitly (a
    double click, a retried request or 20 at once start one run)."""
    if not policy.is_assigned_reviewer(actor, review_request):
        raise PermissionDenied(NOT_ASSIGNED)
    # Serialise starts on the request: the check below then sees every committed run, and the
    # partial unique constraint is the backstop.
    review_request = ReviewRequest.objects.select_for_update().get(pk=review_request.pk)
    active = EvaluationRun.objects.filter(
        request=review_request, suite_version=suite_version,
        status__in=EvaluationRun.ACTIVE).order_by("-created_at").first()
    if active is not None and not repeat:
        raise ApplicationError(
            f"Run #{active.pk} of {suite_version} is already {active.get_status_display().lower()}"
            " for this request. Wait for it, or ask for a repeat to start another.",
            status=409, code="run_active")
    if review_request.status not in RUNNABLE_STATES:
        raise TransitionNotAllowed(_not_runnable(review_request))
    endpoint = EvaluationEndpoint.objects.filter(model=review_request.model).first()
    if endpoint is None:
        raise ApplicationError(NO_ENDPOINT, status=409)
    spec = endpoint_model_spec(endpoint)
    parameters = {
        "solver": suite_version.solver, "scorer": suite_version.scorer,
        "grader_model": suite_version.grader_model,
        "registry_name": suite_version.registry_name, "task_args": suite_version.task_args,
        "max_samples": settings.EVALUATION_MAX_SAMPLES,
        "time_limit": settings.EVALUATION_SAMPLE_TIME_LIMIT,
        "timeout": settings.EVALUATION_HTTP_TIMEOUT,
        "max_retries": settings.EVALUATION_HTTP_MAX_RETRIES,
        "endpoint_kind": endpoint.kind,
    }
    from evaluations.spec import INSPECT_VERSION

    run = EvaluationRun(request=review_request, suite_version=suite_version, started_by=actor,
                        suite_hash=suite_version.content_hash, inspect_version=INSPECT_VERSION,
                        model_identity=spec.identity, parameters=parameters,
                        samples_total=suite_version.item_count, is_repeat=active is not None)
    save_or_refuse(run)
    audit_record(actor=actor, action="run.started", obj=run,
                 organisation=review_request.model.organisation,
                 data={"request": review_request.pk, "suite": str(suite_version),
                       "hash": suite_version.content_hash})
    _enqueue(run.pk)
    return run


RUN_TASK = "evaluations.run_evaluation"


def run_ref(run_id: int) -> str:
    return f"evaluations.evaluationrun:{run_id}"


def _enqueue(run_id: int, *, publish_now: bool = True) -> None:
    """Record the run's job in the outbox, with the caller's transaction. Recovery of a lost
    message is this module's (runs_reconcile), not the outbox's: a queued run may rightly wait
    for hours behind others."""
    from jobs.services import job_enqueue

    job_enqueue(task=RUN_TASK, kwargs={"run_id": run_id}, ref=run_ref(run_id),
                redeliver_after=None, publish_now=publish_now)


@transaction.atomic
def run_cancel(*, run: EvaluationRun, actor: User) -> EvaluationRun:
    if not (policy.is_program_admin(actor) or policy.is_assigned_reviewer(actor, run.request)):
        raise PermissionDenied("Only an assigned reviewer or a program admin cancels a run.")
    run = EvaluationRun.objects.select_for_update().get(pk=run.pk)
    if run.cancel_requested:
        return run  # asked already: a repeated cancel changes and records nothing
    if run.is_finished:
        raise TransitionNotAllowed(f"The run has already {run.get_status_display().lower()}.")
    run.cancel_requested = True
    fields = ["cancel_requested"]
    if run.status == EvaluationRun.Status.QUEUED:
        # Not started: nothing to stop. A worker that picks the job up later skips it.
        run.status, run.finished_at = EvaluationRun.Status.CANCELLED, timezone.now()
        fields += ["status", "finished_at"]
    run.save(update_fields=fields)
    audit_record(actor=actor, action="run.cancel_requested", obj=run,
                 organisation=run.request.model.organisation)
    return run


def run_log_open(*, run: EvaluationRun, actor: User) -> tuple[str, IO[bytes], int | None]:
    """The run's Inspect log, opened for streaming from the log storage (this host's disk or the
    bucket every host shares): name, file-like body, size. Opened first, then recorded: only a
    download that starts is audited. A log that is not there is a clear 404, a storage that does
    not answer a 503, never a server error. The caller closes the body (a FileResponse does)."""
    if not run.log_path:
        raise ApplicationError("This run has no Inspect log.", status=404, code="not_found")
    try:
        body, size = open_stream(storages[EVALUATION_LOGS], run.log_path)
    except FileNotFoundError as exc:
        raise ApplicationError("This run has no Inspect log.", status=404,
                               code="not_found") from exc
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        logger.error("Could not read the log of run %s: %s: %s", run.pk, type(exc).__name__,
                     exc)
        raise ApplicationError("The portal could not read the log from its storage. Try again "
                               "later.", status=503, code="storage_unavailable") from exc
    try:
        audit_record(actor=actor, action="run.log_downloaded", obj=run,
                     organisation=run.request.model.organisation)
    except BaseException:
        body.close()
        raise
    return PurePosixPath(run.log_path).name, body, size


def run_log_read(*, run: EvaluationRun, actor: User) -> tuple[str, bytes]:
    """The run's Inspect log, whole (run_log_open streams it)."""
    name, body, _ = run_log_open(run=run, actor=actor)
    with closing(body):
        return name, body.read()


# --- execution (in the worker) --------------------------------------------------------------

def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimant_gone(run: EvaluationRun) -> bool:
    """The worker that claimed the run is dead: its heartbeat is stale, or it was a process on
    this host that no longer exists (a prefork child killed mid-run)."""
    stale = timezone.now() - timedelta(
        seconds=settings.EVALUATION_HEARTBEAT_STALE_SECONDS)
    if run.heartbeat_at is None or run.heartbeat_at < stale:
        return True
    host, _, pid = run.claimed_by.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _process_alive(int(pid))
    return False


def _process_alive(pid: int) -> bool:
    """A zombie is dead too: a killed worker's pool processes stay zombies until something reaps
    them, and in a container without an init nothing may."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rpartition(b")")[2].split()[0]
    except (OSError, IndexError):
        return True
    return state != b"Z"


def _claim(run_id: int) -> EvaluationRun | None:
    """Take the run for this process with a conditional update; None if someone else has it."""
    now = timezone.now()
    claim = {"status": EvaluationRun.Status.RUNNING, "started_at": now, "heartbeat_at": now,
             "attempts": F("attempts") + 1, "claimed_by": _me(), "samples_done": 0}
    if EvaluationRun.objects.filter(pk=run_id, status=EvaluationRun.Status.QUEUED,
                                    cancel_requested=False).update(**claim):
        return EvaluationRun.objects.get(pk=run_id)
    run = EvaluationRun.objects.filter(pk=run_id).first()
    if run is None or run.status != EvaluationRun.Status.RUNNING or not _claimant_gone(run):
        return None
    unchanged = EvaluationRun.objects.filter(pk=run_id, status=EvaluationRun.Status.RUNNING,
                                             claimed_by=run.claimed_by, attempts=run.attempts)
    if run.cancel_requested:
        # The dead worker was asked to stop: close the run as cancelled, do not start it again.
        unchanged.update(status=EvaluationRun.Status.CANCELLED, finished_at=now)
        return None
    # Take over from a dead worker, only if nobody else did in the meantime.
    if unchanged.update(**claim):
        return EvaluationRun.objects.get(pk=run_id)
    return None


# What botocore says when the portal's own object store (not the developer's endpoint) failed
# under Inspect: it could not be reached, or it refused the request.
STORAGE_ERRORS = ("endpointconnectionerror", "could not connect to the endpoint url",
                  "nosuchbucket", "s3uploadfailederror", "when calling the putobject",
                  "when calling the uploadpart", "when calling the createmultipartupload",
                  "when calling the completemultipartupload", "when calling the headobject",
                  "when calling the getobject")


def _explain(error: str, secret: str | None) -> str:
    """A clear reason for a failed run, never containing the key (nor where the storage is)."""
    message = error.replace(secret, "***") if secret else error
    lowered = message.lower()
    if is_s3(storages[EVALUATION_LOGS]) and any(s in lowered for s in STORAGE_ERRORS):
        return ("The evaluation log could not be written to the portal's storage (the object "
                "store did not answer or refused it). Nothing is wrong with the model's "
                "endpoint: start the run again once the storage is back.")
    if "401" in message or "incorrect api key" in lowered or "authentication" in lowered:
        return ("The evaluation endpoint refused the API key (HTTP 401). The developer should "
                "check the key on the model's endpoint settings.")
    if any(s in lowered for s in ("retryerror", "connecterror", "connection error",
                                  "connection refused", "timed out", "apiconnectionerror")):
        return ("The evaluation endpoint could not be reached (connection failed after "
                "retries). Check that the base URL is right and the service is up.")
    first_line = message.strip().splitlines()[0] if message.strip() else "Unknown error."
    return f"Inspect reported an error: {first_line[:500]}"


def run_execute(*, run_id: int) -> str:
    """Execute a queued run (or take over one whose worker died). Safe to call twice: only the
    process holding the claim writes the result, exactly once."""
    from evaluations import engine, simulated

    run = _claim(run_id)
    if run is None:
        return "skipped"
    me, attempt = run.claimed_by, run.attempts
    if attempt > settings.EVALUATION_MAX_ATTEMPTS:
        _finish(run_id, me, attempt, status=EvaluationRun.Status.FAILED,
                error=f"The evaluation was interrupted {attempt - 1} times (worker lost); "
                      "giving up.")
        return "failed"
    version = run.suite_version
    try:
        endpoint = EvaluationEndpoint.objects.get(model=run.request.model)
        spec = endpoint_model_spec(endpoint)
    except InvalidToken:
        # Retrying cannot help (the key it was encrypted with is no longer configured); failing
        # now gives the reason instead of a run that is retried until the sweep gives up.
        _finish(run_id, me, attempt, status=EvaluationRun.Status.FAILED,
                error="The endpoint's API key could not be decrypted (its encryption key is no "
                      "longer configured). The developer should set the key again.")
        return "failed"
    except EvaluationEndpoint.DoesNotExist:
        _finish(run_id, me, attempt, status=EvaluationRun.Status.FAILED,
                error="The model has no evaluation endpoint any more.")
        return "failed"
    secret = spec.model_args.get("api_key")
    os.environ.setdefault("XDG_DATA_HOME", str(settings.INSPECT_DATA_DIR))
    # In S3 mode Inspect writes the log straight into the shared bucket; its S3 clients take
    # the endpoint and keys from the environment (review_portal.storage says why).
    os.environ.update(inspect_s3_environment())
    log_dir = inspect_log_dir(f"run-{run.pk}/attempt-{attempt}")
    if version.source == SuiteVersion.Source.DATASET:
        simulated.register_answer_key(version.items)
        task = engine.build_task(items=version.items, solver=version.solver,
                                 scorer=version.scorer, grader_model=version.grader_model)
    else:
        task = version.registry_name
    p = run.parameters
    limits = {"max_samples": p["max_samples"], "time_limit": p["time_limit"],
              "timeout": p["timeout"], "max_retries": p["max_retries"]}

    def report(samples_done: int) -> bool:
        """Heartbeat and progress; True means stop (cancel requested, or the run was taken
        over by another process)."""
        alive = EvaluationRun.objects.filter(pk=run_id, claimed_by=me, attempts=attempt).update(
            heartbeat_at=timezone.now(), samples_done=samples_done)
        if not alive:
            return True
        return EvaluationRun.objects.filter(pk=run_id, cancel_requested=True).exists()

    try:
        outcome = engine.run_task(task=task, task_args=version.task_args or None, spec=spec,
                                  log_dir=log_dir, metadata={"portal_run": run.pk},
                                  limits=limits, report=report)
    except Exception as exc:  # Inspect raised instead of returning an error log
        _finish(run_id, me, attempt, status=EvaluationRun.Status.FAILED,
                error=_explain(f"{type(exc).__name__}: {exc}", secret))
        return "failed"
    log_path = log_name_from_location(outcome.log_file) if outcome.log_file else ""
    if outcome.status == "cancelled":
        _finish(run_id, me, attempt, status=EvaluationRun.Status.CANCELLED, log_path=log_path)
        return "cancelled"
    if outcome.status == "error":
        _finish(run_id, me, attempt, status=EvaluationRun.Status.FAILED, log_path=log_path,
                error=_explain(outcome.error, secret))
        return "failed"
    metrics, rows = engine.metrics_from_log(outcome.log, rows=outcome.rows)
    written = _finish(run_id, me, attempt, status=EvaluationRun.Status.SUCCEEDED,
                      log_path=log_path, metrics=metrics, rows=rows)
    return "succeeded" if written else "skipped"


def _finish(run_id: int, me: str, attempt: int, *, status: str, error: str = "",
            log_path: str = "", metrics: dict | None = None, rows: list | None = None) -> bool:
    """Write the result once: only the claim holder, only while the run is still running."""
    with transaction.atomic():
        # Lock the run row only (OF self): locking the joined request, model and organisation
        # too deadlocked with any transaction that holds the audit chain's head and references
        # the organisation (a run start, whose audit event's foreign key takes a share lock on
        # it), once two workers finished runs while a reviewer started others.
        run = EvaluationRun.objects.select_for_update(of=("self",)).select_related(
            "request__model__organisation").get(pk=run_id)
        if (run.status != EvaluationRun.Status.RUNNING or run.claimed_by != me
                or run.attempts != attempt):
            return False
        run.status, run.error, run.finished_at = status, error, timezone.now()
        run.log_path, run.metrics = log_path, metrics or {}
        if rows is not None:
            SampleResult.objects.bulk_create([SampleResult(run=run, **row) for row in rows])
            run.samples_done = len(rows)
        run.save()
        audit_record(actor=None, action=f"run.{status}", obj=run,
                     organisation=run.request.model.organisation,
                     data={"error": error} if error else {"overall": run.metrics.get("overall")})
    return True


def run_hand_back(*, run_id: int, claimant: str, reason: str, publish_now: bool = True) -> bool:
    """A worker that is stopping gives its running evaluation back at once: the run is queued
    again for any worker to take over (its next claim starts afresh), and the hand-back does not
    count as an attempt. The evaluating process sees its claim gone within a heartbeat and
    cancels Inspect's scope; it writes nothing. Conditional on the claim, so it runs once."""
    with transaction.atomic():
        unchanged = EvaluationRun.objects.filter(pk=run_id, status=EvaluationRun.Status.RUNNING,
                                                 claimed_by=claimant)
        if not unchanged.update(status=EvaluationRun.Status.QUEUED, claimed_by="",
                                attempts=F("attempts") - 1, heartbeat_at=timezone.now(),
                                samples_done=0):
            return False
        run = EvaluationRun.objects.select_related("request__model__organisation").get(pk=run_id)
        audit_record(actor=None, action="run.handed_back", obj=run,
                     organisation=run.request.model.organisation,
                     data={"worker": claimant, "reason": reason})
        _enqueue(run_id, publish_now=publish_now)
    return True


def runs_hand_back(*, claimants: list[str], reason: str) -> list[int]:
    """Hand back every run held by these worker processes ("host:pid"). Called by a worker's
    main process: the outbox relay publishes the jobs."""
    run_ids = EvaluationRun.objects.filter(
        status=EvaluationRun.Status.RUNNING, claimed_by__in=claimants,
    ).values_list("pk", "claimed_by")
    return [pk for pk, claimant in list(run_ids)
            if run_hand_back(run_id=pk, claimant=claimant, reason=reason, publish_now=False)]


def runs_reclaim_orphans() -> list[int]:
    """At a worker's start: runs still `running` under a process of this host that no longer
    exists (a worker killed with SIGKILL, a machine restarted) are handed back at once, without
    waiting for the heartbeat to go stale or for beat."""
    host = socket.gethostname()
    orphans = []
    for run in EvaluationRun.objects.filter(status=EvaluationRun.Status.RUNNING,
                                            claimed_by__startswith=f"{host}:"):
        if _claimant_gone(run):
            orphans.append(run)
    return [run.pk for run in orphans
            if run_hand_back(run_id=run.pk, claimant=run.claimed_by, publish_now=False,
                             reason="its worker process was gone when a worker started")]


# A queued run whose job was published this long ago, while the evaluations queue is empty and
# nothing runs it, lost its message (a broker restarted without persistence, a consumer killed).
LOST_MESSAGE_AFTER = timedelta(seconds=60)


def _evaluations_queue_depth() -> int | None:
    """Messages waiting in the evaluations queue; None when the broker does not answer (then
    nothing is republished)."""
    from jobs.selectors import broker_depths

    depths, _ = broker_depths([settings.EVALUATIONS_QUEUE])
    return None if depths is None else depths.get(settings.EVALUATIONS_QUEUE)


def runs_reconcile() -> dict:
    """The sweep: a running run whose worker died is queued again (or failed after too many
    attempts, or closed as cancelled if a cancel was requested); a queued run whose job was lost
    is enqueued again. Harmless when run twice: every change is a conditional update on the
    state that was read, and claims are conditional, so a duplicate job finds nothing to do."""
    requeued, failed = [], []
    now = timezone.now()
    stale = now - timedelta(seconds=settings.EVALUATION_HEARTBEAT_STALE_SECONDS)
    runs = EvaluationRun.objects.filter(
        status=EvaluationRun.Status.RUNNING, heartbeat_at__lt=stale
    ).select_related("request__model__organisation")
    for run in runs:
        # The heartbeat is part of the condition: a worker that beat since the read above is
        # alive, and keeps its run.
        unchanged = EvaluationRun.objects.filter(
            pk=run.pk, status=EvaluationRun.Status.RUNNING, attempts=run.attempts,
            claimed_by=run.claimed_by, heartbeat_at__lt=stale)
        with transaction.atomic():
            if run.cancel_requested:
                outcome = EvaluationRun.Status.CANCELLED
                changed = unchanged.update(status=outcome, finished_at=now)
            elif run.attempts >= settings.EVALUATION_MAX_ATTEMPTS:
                outcome = EvaluationRun.Status.FAILED
                changed = unchanged.update(
                    status=outcome, finished_at=now,
                    error=f"The worker running this evaluation stopped responding "
                          f"{run.attempts} times; giving up.")
                if changed:
                    failed.append(run.pk)
            else:
                # For a queued run, heartbeat_at is when it was last enqueued (see below).
                outcome = EvaluationRun.Status.QUEUED
                changed = unchanged.update(status=outcome, claimed_by="", heartbeat_at=now)
                if changed:
                    requeued.append(run.pk)
                    _enqueue(run.pk)
            if changed:
                audit_record(actor=None, action="run.reconciled", obj=run,
                             organisation=run.request.model.organisation,
                             data={"attempts": run.attempts, "outcome": str(outcome)})
    # A queued run whose job is still waiting in the outbox needs nothing: the relay publishes
    # it within seconds of the broker taking messages. One whose job was published but whose
    # message is gone is published again: the run is queued, its job published a while ago, and
    # the evaluations queue holds nothing (a message waiting behind long evaluations would be
    # counted there). heartbeat_at of a queued run is when it was last enqueued.
    from jobs.models import OutboxMessage

    lost = now - LOST_MESSAGE_AFTER
    waiting = Q(heartbeat_at__isnull=True, created_at__lt=lost) | Q(heartbeat_at__lt=lost)
    candidates = list(EvaluationRun.objects.filter(
        waiting, status=EvaluationRun.Status.QUEUED, cancel_requested=False,
    ).values_list("pk", flat=True))
    if candidates:
        unpublished = set(OutboxMessage.objects.filter(
            ref__in=[run_ref(pk) for pk in candidates],
            state=OutboxMessage.State.WAITING).values_list("ref", flat=True))
        candidates = [pk for pk in candidates if run_ref(pk) not in unpublished]
    if candidates and _evaluations_queue_depth() == 0:
        for run_id in candidates:
            with transaction.atomic():
                if EvaluationRun.objects.filter(waiting, pk=run_id,
                                                status=EvaluationRun.Status.QUEUED).update(
                        heartbeat_at=now):
                    _enqueue(run_id)
                    requeued.append(run_id)
    return {"requeued": requeued, "failed": failed}
