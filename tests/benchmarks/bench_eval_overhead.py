"""How much the portal adds to an evaluation: the same suite (--samples items, default 200)
against the same simulated model, directly with inspect_ai.eval in this process ("direct"), and
through the portal ("portal": API call -> outbox -> broker -> an evaluation worker -> Inspect ->
stored metrics, per-sample rows and audit event, until this process sees the run succeeded).

Both arms do the same evaluation work: the same samples, the same model and model arguments (the
endpoint's own), the same max_samples and Inspect limits, the same Inspect options as every
portal run (evaluations.engine.EVAL_OPTIONS: .eval log format, no realtime sample buffer, no
control server, fail on error). The direct
arm's time includes building the task; the portal arm's includes everything from the API call
until the stored result is visible.

Design: one worker is started and kept running (as deployed: prefork, one process, evaluations
queue). After a warm-up of each arm (imports, the worker's first job), every round runs each arm
once, in an order shuffled per round (tests/benchmarks/rounds.py `compare`, repeat=1), so load
from other processes on the machine falls on both arms of a round alike. The overhead of a round
is portal time / direct time; printed per round, then the median and range over the rounds, and
the target line (<= 1.15).

    .venv/bin/python tests/benchmarks/bench_eval_overhead.py [--rounds 7] [--samples 200]
        [--postgres [--database-name portal_bench_eval] [--redis-db 12]]
"""

import statistics
import tempfile

from harness import (
    backend_label,
    configure_environment,
    make_world,
    parse_args,
    start_run_via_api,
    start_workers,
    stop_workers,
    summary,
    synthetic_items,
    wait_finished,
    wait_workers_ready,
)
from rounds import check, compare

TARGET = 1.15


def main() -> None:
    args = parse_args(__doc__, lambda p: p.add_argument("--samples", type=int, default=200),
                      database_name="portal_bench_eval", redis_db=12)
    env = configure_environment(args)
    from django.conf import settings
    from django.test import Client

    from evaluations import engine, simulated
    from evaluations.models import EvaluationEndpoint
    from evaluations.services import endpoint_model_spec

    reviewer, version, [review_request] = make_world(args.samples)
    items = synthetic_items(args.samples)
    spec = endpoint_model_spec(EvaluationEndpoint.objects.get(model=review_request.model))
    limits = {"max_samples": settings.EVALUATION_MAX_SAMPLES,
              "time_limit": settings.EVALUATION_SAMPLE_TIME_LIMIT,
              "timeout": settings.EVALUATION_HTTP_TIMEOUT,
              "max_retries": settings.EVALUATION_HTTP_MAX_RETRIES}
    assert limits["max_samples"] == args.max_samples

    def direct() -> None:
        import inspect_ai

        simulated.register_answer_key(items)
        task = engine.build_task(items=items, solver="multiple_choice", scorer="choice")
        [log] = inspect_ai.eval(task, model=spec.model, model_args=spec.model_args,
                                log_dir=tempfile.mkdtemp(), display="none",
                                **engine.EVAL_OPTIONS, **limits)
        # The header only: reading the samples back would add work the portal does not do.
        assert log.status == "success" and log.results.completed_samples == args.samples

    workers = start_workers(env, 1)
    client = Client()
    client.force_login(reviewer)

    def portal() -> None:
        run_id = start_run_via_api(client, review_request.pk, version.pk)
        wait_finished([run_id])

    try:
        wait_workers_ready(1)
        for _ in range(2):  # warm-up: imports, first event loop, the worker's first jobs
            direct()
            portal()
        results = compare({"direct": direct, "portal": portal}, baseline="direct",
                          rounds=args.rounds, repeat=1, warmup=0, seed=args.seed)
    finally:
        stop_workers(workers)

    d, p = results["direct"].times, results["portal"].times
    overhead = [pt / dt for dt, pt in zip(d, p, strict=True)]
    print(f"\nportal vs direct Inspect: samples={args.samples} max_samples={args.max_samples} "
          f"log_format=eval backend={backend_label(args)}")
    print("  round  direct s  portal s  portal/direct")
    for k, (dt, pt, o) in enumerate(zip(d, p, overhead, strict=True), 1):
        print(f"  {k:>5}  {dt:>8.2f}  {pt:>8.2f}  {o:>13.3f}")
    print(f"  direct s: {summary(d)}")
    print(f"  portal s: {summary(p)}")
    print(f"  portal/direct: {summary(overhead)}")
    check("portal evaluation / direct Inspect (median)", statistics.median(overhead),
          at_most=TARGET)


if __name__ == "__main__":
    main()
