"""Matching under a crash: a real process running a vulnerability's refresh is SIGKILLed, once
in the middle of its transaction (rows written, not committed) and once right after its commit
(the job is redelivered and runs again). Either way the exposures end up computed exactly once:
one row per asset and vulnerability, each handed on once."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from exposures import matching
from exposures.models import Exposure
from tests.clearinghouse.conftest import build_cw, open_case
from tests.conftest import build_world
from tests.evaluations.conftest import _database_url
from tests.exposures.matching_world import asset, inventory_of

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

CRASHING_REFRESH = """
import os, signal, django
django.setup()
from django.db import transaction
from exposures import matching
from exposures.models import Exposure
original = Exposure.objects.bulk_create
def write_then_crash(*args, **kwargs):
    result = original(*args, **kwargs)
    if {before_commit}:
        os.kill(os.getpid(), signal.SIGKILL)
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    return result
Exposure.objects.bulk_create = write_then_crash
matching.refresh_vulnerability(vulnerability_id={vulnerability_id}, cause="crash")
"""


def _crash(vulnerability_id: int, *, before_commit: bool) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.test",
           "DATABASE_URL": _database_url()}
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_REFRESH.format(vulnerability_id=vulnerability_id,
                                                       before_commit=before_commit)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _world():
    cw = open_case(build_cw(build_world()))
    plant = inventory_of(cw.operator)
    for n in range(5):
        asset(plant, name=f"a{n}", purl=f"pkg:pypi/libfoo@1.{n}.0", version=f"1.{n}.0")
    return cw.statement.vulnerability_id


def test_a_refresh_killed_before_its_commit_leaves_nothing_and_the_rerun_writes_each_row_once():
    vulnerability_id = _world()
    _crash(vulnerability_id, before_commit=True)
    assert not Exposure.objects.exists()
    changed = matching.refresh_vulnerability(vulnerability_id=vulnerability_id, cause="retry")
    assert len(changed) == Exposure.objects.count() == 5
    assert matching.refresh_vulnerability(vulnerability_id=vulnerability_id) == []


def test_a_refresh_killed_after_its_commit_and_redelivered_changes_nothing_twice():
    vulnerability_id = _world()
    _crash(vulnerability_id, before_commit=False)
    assert Exposure.objects.count() == 5
    assert matching.refresh_vulnerability(vulnerability_id=vulnerability_id,
                                          cause="redelivered") == []
    assert Exposure.objects.values("asset_id").distinct().count() == 5
