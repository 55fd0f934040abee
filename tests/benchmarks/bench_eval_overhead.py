"""How much the portal adds to an evaluation: the same 200-sample suite against the simulated
model, once directly with inspect_ai.eval in this process, once through the portal (API call ->
broker -> worker -> stored metrics and per-sample rows). Prints both times and their ratio.

    .venv/bin/python tests/benchmarks/bench_eval_overhead.py [--postgres] [--repeat 3]
"""

import statistics
import tempfile
import time
from pathlib import Path

from harness import (
    LEVELS,
    configure_environment,
    make_world,
    parse_args,
    start_run_via_api,
    start_workers,
    stop_workers,
    synthetic_items,
    wait_finished,
)


def main() -> None:
    args = parse_args(__doc__, lambda p: (p.add_argument("--samples", type=int, default=200),
                                          p.add_argument("--repeat", type=int, default=3)))
    env = configure_environment(args)
    from django.test import Client

    from evaluations import engine, simulated

    reviewer, version, [review_request] = make_world(args.samples)
    items = synthetic_items(args.samples)

    def direct() -> float:
        simulated.register_answer_key(items)
        task = engine.build_task(items=items, solver="multiple_choice", scorer="choice")
        start = time.monotonic()
        import inspect_ai

        [log] = inspect_ai.eval(task, model="portalsim/bench-0",
                                model_args={"levels": LEVELS, "seed": "bench"},
                                log_dir=tempfile.mkdtemp(), display="none", ctl_server=False,
                                max_samples=args.max_samples, log_format="eval")
        elapsed = time.monotonic() - start
        assert log.status == "success" and len(log.samples) == args.samples
        return elapsed

    workers = start_workers(env, 1)
    client = Client()
    client.force_login(reviewer)

    def portal() -> float:
        start = time.monotonic()
        run_id = start_run_via_api(client, review_request.pk, version.pk)
        return wait_finished([run_id]) - start

    try:
        direct()  # warm-up: imports, first event loop
        portal()  # warm-up: the worker imports Inspect on its first job
        direct_times = [direct() for _ in range(args.repeat)]
        portal_times = [portal() for _ in range(args.repeat)]
    finally:
        stop_workers(workers)
    d, p = statistics.median(direct_times), statistics.median(portal_times)
    backend = "PostgreSQL+Redis" if args.postgres else "SQLite+filesystem broker"
    print(f"samples={args.samples} max_samples={args.max_samples} backend={backend} "
          f"repeat={args.repeat}")
    print("direct inspect_ai.eval  s: " + " ".join(f"{t:.2f}" for t in direct_times)
          + f"  median {d:.2f}")
    print("through the portal      s: " + " ".join(f"{t:.2f}" for t in portal_times)
          + f"  median {p:.2f}")
    print(f"ratio portal/direct: {p / d:.3f}")
    Path(env["PORTAL_VAR_DIR"])  # state left in this temporary folder for inspection


if __name__ == "__main__":
    main()
