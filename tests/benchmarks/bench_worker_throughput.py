"""Job throughput of one worker against two: the same batch of evaluation runs (each a suite of
--samples items against the simulated model, whose --latency-ms stands for a real endpoint's
response time) through the portal, with one worker process and then with two. Prints runs per
minute for both and their ratio.

    .venv/bin/python tests/benchmarks/bench_worker_throughput.py [--postgres] [--runs 8]
"""

import time

from harness import (
    configure_environment,
    make_world,
    parse_args,
    start_run_via_api,
    start_workers,
    stop_workers,
    wait_finished,
)


def main() -> None:
    def extra(p):
        p.add_argument("--runs", type=int, default=8)
        p.add_argument("--samples", type=int, default=40)
        p.add_argument("--latency-ms", type=int, default=100)

    args = parse_args(__doc__, extra)
    env = configure_environment(args)
    from django.test import Client

    reviewer, version, requests = make_world(args.samples, latency_ms=args.latency_ms,
                                             n_requests=args.runs)
    client = Client()
    client.force_login(reviewer)

    def batch(workers: int) -> float:
        procs = start_workers(env, workers)
        try:
            # Warm-up: every worker imports Inspect on its first job.
            wait_finished([start_run_via_api(client, requests[0].pk, version.pk)
                           for _ in range(workers)])
            start = time.monotonic()
            ids = [start_run_via_api(client, r.pk, version.pk) for r in requests]
            elapsed = wait_finished(ids) - start
        finally:
            stop_workers(procs)
        return elapsed

    one = batch(1)
    two = batch(2)
    backend = "PostgreSQL+Redis" if args.postgres else "SQLite+filesystem broker"
    print(f"runs={args.runs} samples/run={args.samples} latency_ms={args.latency_ms} "
          f"max_samples={args.max_samples} backend={backend}")
    print(f"one worker : {one:.2f} s  -> {60 * args.runs / one:.1f} runs/min")
    print(f"two workers: {two:.2f} s  -> {60 * args.runs / two:.1f} runs/min")
    print(f"throughput ratio two/one: {one / two:.3f}")


if __name__ == "__main__":
    main()
