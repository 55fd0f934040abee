"""The clearinghouse's beat sweeps under a crash: a real sweep process is SIGKILLed right
after its first step committed; the next run finishes the rest, and every reminder, "no
response" and embargo exit happens exactly once (one audit event, one notification each)."""

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from clearinghouse import cases, embargo
from clearinghouse.models import Embargo, Participant
from notifications.models import Notification
from tests.clearinghouse.conftest import build_cw, make_report, open_case, vet
from tests.conftest import build_world
from tests.evaluations.conftest import _database_url
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]

# Runs one sweep in its own process; the step function is wrapped so that the process kills
# itself (SIGKILL: no clean-up at all) as soon as the first step's transaction committed.
CRASHING_SWEEP = """
import os, signal, django
django.setup()
from django.db import transaction
import {module} as target
original = target.{step}
def step_then_crash(*args, **kwargs):
    result = original(*args, **kwargs)
    transaction.on_commit(lambda: os.kill(os.getpid(), signal.SIGKILL))
    return result
target.{step} = step_then_crash
target.{sweep}()
"""


def _crash_after_first_step(module: str, step: str, sweep: str) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "review_portal.settings.test",
           "DATABASE_URL": _database_url()}
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_SWEEP.format(module=module, step=step, sweep=sweep)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr


def _three_silent_vendors():
    cw = open_case(build_cw(build_world()))
    for name in ("Vendor C", "Vendor D"):
        org = OrganisationFactory(name=name, kind="vendor")
        vet(cw.coordinator, UserFactory(username=name.lower().replace(" ", ""),
                                        organisation=org))
        cases.vendor_add(case=cw.case, organisation=org, actor=cw.coordinator)
    vendors = Participant.objects.filter(case=cw.case, role="vendor")
    assert vendors.count() == 3
    vendors.update(notified_at=timezone.now() - timedelta(days=8))
    return cw, vendors


def test_a_reminder_sweep_killed_mid_way_reminds_every_silent_vendor_exactly_once():
    cw, vendors = _three_silent_vendors()

    _crash_after_first_step("clearinghouse.cases", "_remind", "vendors_sweep_silent")

    assert vendors.filter(reminded_7_at__isnull=False).count() == 1
    assert AuditEvent.objects.filter(action="case_vendor.reminded").count() == 1
    cases.vendors_sweep_silent()
    cases.vendors_sweep_silent()
    assert vendors.filter(reminded_7_at__isnull=True).count() == 0
    assert AuditEvent.objects.filter(action="case_vendor.reminded").count() == 3
    reminders = Notification.objects.filter(kind=Notification.Kind.STATEMENT_REMINDER)
    assert reminders.count() == 4  # one per vendor member: Vendor A has two
    assert reminders.values("user").distinct().count() == 4


def _two_embargoes_past_their_end():
    world = build_world()
    cw = build_cw(world)
    second = make_report(cw.w.acme, cw.finder, validated_by=cw.finder, title="Another flaw")
    ended = []
    for report in (cw.report, second):
        cw.report = report
        open_case(cw)
        proposal = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
        for acceptance in proposal.acceptances.all():
            member = acceptance.organisation.memberships.first().user
            embargo.embargo_answer(embargo=proposal, actor=member, accept=True)
        ended.append(proposal.pk)
    embargoes = Embargo.objects.filter(pk__in=ended)
    assert set(embargoes.values_list("status", flat=True)) == {Embargo.Status.ACTIVE}
    embargoes.update(ends_at=timezone.now() - timedelta(minutes=5))
    return embargoes


def test_an_embargo_sweep_killed_mid_way_exits_every_ended_embargo_exactly_once():
    embargoes = _two_embargoes_past_their_end()

    _crash_after_first_step("clearinghouse.embargo", "_exit", "embargoes_sweep_ended")

    assert embargoes.filter(status=Embargo.Status.EXITED).count() == 1
    embargo.embargoes_sweep_ended()
    embargo.embargoes_sweep_ended()
    assert embargoes.filter(status=Embargo.Status.EXITED).count() == 2
    assert AuditEvent.objects.filter(action="embargo.exited").count() == 2
