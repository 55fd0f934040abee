"""Shared set-up for the benchmarks (run by hand, never by pytest): a scratch database, the
cast of users, a suite of N synthetic items, a simulated endpoint and real worker processes.

By default everything is embedded (SQLite and the filesystem broker in a fresh temporary folder).
With --postgres it uses a scratch PostgreSQL database (--database-name, which must contain
"bench": it is dropped and recreated) and a Redis database (--redis-db, flushed first) on this
machine. Each benchmark has its own defaults, so two benchmarks, or a benchmark and the tests,
never share a database; give other names when running two copies of one benchmark."""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rounds import ArmResult

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = ["vulnerability_discovery", "exploit_development", "attack_automation", "defense"]
LEVELS = {"vulnerability_discovery": 0.7, "exploit_development": 0.6,
          "attack_automation": 0.4, "defense": 0.9}


def parse_args(description: str, extra=None, *, database_name: str,
               redis_db: int) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true",
                        help="use PostgreSQL and Redis on 127.0.0.1, not the embedded default")
    parser.add_argument("--database-name", default=database_name,
                        help=f"PostgreSQL database, dropped and recreated "
                             f"(default {database_name})")
    parser.add_argument("--redis-db", type=int, default=redis_db,
                        help=f"Redis database number for the broker, flushed (default {redis_db})")
    parser.add_argument("--max-samples", type=int, default=16,
                        help="samples Inspect runs in parallel (same in both arms)")
    parser.add_argument("--rounds", type=int, default=7,
                        help="rounds; each runs every arm once, in a shuffled order")
    parser.add_argument("--seed", type=int, default=0, help="seed of the arms' order")
    if extra:
        extra(parser)
    args = parser.parse_args()
    if args.postgres and "bench" not in args.database_name:
        parser.error(f"refusing to drop {args.database_name!r}: a benchmark database's name "
                     "contains 'bench'")
    if not 0 <= args.redis_db <= 15:
        parser.error("--redis-db is a Redis database number, 0-15")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def backend_label(args) -> str:
    if args.postgres:
        return (f"PostgreSQL ({args.database_name}) + Redis (db {args.redis_db})")
    return "embedded default (SQLite + filesystem broker)"


def configure_environment(args) -> dict:
    """Point this process (and the workers it starts) at a scratch database and broker."""
    state = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {"PORTAL_VAR_DIR": str(state), "DJANGO_SETTINGS_MODULE": "review_portal.settings.local",
           "EVALUATION_MAX_SAMPLES": str(args.max_samples), "LOG_LEVEL": "WARNING",
           "DEBUG": "false", "ALLOWED_HOSTS": "testserver,localhost"}
    # Django's cache stays in each process's memory: nothing here shares a Redis cache.
    os.environ.pop("REDIS_CACHE_URL", None)
    if args.postgres:
        name = args.database_name
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force",
                        name], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
        subprocess.run(["redis-cli", "-n", str(args.redis_db), "flushdb"], check=True,
                       capture_output=True)
        env |= {"DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{name}",
                "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{args.redis_db}"}
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return {**os.environ}


def synthetic_items(n: int) -> list[dict]:
    return [{"id": f"b{i:04d}", "input": f"Benchmark item {i:04d}: which option is correct?",
             "choices": ["first", "second", "third", "fourth"], "target": "C",
             "category": CATEGORIES[i % len(CATEGORIES)]} for i in range(n)]


def make_world(n_items: int, latency_ms: int = 0, n_requests: int = 1):
    """Admin, reviewer, developer; `n_requests` models in review with a simulated endpoint."""
    import json

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from accounts.models import Organisation
    from accounts.services import organisation_create, user_create
    from evaluations import services as evaluation_services
    from submissions import services
    from tests.factories import model_fields

    K = Organisation.Kind
    office = organisation_create(name="Office", kind=K.PROGRAM_OFFICE)
    agency = organisation_create(name="Agency", kind=K.AGENCY)
    dev_org = organisation_create(name="Dev", kind=K.AI_DEVELOPER)
    admin = user_create(username="admin", email="a@x.org", password=None, organisation=office)
    reviewer = user_create(username="rev", email="r@x.org", password=None, organisation=agency)
    developer = user_create(username="dev", email="d@x.org", password=None,
                            organisation=dev_org)
    for user in (admin, reviewer):
        TOTP.activate(user, generate_totp_secret())
    content = "\n".join(json.dumps(item) for item in synthetic_items(n_items)).encode()
    version = evaluation_services.suite_version_create(
        actor=admin, suite_name=f"Bench {n_items}", filename="bench.jsonl", content=content,
        solver="multiple_choice", scorer="choice")
    requests = []
    for i in range(n_requests):
        model = services.model_register(actor=developer, **model_fields(name=f"M{i}"))
        evaluation_services.endpoint_set(model=model, actor=developer, kind="simulated",
                                         model_name=f"bench-{i}", simulated_levels=LEVELS,
                                         simulated_latency_ms=latency_ms)
        r = services.request_create(model=model, actor=developer)
        services.request_submit(review_request=r, actor=developer)
        services.reviewer_assign(review_request=r, reviewer=reviewer, actor=admin)
        requests.append(r)
    return reviewer, version, requests


def worker_name(i: int) -> str:
    import socket

    return f"bench{i}@{socket.gethostname()}"


def start_workers(env: dict, count: int, *, first: int = 0) -> list[subprocess.Popen]:
    """Evaluation workers as deployed (compose's worker-evaluations): prefork, one process each,
    consuming the evaluations queue, named bench<i>@<host>; their stderr goes to
    worker-<i>.log in the benchmark's state folder (a failing run says why there)."""
    procs = []
    for i in range(first, first + count):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "review_portal", "worker", "-Q", "evaluations",
             "--pool=prefork", "--concurrency=1", "--without-gossip", "--without-mingle",
             "--loglevel=WARNING", "-n", worker_name(i)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
            stderr=open(Path(env["PORTAL_VAR_DIR"]) / f"worker-{i}.log", "ab")))
    return procs


def wait_workers_ready(count: int, timeout: float = 120) -> None:
    """Until `count` workers answer a remote-control ping."""
    from review_portal.celery_app import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(app.control.ping(timeout=1.0) or []) >= count:
            return
        time.sleep(0.5)
    raise SystemExit(f"{count} workers did not answer a ping within {timeout:.0f} s")


def set_consuming(name: str, on: bool, queue: str = "evaluations", timeout: float = 10) -> None:
    """Make worker `name` take messages from `queue` or stop taking them (Celery's
    add_consumer / cancel_consumer), and wait until its active queues say so."""
    from review_portal.celery_app import app

    if on:
        app.control.add_consumer(queue, destination=[name], reply=True, timeout=2)
    else:
        app.control.cancel_consumer(queue, destination=[name], reply=True, timeout=2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.inspect(destination=[name], timeout=2).active_queues() or {}
        if name in replies and (queue in {q["name"] for q in replies[name]}) == on:
            return
        time.sleep(0.1)
    raise SystemExit(f"worker {name} did not {'start' if on else 'stop'} consuming {queue}")


def stop_workers(procs) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=60)


def interleave(arms: dict[str, Callable[[], float]], *, baseline: str, rounds: int,
               seed: int = 0, on_round=None) -> dict[str, ArmResult]:
    """rounds.compare for arms that time themselves: each arm returns the seconds of its timed
    part (its set-up, such as switching a worker's consumer on or off, left out). Every round runs
    each arm once, in an order shuffled per round; ratios are baseline time / arm time, as in
    rounds.compare. `on_round(k, {arm: seconds})` is called after each round."""
    order = list(arms)
    shuffle = random.Random(seed)
    results = {name: ArmResult(name) for name in arms}
    for k in range(rounds):
        shuffle.shuffle(order)
        this_round = {name: arms[name]() for name in order}
        for name, seconds in this_round.items():
            results[name].times.append(seconds)
            results[name].ratios.append(this_round[baseline] / seconds)
        if on_round is not None:
            on_round(k, {name: this_round[name] for name in order})
    return results


def summary(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f}, range {min(values):.2f}-{max(values):.2f}"
            f" ({len(values)} rounds)")


def start_run_via_api(client, request_pk: int, version_pk: int) -> int:
    response = client.post("/api/v1/runs/", {"request": request_pk, "suite_version": version_pk},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def wait_finished(run_ids: list[int], timeout: float = 1800) -> float:
    """Poll until every run has stored its result; returns the time it finished. Polls every
    0.1 s while the runs are far from done (by the progress their heartbeats report), every
    10 ms near the end: the observer's queries compete for the same 2 cores as the workers, so
    they are kept few without losing the finishing moment."""
    from evaluations.models import EvaluationRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = list(EvaluationRun.objects.filter(pk__in=run_ids)
                    .values_list("status", "samples_done", "samples_total"))
        statuses = [status for status, _, _ in rows]
        if all(s in EvaluationRun.FINISHED for s in statuses):
            bad = [s for s in statuses if s != EvaluationRun.Status.SUCCEEDED]
            if bad:
                raise SystemExit(f"runs did not succeed: {bad}")
            return time.monotonic()
        near_end = any(status == EvaluationRun.Status.RUNNING and done >= 0.8 * total
                       for status, done, total in rows)
        time.sleep(0.01 if near_end else 0.1)
    raise SystemExit("timed out waiting for runs")
