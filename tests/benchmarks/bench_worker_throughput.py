"""Job throughput of one evaluation worker against two: the same batch of evaluation runs (--runs
runs, each a suite of --samples items against the simulated model, whose --latency-ms stands
for a real endpoint's response time) through the portal (API call -> outbox -> broker -> worker
-> stored result), with one worker taking jobs and with two.

Design: two workers (as deployed: prefork, one process each, evaluations queue) are started once
and kept running for the whole benchmark, so neither arm pays for a start or a cold import and
both arms see the same processes, database and broker. Each arm first stops both workers taking
jobs from the evaluations queue (Celery's cancel_consumer, waited for until their active queues
say so), queues its batch through the API, then starts the clock and lets one worker, or both,
take jobs again (one add_consumer broadcast). So the clock measures the workers' throughput on a
queue with a backlog: the reviewer's API calls (the web process's work, about 0.2 s each on a
loaded machine, which in a deployment runs elsewhere) neither count nor compete with the workers
for this machine's 2 cores while they run. Each round prints how many runs each worker took.
After a warm-up batch on each worker, every round
runs both arms once, in an order shuffled per round, so load from other processes on the machine
falls on both arms of a round alike. The scaling of a round is one-worker time / two-worker
time (runs per minute, two / one); printed per round, then the median and range over the rounds,
and the target line (>= 1.7).

    .venv/bin/python tests/benchmarks/bench_worker_throughput.py [--rounds 7] [--runs 8]
        [--samples 40] [--latency-ms 1000]

The default endpoint answers in 1 s, the order of a real model's response to one question (the
endpoint-latency case: evaluations wait on the developer's endpoint). With --latency-ms 100 a
40-sample run is about half Inspect's own CPU work, and on a shared 2-core machine the ratio
then measures the cores left over rather than the portal (README: 1.24-1.28x under load, 1.77x
idle).
        [--postgres [--database-name portal_bench_throughput] [--redis-db 13]]
"""

import statistics
import time

from harness import (
    backend_label,
    configure_environment,
    interleave,
    make_world,
    parse_args,
    set_consuming,
    start_run_via_api,
    start_workers,
    stop_workers,
    summary,
    wait_finished,
    wait_workers_ready,
    worker_name,
)
from rounds import check

TARGET = 1.7


def main() -> None:
    def extra(p):
        p.add_argument("--runs", type=int, default=8, help="runs per batch")
        p.add_argument("--samples", type=int, default=40, help="samples per run")
        p.add_argument("--latency-ms", type=int, default=1000,
                       help="the simulated endpoint's response time per call")

    args = parse_args(__doc__, extra, database_name="portal_bench_throughput", redis_db=13)
    env = configure_environment(args)
    from django.test import Client

    reviewer, version, requests = make_world(args.samples, latency_ms=args.latency_ms,
                                             n_requests=args.runs)
    client = Client()
    client.force_login(reviewer)

    split: dict[str, list] = {"one worker": [], "two workers": []}
    names = [worker_name(0), worker_name(1)]

    def batch(arm: str, taking: list[str]) -> float:
        """Queue the batch with no worker taking jobs, then let `taking` take them; the time
        from then until the last result is stored."""
        from evaluations.models import EvaluationRun
        from review_portal.celery_app import app

        for name in names:
            set_consuming(name, False)
        ids = [start_run_via_api(client, r.pk, version.pk) for r in requests]
        start = time.monotonic()
        app.control.add_consumer("evaluations", destination=taking, reply=True, timeout=2)
        elapsed = wait_finished(ids) - start
        # Which worker process ran each run: the check that an arm is what it says.
        claimants = list(EvaluationRun.objects.filter(pk__in=ids)
                         .values_list("claimed_by", flat=True))
        split[arm].append(sorted(claimants.count(c) for c in set(claimants)))
        return elapsed

    def one_worker() -> float:
        return batch("one worker", names[:1])

    def two_workers() -> float:
        return batch("two workers", names)

    workers = start_workers(env, 2)
    try:
        wait_workers_ready(2)
        # Warm-up: each worker imports Inspect on its first job; a batch of two runs at once
        # gives each worker one, then a whole batch on each arm.
        wait_finished([start_run_via_api(client, requests[i].pk, version.pk) for i in (0, 1)])
        two_workers()
        one_worker()
        results = interleave({"one worker": one_worker, "two workers": two_workers},
                             baseline="one worker", rounds=args.rounds, seed=args.seed,
                             on_round=lambda k, t: print(
                                 f"  round {k + 1}: " + ", ".join(
                                     f"{arm} {s:.2f} s (runs per worker {split[arm][-1]})"
                                     for arm, s in t.items()), flush=True))
    finally:
        stop_workers(workers)

    one, two = results["one worker"].times, results["two workers"].times
    scaling = results["two workers"].ratios
    print(f"\none worker vs two: runs={args.runs} samples/run={args.samples} "
          f"latency_ms={args.latency_ms} max_samples={args.max_samples} "
          f"backend={backend_label(args)}")
    print("  round  one s  two s  runs/min one  runs/min two  two/one")
    for k, (a, b, r) in enumerate(zip(one, two, scaling, strict=True), 1):
        print(f"  {k:>5}  {a:>5.2f}  {b:>5.2f}  {60 * args.runs / a:>12.1f}  "
              f"{60 * args.runs / b:>12.1f}  {r:>7.3f}")
    print(f"  one worker s:  {summary(one)}")
    print(f"  two workers s: {summary(two)}")
    print(f"  two/one: {summary(scaling)}")
    check("two evaluation workers / one (median)", statistics.median(scaling),
          at_least=TARGET)


if __name__ == "__main__":
    main()
