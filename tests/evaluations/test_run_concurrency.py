"""Starts and cancels that arrive together: twenty identical starts make one run, twenty cancels
one audit event. Each request runs in its own thread with its own database connection."""

import threading

import pytest
from django.db import connection
from django.test import Client

from audit.models import AuditEvent
from evaluations.models import EvaluationRun
from review_portal.celery_app import app as celery_app
from tests.evaluations.conftest import purge_queues, simulated_endpoint

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("queued_only")]
N = 20


@pytest.fixture
def queued_only():
    """Jobs go to the real broker and stay there (no worker runs here), so a started run stays
    queued as it would while workers are busy."""
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield
    celery_app.conf.task_always_eager = eager
    purge_queues()


def _together(n, call):
    """Run `call(i)` in n threads released at the same moment; return the results by i."""
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = call(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _clients(user, n):
    clients = []
    for _ in range(n):
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


def test_twenty_identical_starts_at_once_make_one_run(in_review, suite_version):
    w = in_review
    simulated_endpoint(w)
    clients = _clients(w.reviewer, N)
    body = {"request": w.request.pk, "suite_version": suite_version.pk}

    responses = _together(N, lambda i: clients[i].post("/api/v1/runs/", body,
                                                       content_type="application/json"))

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) + codes.count(202) == 1, codes
    assert codes.count(409) == N - 1, codes
    refused = next(r for r in responses if r.status_code == 409).json()
    assert refused["code"] == "run_active" and "repeat" in refused["detail"]
    assert EvaluationRun.objects.filter(request=w.request).count() == 1
    assert AuditEvent.objects.filter(action="run.started").count() == 1


def test_a_repeat_asked_for_explicitly_starts_a_second_run(api, in_review, suite_version):
    w = in_review
    simulated_endpoint(w)
    body = {"request": w.request.pk, "suite_version": suite_version.pk}
    first = api.as_(w.reviewer).post("/api/v1/runs/", body)
    again = api.as_(w.reviewer).post("/api/v1/runs/", body)
    repeat = api.as_(w.reviewer).post("/api/v1/runs/", {**body, "repeat": True})

    assert first.status_code in (201, 202)
    assert again.status_code == 409
    assert repeat.status_code in (201, 202), repeat.content
    runs = EvaluationRun.objects.filter(request=w.request).order_by("id")
    assert [r.is_repeat for r in runs] == [False, True]


def test_the_page_refuses_a_second_start_with_a_message_and_offers_a_repeat(
        client, in_review, suite_version):
    w = in_review
    simulated_endpoint(w)
    client.force_login(w.reviewer)
    url = f"/requests/{w.request.pk}/evaluation/"
    client.post(url, {"suite_version": suite_version.pk})
    response = client.post(url, {"suite_version": suite_version.pk}, follow=True)
    assert "already" in response.content.decode()
    assert EvaluationRun.objects.filter(request=w.request).count() == 1
    client.post(url, {"suite_version": suite_version.pk, "repeat": "on"})
    assert EvaluationRun.objects.filter(request=w.request).count() == 2


def test_twenty_cancels_of_a_running_run_record_one_cancel(in_review, suite_version):
    w = in_review
    simulated_endpoint(w)
    run = EvaluationRun.objects.create(
        request=w.request, suite_version=suite_version, started_by=w.reviewer,
        status=EvaluationRun.Status.RUNNING, suite_hash=suite_version.content_hash,
        model_identity="portalsim/atlas-sim", claimed_by="elsewhere:1", attempts=1)
    clients = _clients(w.reviewer, N)

    responses = _together(N, lambda i: clients[i].post(f"/api/v1/runs/{run.pk}/cancel/"))

    assert [r.status_code for r in responses] == [200] * N
    assert all(r.json()["cancel_requested"] for r in responses)
    assert AuditEvent.objects.filter(action="run.cancel_requested",
                                     object_id=str(run.pk)).count() == 1
    run.refresh_from_db()
    assert run.cancel_requested and run.status == EvaluationRun.Status.RUNNING
