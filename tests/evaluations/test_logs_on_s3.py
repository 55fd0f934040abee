"""Inspect logs in S3-compatible storage: a real worker process that shares no storage folder with
this (web) process runs Inspect with its log_dir in the bucket (Inspect's own S3 support), and a
reviewer downloads the log through the portal, streamed from the bucket. The store failing under
the worker fails the run with a reason the reviewer can read. Against moto in server mode
(tests/storagekit.py)."""

import io
import time
import zipfile
from pathlib import Path

import pytest
from celery import current_app
from django.conf import settings
from inspect_ai.log import read_eval_log

from audit.models import AuditEvent
from evaluations.models import EvaluationRun, SampleResult
from tests.evaluations.conftest import simulated_endpoint, wait_for
from tests.storagekit import s3, s3_behind_proxy, s3_proxy, s3_server  # noqa: F401

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _own_folders(tmp_path: Path) -> dict:
    """The worker's folders, none of them the web process's. With the embedded broker and SQLite
    the queue folder and the database file are still shared (they are the broker and the
    database); with Redis and PostgreSQL the worker has its own PORTAL_VAR_DIR as well."""
    root = tmp_path / "worker-host"
    folders = {"EVALUATION_LOG_ROOT": str(root / "eval-logs"),
               "PRIVATE_MEDIA_ROOT": str(root / "private"),
               "INSPECT_DATA_DIR": str(root / "inspect-data")}
    if not current_app.conf.broker_url.startswith("filesystem://"):
        folders["PORTAL_VAR_DIR"] = str(root / "var")
    return folders


def _start(api, world, suite_version) -> int:
    response = api.as_(world.reviewer).post(
        "/api/v1/runs/", {"request": world.request.pk, "suite_version": suite_version.pk})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _finished(run_id):
    run = EvaluationRun.objects.get(pk=run_id)
    return run if run.is_finished else None


def _files(folder) -> list[Path]:
    folder = Path(folder)
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_a_reviewer_downloads_the_log_a_worker_on_another_host_wrote_to_the_bucket(
        api, client, in_review, suite_version, start_worker, s3, tmp_path):  # noqa: F811
    w = in_review
    simulated_endpoint(w)
    folders = _own_folders(tmp_path)
    worker = start_worker(**s3.env, **folders)
    run_id = _start(api, w, suite_version)

    run = wait_for(lambda: _finished(run_id), seconds=120)
    assert run is not None, worker.log()
    assert run.status == EvaluationRun.Status.SUCCEEDED, (run.error, worker.log()[-3000:])
    assert SampleResult.objects.filter(run=run).count() == 40
    assert run.log_path.startswith(f"run-{run_id}/attempt-1/") and run.log_path.endswith(".eval")
    key = f"eval-logs/{run.log_path}"
    assert s3.keys("eval-logs/") == [key]
    # Nothing on either host's disk: not in the web's log folder, not in the worker's.
    assert _files(settings.EVALUATION_LOG_ROOT) == []
    assert [p for p in _files(Path(folders["EVALUATION_LOG_ROOT"]).parent)
            if p.suffix == ".eval"] == []

    client.force_login(w.reviewer)
    for url in (f"/api/v1/runs/{run_id}/log/", f"/runs/{run_id}/log/"):
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response)
        assert body == s3.read(key)
        assert response["Content-Type"] == "application/zip"
        assert response["Cache-Control"] == "private, no-store"
        assert s3.name not in str(response.headers)
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            assert "header.json" in archive.namelist()
    assert AuditEvent.objects.filter(action="run.log_downloaded", actor=w.reviewer).count() == 2

    client.force_login(w.reviewer2)  # not assigned to the request
    assert client.get(f"/api/v1/runs/{run_id}/log/").status_code == 404
    assert client.get(f"/runs/{run_id}/log/").status_code == 404
    assert AuditEvent.objects.filter(action="run.log_downloaded").count() == 2


def test_the_store_going_down_while_the_worker_writes_the_log_fails_the_run_with_a_reason(
        api, client, in_review, suite_version, start_worker, s3_behind_proxy,  # noqa: F811
        s3_proxy, tmp_path):  # noqa: F811
    w = in_review
    simulated_endpoint(w, latency_ms=150)
    worker = start_worker(**s3_behind_proxy.env, **_own_folders(tmp_path))
    run_id = _start(api, w, suite_version)
    assert wait_for(lambda: EvaluationRun.objects.filter(pk=run_id, samples_done__gte=2)
                    .exists(), seconds=60), worker.log()

    s3_proxy.close()  # the store is gone for good while Inspect flushes and finishes the log

    # Inspect's S3 clients retry every call up to 10 times (botocore's adaptive mode, backing
    # off up to 20 s between tries; inspect_ai/_util/asyncfiles.py sets it, and an explicit
    # client Config wins over AWS_MAX_ATTEMPTS), and finishing a log makes several calls: the
    # run fails about four minutes after the store went away (229 s measured beside another
    # test run), and CI machines are busier: the wait allows twice that.
    run = wait_for(lambda: _finished(run_id), seconds=480)
    assert run is not None, worker.log()[-3000:]
    assert run.status == EvaluationRun.Status.FAILED
    assert "could not be written to the portal's storage" in run.error, run.error
    assert "127.0.0.1" not in run.error and s3_behind_proxy.name not in run.error
    assert not SampleResult.objects.filter(run=run).exists()
    assert AuditEvent.objects.filter(action="run.failed", object_id=str(run_id)).count() == 1
    assert not AuditEvent.objects.filter(action="run.succeeded", object_id=str(run_id)).exists()
    body = api.as_(w.reviewer).get(f"/api/v1/runs/{run_id}/").json()
    assert body["status"] == "failed" and "portal's storage" in body["error"]
    # The log is not there (or only the part flushed before): the download says so, no 500.
    response = api.as_(w.reviewer).get(f"/api/v1/runs/{run_id}/log/")
    assert response.status_code in (404, 503)


def test_a_store_back_within_seconds_loses_nothing_and_the_result_is_written_once(
        api, client, in_review, suite_version, start_worker, s3_behind_proxy,  # noqa: F811
        s3_proxy, tmp_path):  # noqa: F811
    w = in_review
    simulated_endpoint(w, latency_ms=300)
    worker = start_worker(**s3_behind_proxy.env, **_own_folders(tmp_path))
    run_id = _start(api, w, suite_version)
    assert wait_for(lambda: EvaluationRun.objects.filter(pk=run_id, samples_done__gte=2)
                    .exists(), seconds=60), worker.log()

    s3_proxy.close()  # down while Inspect flushes samples to the log ...
    time.sleep(5)
    s3_proxy.reopen()  # ... and back: Inspect's S3 clients retried meanwhile

    run = wait_for(lambda: _finished(run_id), seconds=180)
    assert run is not None, worker.log()[-3000:]
    assert run.status == EvaluationRun.Status.SUCCEEDED, run.error
    assert run.attempts == 1
    assert SampleResult.objects.filter(run=run).count() == 40
    assert AuditEvent.objects.filter(action="run.succeeded", object_id=str(run_id)).count() == 1
    assert not AuditEvent.objects.filter(action="run.failed", object_id=str(run_id)).exists()
    key = f"eval-logs/{run.log_path}"
    assert s3_behind_proxy.keys("eval-logs/") == [key]
    body = b"".join(api.as_(w.reviewer).get(f"/api/v1/runs/{run_id}/log/"))
    assert body == s3_behind_proxy.read(key)
    downloaded = tmp_path / "downloaded.eval"
    downloaded.write_bytes(body)
    log = read_eval_log(str(downloaded), header_only=True)
    assert log.status == "success" and log.results.completed_samples == 40
