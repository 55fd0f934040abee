#!/usr/bin/env python
"""Soak the background machinery: web, a worker per queue and beat, for a given time, with
continuous job traffic from several producer processes plus control calls.

    .venv/bin/python scripts/soak.py --minutes 30                  # embedded default
    .venv/bin/python scripts/soak.py --minutes 30 \\
        --database-url postgres://postgres@127.0.0.1:5432/portal_soak \\
        --broker-url redis://127.0.0.1:6379/9

Each producer enqueues `jobs.ping` jobs through the outbox (`job_enqueue`, each in its own
transaction, as a service does); a job is done when its outbox row is. The control process calls
`inspect ping` and `inspect active_queues` in a loop (Celery's fanout broadcast and replies).
The demo data queues two real evaluations at the start, so the evaluation worker works too.
At the end the producers stop, the backlog drains (up to --drain seconds), and the script prints
jobs sent, done, lost, control calls answered, web probes that failed, and worker restarts
(a worker process that exited, or logged an unrecoverable error, is counted and started again).
Exit status 1 when anything was lost, crashed or failed. It uses a fresh state folder (and, for
PostgreSQL, drops and recreates the named database, whose name must contain "soak").
"""

import argparse
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _env(args, var: Path) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.local",
           "PORTAL_VAR_DIR": str(var), "PYTHONPATH": str(ROOT), "DEBUG": "false",
           "LOG_LEVEL": "WARNING"}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_CACHE_URL"):
        env.pop(key, None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    if args.broker_url:
        env["CELERY_BROKER_URL"] = args.broker_url
    return env


def _recreate_postgres(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    if "soak" not in name:
        sys.exit(f"refusing to recreate {name!r}: the database name must contain 'soak'")
    base = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg2

    conn = psycopg2.connect(base)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def _django(env: dict):
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def producer(env: dict, tag: int, stop_at: float, rate: float, counter) -> None:
    _django(env)
    from django.db import transaction

    from jobs.services import job_enqueue

    n = 0
    while time.time() < stop_at:
        try:
            with transaction.atomic():
                job_enqueue(task="jobs.ping", kwargs={"token": f"{tag}-{n}"}, ref="soak")
            n += 1
            with counter.get_lock():
                counter.value += 1
        except Exception as exc:  # a database lock timeout would show here; count, go on
            print(f"producer {tag}: enqueue failed: {exc}", flush=True)
        time.sleep(1 / rate)


def controller(env: dict, stop_at: float, answered, asked) -> None:
    _django(env)
    from review_portal.celery_app import app

    while time.time() < stop_at:
        for call in ("ping", "active_queues"):
            with asked.get_lock():
                asked.value += 1
            try:
                replies = getattr(app.control.inspect(timeout=2.0), call)()
            except Exception as exc:
                print(f"control {call} failed: {exc}", flush=True)
                replies = None
            if replies:
                with answered.get_lock():
                    answered.value += 1
        time.sleep(2)


class Service:
    def __init__(self, name: str, argv: list[str], env: dict, logs: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = logs / f"{name}.log"
        self.restarts = 0
        self.crash_lines_seen = 0
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "a")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=self.env, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def crashed(self) -> str:
        if self.proc.poll() is not None:
            return f"exited with {self.proc.returncode}"
        text = self.log_path.read_text(errors="replace")
        count = text.count("Unrecoverable error")
        if count > self.crash_lines_seen:
            self.crash_lines_seen = count
            return "logged an unrecoverable error"
        return ""

    def restart(self) -> None:
        self.restarts += 1
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def _probe(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status == 200
    except Exception:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--producers", type=int, default=3)
    parser.add_argument("--rate", type=float, default=5.0, help="jobs per second per producer")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--broker-url", default="")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--drain", type=float, default=120.0)
    args = parser.parse_args()

    var = Path(tempfile.mkdtemp(prefix="portal-soak-"))
    logs = var / "logs"
    logs.mkdir(parents=True)
    env = _env(args, var)
    if args.database_url:
        _recreate_postgres(args.database_url)
    manage = [PY, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "seed_demo"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    celery = [PY, "-m", "celery", "-A", "review_portal"]
    services = [
        Service("worker-default", [*celery, "worker", "-Q", "default", "--pool=prefork",
                                   "--concurrency=2", "-n", "default@%h", "--loglevel=INFO"],
                env, logs),
        Service("worker-evaluations", [*celery, "worker", "-Q", "evaluations", "--pool=prefork",
                                       "--concurrency=1", "-n", "evaluations@%h",
                                       "--loglevel=INFO"], env, logs),
        Service("beat", [*celery, "beat", "--loglevel=INFO",
                         f"--schedule={var}/celerybeat-schedule"], env, logs),
        Service("web", [*manage, "runserver", f"127.0.0.1:{args.port}", "--noreload"], env,
                logs),
    ]
    for service in services:
        service.start()
    base = f"http://127.0.0.1:{args.port}"
    for _ in range(120):
        if _probe(f"{base}/healthz"):
            break
        time.sleep(0.5)

    stop_at = time.time() + args.minutes * 60
    ctx = mp.get_context("spawn")
    sent, asked, answered = ctx.Value("i", 0), ctx.Value("i", 0), ctx.Value("i", 0)
    workers = [ctx.Process(target=producer, args=(env, tag, stop_at, args.rate, sent))
               for tag in range(args.producers)]
    workers.append(ctx.Process(target=controller, args=(env, stop_at, answered, asked)))
    for process in workers:
        process.start()

    probes = probe_failures = 0
    crashes: list[str] = []
    started = time.time()
    next_report = started + 60
    while time.time() < stop_at:
        for service in services:
            reason = service.crashed()
            if reason:
                crashes.append(f"{service.name} {reason} at {time.time() - started:.0f} s")
                print(f"CRASH: {crashes[-1]}; restarting", flush=True)
                service.restart()
        probes += 1
        probe_failures += not _probe(f"{base}/readyz")
        if time.time() >= next_report:
            next_report += 60
            print(f"{(time.time() - started) / 60:5.1f} min: sent {sent.value}, "
                  f"control {answered.value}/{asked.value}, crashes {len(crashes)}", flush=True)
        time.sleep(5)
    for process in workers:
        process.join(timeout=60)

    _django(env)
    from jobs.models import OutboxMessage

    soak = OutboxMessage.objects.filter(ref="soak")
    deadline = time.time() + args.drain
    while time.time() < deadline and soak.exclude(state=OutboxMessage.State.DONE).exists():
        time.sleep(1)
    from evaluations.models import EvaluationRun

    recorded = soak.count()
    done = soak.filter(state=OutboxMessage.State.DONE).count()
    not_done = list(soak.exclude(state=OutboxMessage.State.DONE)
                    .values_list("state", flat=True))
    runs = list(EvaluationRun.objects.values_list("status", flat=True))
    for service in services:
        service.stop()
    restarts = sum(s.restarts for s in services)
    lost = sent.value - done
    print(f"\nsoak: {args.minutes:g} min on "
          f"{'PostgreSQL' if args.database_url else 'SQLite'} + "
          f"{'Redis' if args.broker_url else 'the embedded file broker'}")
    print(f"jobs sent {sent.value}, recorded {recorded}, done {done}, lost {lost} "
          f"(not done: {sorted(set(not_done)) or 'none'})")
    print(f"control calls answered {answered.value} of {asked.value}; "
          f"readiness probes failed {probe_failures} of {probes}")
    print(f"worker restarts {restarts}; crashes: {crashes or 'none'}")
    print(f"evaluations: {runs}")
    print(f"logs: {logs}")
    ok = (lost == 0 and not crashes and recorded == sent.value and probe_failures == 0
          and answered.value == asked.value and all(r == "succeeded" for r in runs))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
