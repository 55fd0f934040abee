"""Fixtures for background jobs: presences as workers and beat write them, and the broker
pointed at a port nothing listens on (a real refused connection, not a mock)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from evaluations.models import EvaluationRun
from jobs.models import Presence
from review_portal.celery_app import app
from tests.faultkit import free_port


def presence(name="celery@worker-a", *, kind="worker", queues=("evaluations", "default"),
             seen_ago=1.0, stopped=False, hostname="host-a") -> Presence:
    now = timezone.now()
    return Presence.objects.create(
        name=name, kind=kind, hostname=hostname, pid=4242, queues=list(queues),
        concurrency=2 if kind == "worker" else 0, started_at=now - timedelta(hours=1),
        seen_at=now - timedelta(seconds=seen_ago), stopped_at=now if stopped else None)


def point_the_broker_at(monkeypatch, url: str) -> None:
    """Publish and read the queues through `url` (Redis), whatever the configured broker:
    CELERY_BROKER_WRITE_URL wins over the settings in Celery, and the embedded default's
    transport is replaced. The producer pool is dropped so a publish opens a new connection."""
    monkeypatch.setenv("CELERY_BROKER_WRITE_URL", url)
    monkeypatch.setitem(app.conf, "broker_transport", "redis")
    monkeypatch.setitem(app.conf, "broker_transport_options", {
        "socket_connect_timeout": 1, "socket_timeout": 5})
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr(app.amqp, "_producer_pool", None)


@pytest.fixture
def dead_broker(monkeypatch) -> str:
    """A Redis URL on a free port: every connection is refused."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    point_the_broker_at(monkeypatch, url)
    return url


def queued_run(world, version, *, age: float = 0.0) -> EvaluationRun:
    """A run as run_start leaves it (queued), created `age` seconds ago. A repeat, so several
    may be queued for one suite version."""
    run = EvaluationRun.objects.create(
        request=world.request, suite_version=version, started_by=world.reviewer,
        suite_hash=version.content_hash, model_identity="portalsim/atlas-sim",
        samples_total=2, is_repeat=True)
    EvaluationRun.objects.filter(pk=run.pk).update(
        created_at=timezone.now() - timedelta(seconds=age))
    run.refresh_from_db()
    return run
