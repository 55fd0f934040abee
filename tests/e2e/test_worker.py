"""A real Celery worker process, on the configured broker (Redis in CI) and the test database."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from review_portal.celery_app import app as celery_app
from submissions.models import AccessWindow
from submissions.tasks import windows_check_rules_task
from submissions.window_services import window_schedule
from tests.conftest import bring_to

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST']}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """Start `celery worker` (prefork) with a lower window cap, so it has work to find."""
    celery_app.control.purge()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "review_portal.settings.test",
        "DATABASE_URL": _database_url(),
        "ACCESS_WINDOW_MAX_DAYS": "10",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "emails"),
    }
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "review_portal", "worker", "--pool=prefork",
         "--concurrency=1", "--without-gossip", "--without-mingle", "--loglevel=INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield tmp_path
    finally:
        celery_app.conf.task_always_eager = eager
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _wait_for(predicate, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


def test_a_real_worker_flags_a_window_that_breaks_a_lowered_cap_and_emails_the_admins(
        world, worker):
    bring_to(world, "determined")
    now = timezone.now()
    window = window_schedule(model=world.model, actor=world.owner,
                             starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=21))

    windows_check_rules_task.delay()

    flagged = _wait_for(lambda: AccessWindow.objects.get(pk=window.pk).flag_reason != "")
    log = (worker / "worker.log").read_text()
    assert flagged, log
    window.refresh_from_db()
    assert "at most 10 days" in window.flag_reason
    assert window.ends_at - window.starts_at == timedelta(days=20)  # flagged, never changed

    def sent():  # the file backend creates the file before it writes the message
        return "".join(p.read_text() for p in (worker / "emails").glob("*.log"))

    assert _wait_for(lambda: "Access window flagged" in sent(), seconds=30), sent() or log
    assert "admin@example.org" in sent()
