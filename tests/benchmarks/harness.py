"""Shared set-up for the benchmarks (run by hand, never by pytest): a scratch database, the
cast of users, a suite of N synthetic items, a simulated endpoint and real worker processes.

By default everything is embedded (SQLite and the filesystem broker in a temporary folder). With
--postgres it uses a scratch PostgreSQL database `portal_bench` and Redis database 12 on this
machine (both recreated/flushed first)."""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATEGORIES = ["vulnerability_discovery", "exploit_development", "attack_automation", "defense"]
LEVELS = {"vulnerability_discovery": 0.7, "exploit_development": 0.6,
          "attack_automation": 0.4, "defense": 0.9}


def parse_args(description: str, extra=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--postgres", action="store_true",
                        help="use PostgreSQL and Redis on 127.0.0.1, not the embedded default")
    parser.add_argument("--max-samples", type=int, default=16,
                        help="samples Inspect runs in parallel (same in both arms)")
    if extra:
        extra(parser)
    return parser.parse_args()


def configure_environment(args) -> dict:
    """Point this process (and the workers it starts) at a scratch database and broker."""
    state = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {"PORTAL_VAR_DIR": str(state), "DJANGO_SETTINGS_MODULE": "review_portal.settings.local",
           "EVALUATION_MAX_SAMPLES": str(args.max_samples), "LOG_LEVEL": "WARNING",
           "DEBUG": "false", "ALLOWED_HOSTS": "testserver,localhost"}
    if args.postgres:
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists",
                        "portal_bench"], check=True)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", "portal_bench"],
                       check=True)
        subprocess.run(["redis-cli", "-n", "12", "flushdb"], check=True, capture_output=True)
        env |= {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/portal_bench",
                "CELERY_BROKER_URL": "redis://127.0.0.1:6379/12"}
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


def start_workers(env: dict, count: int) -> list[subprocess.Popen]:
    procs = []
    for i in range(count):
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "review_portal", "worker", "--pool=prefork",
             "--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=WARNING",
             "-n", f"bench{i}@%h"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def stop_workers(procs) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(timeout=60)


def start_run_via_api(client, request_pk: int, version_pk: int) -> int:
    response = client.post("/api/v1/runs/", {"request": request_pk, "suite_version": version_pk},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def wait_finished(run_ids: list[int], timeout: float = 1800) -> float:
    """Poll until every run has stored its result; returns the time it finished."""
    from evaluations.models import EvaluationRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = list(EvaluationRun.objects.filter(pk__in=run_ids)
                        .values_list("status", flat=True))
        if all(s in EvaluationRun.FINISHED for s in statuses):
            bad = [s for s in statuses if s != EvaluationRun.Status.SUCCEEDED]
            if bad:
                raise SystemExit(f"runs did not succeed: {bad}")
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit("timed out waiting for runs")
