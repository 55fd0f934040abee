"""Web processes never import Inspect: importing it takes seconds, and a web worker that does so
inside a request (the first run start) blew through gunicorn's timeout and was killed.

The check runs in a fresh interpreter, because this test process (and the rest of the suite) may
well have imported Inspect already. The child loads the WSGI application, imports every module a
web process can reach, resolves every URL, then starts a run through the API as the assigned
reviewer, and reports what ended up in `sys.modules`.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evaluations.models import EvaluationRun
from tests.evaluations.conftest import _database_url, simulated_endpoint

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import importlib, json, pkgutil, sys

from review_portal.wsgi import application  # what gunicorn loads
import django
django.setup()
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

# Worker-only modules; migrations, management commands and the other settings modules never
# run in a web process.
WORKER_ONLY = {"evaluations.engine", "evaluations.simulated"}
SKIP_PARTS = {"migrations", "management", "settings"}
root = str(settings.BASE_DIR)
imported = []
for app in [config.name for config in apps.get_app_configs()] + ["review_portal"]:
    package = importlib.import_module(app)
    if not package.__file__.startswith(root + "/") or ".venv" in package.__file__:
        continue  # third-party apps: not ours to vouch for
    for info in pkgutil.walk_packages(package.__path__, prefix=app + "."):
        if info.name in WORKER_ONLY or SKIP_PARTS & set(info.name.split(".")):
            continue
        importlib.import_module(info.name)
        imported.append(info.name)


def patterns(resolver, prefix=""):
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            yield from patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry, prefix + str(entry.pattern)


resolved = 0
for entry, _route in patterns(get_resolver()):
    entry.callback  # resolving a view imports its module
    resolved += 1
resolve("/api/v1/runs/")
after_imports = "inspect_ai" in sys.modules

from celery import current_app
current_app.conf.task_always_eager = False  # a web process publishes; it never runs the job

from accounts.models import User
reviewer = User.objects.get(pk=int(sys.argv[1]))
client = Client()
client.force_login(reviewer)
response = client.post("/api/v1/runs/", {"request": int(sys.argv[2]),
                                         "suite_version": int(sys.argv[3])},
                       content_type="application/json")
print(json.dumps({
    "status": response.status_code,
    "body": response.content.decode()[:500],
    "imported": imported,
    "resolved": resolved,
    "inspect_after_imports": after_imports,
    "inspect_after_run_start": "inspect_ai" in sys.modules,
    "inspect_modules": sorted(m for m in sys.modules if m.startswith("inspect_ai"))[:5],
}))
"""


@pytest.mark.django_db(transaction=True)  # the child process must see the committed rows
def test_a_web_process_starts_a_run_without_importing_inspect(in_review, suite_version):
    world = in_review
    simulated_endpoint(world)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.test",
           "DATABASE_URL": _database_url(),
           # Publishing must not wait for a broker: the question here is only what gets imported.
           "CELERY_BROKER_URL": "memory://", "ALLOWED_HOSTS": "testserver"}
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(world.reviewer.pk), str(world.request.pk),
         str(suite_version.pk)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-3000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])

    # The walk really covered the web side: views, APIs, services and URLs of every app.
    for module in ("evaluations.views", "evaluations.api", "evaluations.services",
                   "evaluations.tasks", "submissions.api", "partners.api", "reviews.api",
                   "notifications.api", "review_portal.urls"):
        assert module in report["imported"], module
    assert report["resolved"] > 50
    assert report["status"] == 201, report["body"]
    run = EvaluationRun.objects.get(request=world.request)
    assert run.status == EvaluationRun.Status.QUEUED and run.inspect_version
    assert not report["inspect_after_imports"], report["inspect_modules"]
    assert not report["inspect_after_run_start"], report["inspect_modules"]
