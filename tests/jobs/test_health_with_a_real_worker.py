"""The issue's case end to end: a real worker writes its presence, the page shows it alive and
names the queue nobody consumes; once it stops, the page says no worker is running."""

import pytest
from django.urls import reverse

from jobs.models import Presence
from tests.evaluations.conftest import start_worker, wait_for, worker_env  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_page_follows_a_real_worker_from_start_to_stop(client, world, start_worker):  # noqa: F811
    client.force_login(world.admin)
    worker = start_worker(queues="default")
    seen = wait_for(lambda: Presence.objects.filter(kind="worker").first(), seconds=60)
    assert seen is not None, worker.log()
    assert seen.queues == ["default"] and seen.stopped_at is None
    body = client.get(reverse("queue_health")).content.decode()
    assert f"<td>{seen.name}</td>" in body and "<strong>Alive</strong>" in body
    assert "No running worker consumes the evaluations queue." in body
    assert "No worker is running" not in body

    worker.stop()
    seen.refresh_from_db()
    assert seen.stopped_at is not None
    body = client.get(reverse("queue_health")).content.decode()
    assert "<strong>Stopped</strong>" in body
    assert "No worker is running: evaluations, emails and reminders are not being done." in body
