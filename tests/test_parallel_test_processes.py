"""The suite runs in parallel processes (pytest-xdist, scripts/test.sh): each process gets its own
var folder and Redis databases from review_portal/settings/test.py, and the processes a test
starts keep their parent's."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOW = ("from django.conf import settings; import json; print(json.dumps({"
        "'var': str(settings.VAR_DIR), 'broker': settings.CELERY_BROKER_URL, "
        "'cache': settings.CACHES['default']['LOCATION']}))")


def _settings_in_a_process(**env) -> dict:
    base = {k: v for k, v in os.environ.items()
            if k not in ("PYTEST_XDIST_WORKER", "PORTAL_TEST_WORKER", "PORTAL_VAR_DIR",
                         "CELERY_BROKER_URL", "REDIS_CACHE_URL", "DATABASE_URL")}
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"], cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "review_portal.settings.test", **env},
        capture_output=True, text=True, timeout=60, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_second_test_process_gets_its_own_folder_broker_and_cache_databases(tmp_path):
    redis = {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/15",
             "REDIS_CACHE_URL": "redis://127.0.0.1:6379/14", "PORTAL_VAR_DIR": str(tmp_path)}
    first = _settings_in_a_process(PYTEST_XDIST_WORKER="gw0", **redis)
    second = _settings_in_a_process(PYTEST_XDIST_WORKER="gw1", **redis)
    third = _settings_in_a_process(PYTEST_XDIST_WORKER="gw2", **redis)
    assert first == {"var": str(tmp_path / "xdist-gw0"), "broker": "redis://127.0.0.1:6379/15",
                     "cache": "redis://127.0.0.1:6379/14"}
    # The cache is never another process's broker: its clear() is a FLUSHDB.
    assert (second["broker"], second["cache"]) == ("redis://127.0.0.1:6379/13",
                                                   "redis://127.0.0.1:6379/12")
    assert (third["broker"], third["cache"]) == ("redis://127.0.0.1:6379/11",
                                                 "redis://127.0.0.1:6379/10")
    assert second["var"] == str(tmp_path / "xdist-gw1")


def test_a_process_a_test_starts_keeps_its_parents_folder_and_databases(tmp_path):
    """A worker or gunicorn started by a test in the second process inherits the environment
    settings/test.py made (PORTAL_TEST_WORKER set): it is not moved a second time."""
    moved = {"PYTEST_XDIST_WORKER": "gw1", "PORTAL_TEST_WORKER": "gw1",
             "PORTAL_VAR_DIR": str(tmp_path / "xdist-gw1"),
             "CELERY_BROKER_URL": "redis://127.0.0.1:6379/14"}
    child = _settings_in_a_process(**moved)
    assert child["var"] == str(tmp_path / "xdist-gw1")
    assert child["broker"] == "redis://127.0.0.1:6379/14"


def test_the_embedded_default_gets_its_own_folder_per_process(tmp_path):
    second = _settings_in_a_process(PYTEST_XDIST_WORKER="gw1", PORTAL_VAR_DIR=str(tmp_path))
    assert second["var"] == str(tmp_path / "xdist-gw1")
    assert second["broker"].startswith("filesystem://")
    assert second["cache"] == str(tmp_path / "xdist-gw1" / "test-cache")
