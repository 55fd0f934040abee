"""The first run start in a fresh web process: how long the reviewer's POST /api/v1/runs/ takes
when it is the first request a new gunicorn worker serves, against the first GET of a cheap
authenticated list (/api/v1/notifications/) on another fresh worker.

Web processes used to import Inspect inside that first POST (7-10 s on this machine), which blew
through gunicorn's timeout. Each round starts two fresh servers (production settings,
gunicorn.conf.py, one worker), one per arm, alternating which goes first; the request is sent
once the worker has booted. Prints each round, then the median and range of the first start and
of the ratio start / baseline. Target: a first run start under 1 s.

    .venv/bin/python tests/benchmarks/bench_first_run_start.py [--rounds 5]
        [--database-url postgres://postgres@127.0.0.1:5432/portal_bench_first_start]

The default database is a SQLite file in a temporary folder. A PostgreSQL database is dropped and
recreated first, so its name must contain "bench". The web process publishes to an in-memory
broker (CELERY_BROKER_URL=memory://): nothing runs the evaluation, and the latency measured is
the web side's alone. The cache is Redis (--cache-url).
"""

import argparse
import http.client
import json
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[2]
BASELINE_URL = "/api/v1/notifications/"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="",
                        help="default: a SQLite file in a temporary folder")
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/12",
                        help="Redis for Django's cache in the web process")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--items", type=int, default=100, help="samples in the suite")
    parser.add_argument("--port", type=int, default=0, help="default: a free port per server")
    return parser.parse_args()


def recreate_postgres(url: str) -> None:
    import psycopg2

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: a benchmark database's name contains "
                         "'bench'")
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432,
                             user=parts.username, password=parts.password, dbname="postgres")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


def seed(state: Path, database_url: str, rounds: int, items: int) -> dict:
    """Migrate and create a reviewer with a TOTP device and an API token, and one in-review
    request per round (assigned to the reviewer, with a simulated endpoint) and a suite."""
    if database_url.startswith("postgres"):
        recreate_postgres(database_url)
    os.environ.update({
        "PORTAL_VAR_DIR": str(state), "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "review_portal.settings.local", "DEBUG": "false",
        "CELERY_BROKER_URL": "memory://", "LOG_LEVEL": "WARNING",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    })
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).parent))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from harness import make_world

    from accounts.services import api_token_create

    call_command("migrate", verbosity=0)
    reviewer, version, requests = make_world(items, n_requests=rounds)
    _token, key = api_token_create(user=reviewer, name="bench")
    connections.close_all()
    return {"key": key, "version": version.pk, "requests": [r.pk for r in requests],
            "encryption_keys": ",".join(settings.PORTAL_ENCRYPTION_KEYS)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A fresh gunicorn: production settings, the repository's gunicorn.conf.py, one worker."""

    def __init__(self, env: dict, port: int, log: Path):
        self.port, self.log = port, log
        self._log = open(log, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "review_portal.wsgi:application"],
            cwd=ROOT, env={**env, "PORT": str(port), "WEB_CONCURRENCY": "1"},
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_booted(self, timeout: float = 60) -> int:
        """The worker's pid, once it has booted (the app is preloaded in the master)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(r"Booting worker with pid: (\d+)", self.log.read_text())
            if match:
                time.sleep(0.5)  # let it reach its accept loop
                return int(match.group(1))
            if self.proc.poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.05)
        raise SystemExit(f"gunicorn did not boot:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


def timed_request(port: int, method: str, path: str, key: str, body: dict | None = None):
    """Seconds from sending the request to reading the whole response, on a new connection."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json",
               # What the TLS-terminating proxy adds; production redirects plain HTTP.
               "X-Forwarded-Proto": "https"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed, response.status, data


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    args = parse_args()
    state = Path(tempfile.mkdtemp(prefix="portal-bench-first-start-"))
    database_url = args.database_url or f"sqlite:///{state / 'bench.sqlite3'}"
    seeded = seed(state, database_url, args.rounds, args.items)
    env = {key: value for key, value in os.environ.items()
           if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "EMAIL_BACKEND")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "review_portal.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PORTAL_ENCRYPTION_KEYS": seeded["encryption_keys"], "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": "memory://", "REDIS_CACHE_URL": args.cache_url,
        "PORTAL_VAR_DIR": str(state), "EVALUATION_LOG_ROOT": str(state / "eval-logs"),
        "LOG_LEVEL": "WARNING",
    }
    from evaluations.models import EvaluationRun

    def arm(name: str, round_no: int) -> tuple[float, float]:
        port = args.port or free_port()
        server = Server(env, port, state / f"gunicorn-{name}-{round_no}.log")
        try:
            pid = server.wait_booted()
            if name == "start":
                request_pk = seeded["requests"][round_no]
                elapsed, status, data = timed_request(
                    port, "POST", "/api/v1/runs/", seeded["key"],
                    {"request": request_pk, "suite_version": seeded["version"]})
                if status != 201:
                    raise SystemExit(f"run start answered {status}: {data[:500]!r}")
                run = EvaluationRun.objects.get(pk=json.loads(data)["id"])
                assert run.request_id == request_pk and run.status == EvaluationRun.Status.QUEUED
            else:
                elapsed, status, data = timed_request(port, "GET", BASELINE_URL, seeded["key"])
                if status != 200:
                    raise SystemExit(f"{BASELINE_URL} answered {status}: {data[:500]!r}")
            return elapsed, rss_mb(pid)
        finally:
            server.stop()

    backend = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    print(f"first request on a fresh gunicorn worker (1 worker, gunicorn.conf.py, production "
          f"settings), {backend}, suite of {args.items} samples, {args.rounds} rounds")
    print("round  start s  baseline s  ratio  worker RSS MB start/baseline")
    starts, ratios = [], []
    for i in range(args.rounds):
        order = ["start", "baseline"] if i % 2 == 0 else ["baseline", "start"]
        results = {name: arm(name, i) for name in order}
        (start, start_rss), (base, base_rss) = results["start"], results["baseline"]
        starts.append(start)
        ratios.append(start / base)
        print(f"{i + 1:>5}  {start:7.3f}  {base:10.3f}  {start / base:5.2f}  "
              f"{start_rss:.0f}/{base_rss:.0f}", flush=True)
    print(f"first run start s: median {statistics.median(starts):.3f}, "
          f"range {min(starts):.3f}-{max(starts):.3f}")
    print(f"ratio start/baseline: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f}-{max(ratios):.2f}")
    print(f"(state and server logs in {state})")


if __name__ == "__main__":
    main()
