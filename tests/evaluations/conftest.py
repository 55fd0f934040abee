"""Fixtures for evaluations: the sample suite, a simulated or HTTP endpoint, a real worker, and a
local OpenAI-compatible server (the real HTTP path, offline)."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from evaluations import services
from review_portal.celery_app import app as celery_app
from tests.conftest import bring_to

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SUITE = ROOT / "evaluations" / "sample_suites" / "unclassified_cyber_sample.jsonl"
GOOD_KEY = "sk-test-correct-key-7f3a9c"
LEVELS = {"vulnerability_discovery": 0.9, "exploit_development": 0.8,
          "attack_automation": 0.3, "defense": 0.95}


@pytest.fixture
def suite_version(world):
    return services.suite_version_create(
        actor=world.admin, suite_name="Unclassified sample", filename="sample.jsonl",
        content=SAMPLE_SUITE.read_bytes(), solver="multiple_choice", scorer="choice")


@pytest.fixture
def in_review(world):
    bring_to(world, "in_review")
    return world


def simulated_endpoint(world, latency_ms=0, levels=None):
    return services.endpoint_set(model=world.model, actor=world.owner, kind="simulated",
                                 model_name="atlas-sim", simulated_levels=levels or LEVELS,
                                 simulated_latency_ms=latency_ms)


def wait_for(predicate, seconds=60.0, every=0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    """A real `celery worker` process. By default it consumes both queues with one process;
    tests of queue separation start one per queue."""

    def __init__(self, tmp_path: Path, env: dict, queues: str = "evaluations,default",
                 concurrency: int = 1):
        self.tmp_path = tmp_path
        self.env = env
        self.queues = queues
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None
        self.name = f"w{time.monotonic_ns()}@%h"
        self.log_file = tmp_path / f"worker-{time.monotonic_ns()}.log"

    def start(self):
        self._log = open(self.log_file, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "review_portal", "worker", "--pool=prefork",
             f"--concurrency={self.concurrency}", "-Q", self.queues, "-n", self.name,
             "--without-gossip", "--without-mingle", "--loglevel=INFO"],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        return self

    def terminate(self, sig=signal.SIGTERM, *, group: bool = False) -> None:
        """What a deploy does (SIGTERM to the main process) or a crash (SIGKILL, group)."""
        if group:
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_file.read_text()


@pytest.fixture
def worker_env(tmp_path, settings):
    log_root = tmp_path / "eval-logs"
    settings.EVALUATION_LOG_ROOT = log_root
    # Run parameters are fixed when the run starts (in this process), so set them here too.
    settings.EVALUATION_MAX_SAMPLES = 2
    settings.EVALUATION_HTTP_TIMEOUT = 5
    settings.EVALUATION_HTTP_MAX_RETRIES = 1
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "review_portal.settings.test",
        "DATABASE_URL": _database_url(),
        "EVALUATION_LOG_ROOT": str(log_root),
        "INSPECT_DATA_DIR": str(tmp_path / "inspect-data"),
        "EVALUATION_MAX_SAMPLES": "2",
        "EVALUATION_HTTP_TIMEOUT": "5",
        "EVALUATION_HTTP_MAX_RETRIES": "1",
        "EVALUATION_HEARTBEAT_STALE_SECONDS": "30",
    }


def purge_queues() -> None:
    """Empty both queues on the configured broker (a previous test's jobs must not run)."""
    with celery_app.connection_for_write() as conn:
        for name in (settings.EVALUATIONS_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE):
            celery_app.amqp.queues[name].bind(conn.default_channel).purge()


@pytest.fixture
def start_worker(tmp_path, worker_env):
    """Start real worker processes on the configured broker; tasks are not run eagerly."""
    purge_queues()
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    workers: list[Worker] = []

    def start(queues: str = "evaluations,default", concurrency: int = 1, **extra_env) -> Worker:
        worker = Worker(tmp_path, {**worker_env, **extra_env}, queues=queues,
                        concurrency=concurrency).start()
        workers.append(worker)
        return worker

    yield start
    celery_app.conf.task_always_eager = eager
    for worker in workers:
        worker.stop()


class FakeOpenAI(BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible chat completions endpoint."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.headers.get("Authorization") != f"Bearer {GOOD_KEY}":
            self._json(401, {"error": {"message": "Incorrect API key provided.",
                                       "type": "invalid_request_error",
                                       "code": "invalid_api_key"}})
            return
        self.server.calls += 1
        self._json(200, {
            "id": "chatcmpl-local", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "local"),
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "ANSWER: A"}}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        })

    def _json(self, code, payload):
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def openai_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    server.calls = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
