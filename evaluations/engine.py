"""Runs one evaluation with Inspect, in the calling process.

Inspect allows one evaluation per process and starts its own event loop, so a Celery worker must
use the prefork pool. The run is bounded by Inspect's own limits and stopped by our cancellation
(a watcher polls the run's cancel flag and cancels the evaluation's scope), not by Celery's soft
time limit, which does not reliably stop Inspect.
"""

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from math import sqrt
from pathlib import Path
from typing import Any

import anyio
from inspect_ai import Task, eval_async
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.hooks import Hooks, SampleEnd, hooks
from inspect_ai.log import EvalLog, EvalSample
from inspect_ai.scorer import choice, includes, match, model_graded_qa
from inspect_ai.solver import chain_of_thought, generate, multiple_choice

from evaluations import simulated  # noqa: F401 - registers the `portalsim` provider
from evaluations.spec import INSPECT_VERSION, ModelSpec  # noqa: E402,F401 - re-exported

# --- progress -------------------------------------------------------------------------------

# Inspect creates one hooks instance per process, at import; one evaluation runs per process.
# The hook only counts and keeps each sample's row (no I/O on the samples' path); the watcher
# reports the count with its heartbeat, so progress costs one UPDATE per poll, not one per
# sample, and the result is stored from these rows without reading the whole log back from
# storage (for 200 samples that read was about a tenth of the evaluation's time).
_progress: dict = {"done": 0, "rows": None}


@hooks(name="portal_progress", description="Counts finished samples for the portal")
class PortalProgressHooks(Hooks):
    async def on_sample_end(self, data: SampleEnd) -> None:
        sample = data.sample
        if _progress["rows"] is not None:  # inside run_task (not another eval in the process)
            _progress["rows"][_sample_key(sample.id, sample.epoch)] = sample_row(sample)
        # Samples interrupted by a cancellation end too, unscored: they are not progress.
        if sample.scores and sample.error is None:
            _progress["done"] += 1


def _sample_key(sample_id: Any, epoch: int) -> tuple:
    """The order Inspect gives a log's samples (inspect_ai.log._log.sort_samples)."""
    return (epoch, sample_id if isinstance(sample_id, str) else str(sample_id).zfill(20))


# --- tasks ----------------------------------------------------------------------------------

SOLVERS = {"multiple_choice": multiple_choice, "generate": generate,
           "chain_of_thought": lambda: [chain_of_thought(), generate()]}


def build_task(*, items: list[dict], solver: str, scorer: str, grader_model: str = "") -> Task:
    samples = [
        Sample(id=str(item["id"]), input=item["input"], choices=item.get("choices") or None,
               target=str(item["target"]), metadata={"category": item["category"]})
        for item in items
    ]
    scorers = {"choice": choice, "match": match, "includes": includes,
               "model_graded_qa": lambda: model_graded_qa(model=grader_model or None)}
    return Task(dataset=MemoryDataset(samples), solver=SOLVERS[solver](),
                scorer=scorers[scorer]())


# How every run calls Inspect (the overhead benchmark's direct arm uses the same). No control
# server (a socket per evaluation); no realtime sample buffer: it exists for live viewing of
# running samples in `inspect view`, which the portal does not offer (progress is the
# heartbeat's count), and writing every event to it cost about a third of Inspect's CPU time per
# sample. The .eval log is written as samples complete either way.
EVAL_OPTIONS = {"log_format": "eval", "ctl_server": False, "log_realtime": False,
                "fail_on_error": True}


@dataclass
class Outcome:
    status: str  # "success", "error", "cancelled"
    error: str = ""
    log: EvalLog | None = None
    log_file: str = ""
    rows: list[dict] | None = None  # one per sample, in the log's order; None: read the log


def _score_value(value: Any) -> float:
    if isinstance(value, int | float):
        return float(value)
    return {"C": 1.0, "P": 0.5}.get(str(value), 0.0)


def sample_row(sample: EvalSample) -> dict:
    """The row stored for one sample (SampleResult's fields)."""
    score = next(iter(sample.scores.values())) if sample.scores else None
    return {
        # A task run with several epochs scores each sample once per epoch.
        "sample_id": str(sample.id) if sample.epoch == 1 else f"{sample.id}#{sample.epoch}",
        "category": (sample.metadata or {}).get("category", "uncategorised"),
        "score": _score_value(score.value) if score else 0.0,
        "answer": (score.answer or "") if score else "",
        "target": sample.target if isinstance(sample.target, str) else str(sample.target),
    }


def metrics_from_log(log: EvalLog, rows: list[dict] | None = None) -> tuple[dict, list[dict]]:
    """Overall and per-category accuracy with the standard error Inspect uses (sample std/√n).
    `rows` are the samples' rows when the caller has them (run_task collects them as samples
    end); without them they are read from the log's samples."""
    if rows is None:
        rows = [sample_row(sample) for sample in log.samples or []]

    def summary(values: list[float]) -> dict:
        n = len(values)
        mean = sum(values) / n if n else 0.0
        var = sum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
        return {"accuracy": round(mean, 6), "stderr": round(sqrt(var / n), 6) if n else 0.0,
                "n": n}

    categories: dict[str, list[float]] = {}
    for row in rows:
        categories.setdefault(row["category"], []).append(row["score"])
    metrics = {"overall": summary([r["score"] for r in rows]),
               "categories": {c: summary(v) for c, v in sorted(categories.items())}}
    if log.results and log.results.scores:
        inspect_metrics = {k: m.value for k, m in log.results.scores[0].metrics.items()}
        metrics["inspect"] = inspect_metrics
    return metrics, rows


def run_task(*, task: Task | str, task_args: dict | None, spec: ModelSpec, log_dir: str | Path,
             metadata: dict, limits: dict, report: Callable[[int], bool],
             poll_seconds: float = 0.5) -> Outcome:
    """Evaluate `task` against `spec`, writing the log into `log_dir`: a folder, or an s3:// URL
    that Inspect writes through its own S3 support (review_portal.storage.inspect_log_dir). Every
    `poll_seconds` the watcher calls `report(samples_done)` (heartbeat and progress); when it
    returns True the evaluation is cancelled, within about `poll_seconds`."""
    from inspect_ai.util._display import init_display_type

    init_display_type("none")
    os.environ.setdefault("INSPECT_EVAL_CTL_SERVER", "false")
    log_dir = str(log_dir)
    if "://" not in log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        log_dir = str(Path(log_dir).resolve())
    cancelled = False
    logs: list[EvalLog] = []

    async def main() -> None:
        nonlocal cancelled, logs
        async with anyio.create_task_group() as group:
            eval_scope = anyio.CancelScope()

            async def evaluate() -> None:
                nonlocal logs
                with eval_scope:
                    logs = await eval_async(
                        task, task_args=task_args or {}, model=spec.model,
                        model_base_url=spec.base_url, model_args=spec.model_args,
                        log_dir=log_dir, metadata=metadata, **EVAL_OPTIONS, **limits,
                    )
                group.cancel_scope.cancel()  # the evaluation is over: stop the watcher

            async def watch() -> None:
                nonlocal cancelled
                while True:
                    await anyio.sleep(poll_seconds)
                    if await anyio.to_thread.run_sync(report, _progress["done"]):
                        cancelled = True
                        eval_scope.cancel()
                        return

            group.start_soon(evaluate)
            group.start_soon(watch)

    _progress["done"], _progress["rows"] = 0, {}
    # Inspect sets the root logger's level (to WARNING) and adds its handler the first time it
    # runs: in a worker that silenced Celery's own log lines for every later task. Put the
    # process's logging back as it was.
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        anyio.run(main)
    finally:
        collected, _progress["rows"] = _progress["rows"], None
        root.setLevel(level)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
    log = logs[0] if logs else None
    log_file = log.location if log is not None else _latest_log(log_dir)
    if cancelled or (log is not None and log.status == "cancelled"):
        return Outcome(status="cancelled", log=log, log_file=log_file)
    if log is None:
        return Outcome(status="error", error="Inspect returned no evaluation log.",
                       log_file=log_file)
    if log.status != "success":
        message = log.error.message if log.error else f"Inspect ended with status {log.status}."
        return Outcome(status="error", error=message, log=log, log_file=log_file)
    rows = [collected[key] for key in sorted(collected)]
    # Every sample the log holds ended through the hook; if Inspect ever says otherwise, the
    # rows are read from the log instead.
    if log.results is None or len(rows) != log.results.completed_samples:
        rows = None
    return Outcome(status="success", log=log, log_file=log_file, rows=rows)


def _latest_log(log_dir: str) -> str:
    """The newest log in `log_dir`, when Inspect raised before it returned one."""
    if "://" in log_dir:
        from inspect_ai.log import list_eval_logs

        try:
            logs = list_eval_logs(log_dir, recursive=False)
        except Exception:  # the store is down: the run's error says so already
            logging.getLogger(__name__).warning("Could not list the logs in %s", log_dir,
                                                exc_info=True)
            return ""
        return max(logs, key=lambda info: info.mtime or 0).name if logs else ""
    files = sorted(Path(log_dir).glob("*.eval"), key=lambda p: p.stat().st_mtime)
    return str(files[-1]) if files else ""
