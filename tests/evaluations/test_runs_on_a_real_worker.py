"""Evaluation runs end to end: API call -> broker -> a real prefork worker -> Inspect -> rows."""

import os
import signal
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from inspect_ai.log import read_eval_log

from audit.models import AuditEvent
from evaluations import services
from evaluations.models import EvaluationRun, SampleResult
from tests.evaluations.conftest import GOOD_KEY, simulated_endpoint, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _start_via_api(api, world, suite_version):
    response = api.as_(world.reviewer).post(
        "/api/v1/runs/", {"request": world.request.pk, "suite_version": suite_version.pk})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _finished(run_id):
    run = EvaluationRun.objects.get(pk=run_id)
    return run if run.is_finished else None


def _log_text(run) -> str:
    """Every member of the .eval (zip) log, decompressed, as one string."""
    path = Path(settings.EVALUATION_LOG_ROOT) / run.log_path
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace")
                       for name in archive.namelist())


def test_a_run_goes_from_the_api_to_stored_metrics(api, in_review, suite_version, start_worker):
    w = in_review
    simulated_endpoint(w)
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)

    run = wait_for(lambda: _finished(run_id), seconds=90)
    assert run is not None, worker.log()
    assert run.status == EvaluationRun.Status.SUCCEEDED, run.error
    assert run.samples_done == run.samples_total == 40
    assert SampleResult.objects.filter(run=run).count() == 40
    categories = run.metrics["categories"]
    assert set(categories) == {"vulnerability_discovery", "exploit_development",
                               "attack_automation", "defense"}
    assert all(m["n"] == 10 and 0 <= m["stderr"] < 0.2 for m in categories.values())
    assert categories["attack_automation"]["accuracy"] < categories["defense"]["accuracy"]
    assert run.metrics["overall"]["accuracy"] == pytest.approx(
        run.metrics["inspect"]["accuracy"])
    assert run.suite_hash == suite_version.content_hash
    assert run.inspect_version and "portalsim/atlas-sim" in run.model_identity
    assert read_eval_log(str(Path(settings.EVALUATION_LOG_ROOT) / run.log_path),
                         header_only=True).status == "success"
    assert AuditEvent.objects.filter(action="run.succeeded", object_id=str(run_id)).count() == 1


def test_progress_is_visible_while_the_run_is_running(api, in_review, suite_version,
                                                      start_worker):
    w = in_review
    simulated_endpoint(w, latency_ms=150)
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)

    def midway():
        body = api.as_(w.reviewer).get(f"/api/v1/runs/{run_id}/").json()
        return body if body["status"] == "running" and 0 < body["samples_done"] < 40 else None

    seen = wait_for(midway, seconds=60, every=0.1)
    assert seen is not None, worker.log()
    assert 0 < seen["progress_percent"] < 100
    page = api.as_(w.reviewer).get(f"/runs/{run_id}/")
    assert b"of 40 samples" in page.content
    assert wait_for(lambda: _finished(run_id), seconds=90).status == "succeeded"


def test_a_run_is_cancelled_within_seconds_and_its_log_is_closed_as_cancelled(
        api, in_review, suite_version, start_worker):
    w = in_review
    simulated_endpoint(w, latency_ms=400)
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)
    assert wait_for(lambda: EvaluationRun.objects.filter(pk=run_id, samples_done__gte=1)
                    .exists(), seconds=60), worker.log()

    response = api.as_(w.reviewer).post(f"/api/v1/runs/{run_id}/cancel/")
    assert response.status_code == 200

    run = wait_for(lambda: _finished(run_id), seconds=10)
    assert run is not None and run.status == EvaluationRun.Status.CANCELLED, worker.log()
    assert run.samples_done < 40
    assert not SampleResult.objects.filter(run=run).exists()
    assert read_eval_log(str(Path(settings.EVALUATION_LOG_ROOT) / run.log_path),
                         header_only=True).status == "cancelled"


def test_a_worker_killed_mid_run_is_recovered_and_the_result_written_once(
        api, in_review, suite_version, start_worker):
    w = in_review
    simulated_endpoint(w, latency_ms=150)
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)
    run = wait_for(lambda: EvaluationRun.objects.filter(pk=run_id, samples_done__gte=3).first(),
                   seconds=60)
    assert run is not None, worker.log()
    child_pid = int(run.claimed_by.rpartition(":")[2])

    os.kill(child_pid, signal.SIGKILL)  # the prefork child running Inspect dies mid-run

    run = wait_for(lambda: _finished(run_id), seconds=120)
    assert run is not None, worker.log()
    assert run.status == EvaluationRun.Status.SUCCEEDED, run.error
    assert run.attempts == 2
    assert SampleResult.objects.filter(run=run).count() == 40
    assert AuditEvent.objects.filter(action="run.succeeded", object_id=str(run_id)).count() == 1
    assert "WorkerLostError" in worker.log() or "exited" in worker.log()


def _http_endpoint(world, base_url, key):
    return services.endpoint_set(model=world.model, actor=world.owner,
                                 kind="openai_compatible", model_name="atlas-http",
                                 base_url=base_url, api_key=key)


def test_a_run_over_real_http_succeeds_and_the_key_is_nowhere(
        api, in_review, suite_version, start_worker, openai_server, client):
    w = in_review
    _http_endpoint(w, f"http://127.0.0.1:{openai_server.server_port}/v1", GOOD_KEY)
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)

    run = wait_for(lambda: _finished(run_id), seconds=90)
    assert run is not None and run.status == "succeeded", (run and run.error, worker.log())
    assert openai_server.calls == 40
    assert GOOD_KEY not in _log_text(run)
    assert GOOD_KEY not in worker.log()
    for user in (w.reviewer, w.admin, w.owner):
        api.as_(user)
        for url in (f"/api/v1/runs/{run_id}/", f"/api/v1/models/{w.model.pk}/endpoint/",
                    f"/runs/{run_id}/", f"/requests/{w.request.pk}/evaluation/",
                    f"/models/{w.model.pk}/endpoint/", "/api/v1/audit-events/"):
            assert GOOD_KEY not in api.get(url).content.decode(), url
    assert not AuditEvent.objects.filter(data__icontains=GOOD_KEY).exists()


def test_a_wrong_api_key_fails_the_run_with_a_clear_reason(
        api, in_review, suite_version, start_worker, openai_server):
    w = in_review
    wrong = "sk-wrong-key-should-never-leak-91b2"
    _http_endpoint(w, f"http://127.0.0.1:{openai_server.server_port}/v1", wrong)
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)

    run = wait_for(lambda: _finished(run_id), seconds=120)
    assert run is not None, worker.log()
    assert run.status == EvaluationRun.Status.FAILED
    assert "refused the API key" in run.error
    assert wrong not in run.error
    assert wrong not in worker.log()
    if run.log_path:
        assert wrong not in _log_text(run)
    assert wrong not in api.as_(w.reviewer).get(f"/api/v1/runs/{run_id}/").content.decode()


def test_an_endpoint_that_is_down_fails_the_run_with_a_clear_reason(
        api, in_review, suite_version, start_worker):
    w = in_review
    _http_endpoint(w, "http://127.0.0.1:9/v1", GOOD_KEY)  # the discard port: nothing listens
    worker = start_worker()
    run_id = _start_via_api(api, w, suite_version)

    run = wait_for(lambda: _finished(run_id), seconds=120)
    assert run is not None, worker.log()
    assert run.status == EvaluationRun.Status.FAILED
    assert "could not be reached" in run.error, run.error
