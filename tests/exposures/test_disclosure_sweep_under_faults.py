"""The disclosure sweep under a crash: a real sweep process is SIGKILLed right after its first
operator's release committed; the next run releases the rest, and every operator member is
told exactly once (one urgent notification each, one release audit event per operator)."""

import pytest

from audit.models import AuditEvent
from exposures import disclosure
from exposures.models import Exposure
from notifications.models import Notification
from tests.clearinghouse.test_sweeps_under_faults import _crash_after_first_step
from tests.conftest import build_world
from tests.exposures.disc_world import add_fix, build_dw, open_window

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_disclosure_sweep_killed_mid_way_tells_every_operator_exactly_once():
    dw = build_dw(build_world())
    add_fix(dw)
    open_window(dw)
    # After the fix (whose matching refresh recomputes the fabricated rows' priorities).
    Exposure.objects.filter(pk=dw.exposure_a.pk).update(priority="immediate")
    Exposure.objects.filter(pk=dw.exposure_b.pk).update(priority="out_of_cycle")
    # Terms accepted without releasing yet (the acceptance releases what is due at once).
    from exposures.models import TermsAcceptance

    for org, user in ((dw.org_a, dw.operator), (dw.org_b, dw.operator_b)):
        TermsAcceptance.objects.create(organisation=org, accepted_by=user,
                                       terms_version=disclosure.terms_version())
    assert Exposure.objects.filter(released_at__isnull=False).count() == 0

    _crash_after_first_step("exposures.disclosure", "_release_group", "disclosure_sweep")

    assert Exposure.objects.filter(released_at__isnull=False).count() == 1
    disclosure.disclosure_sweep()
    disclosure.disclosure_sweep()
    assert Exposure.objects.filter(released_at__isnull=False).count() == 2
    assert AuditEvent.objects.filter(action="exposure.released").count() == 2
    urgent = Notification.objects.filter(kind=Notification.Kind.EXPOSURE_URGENT)
    # operator and operator2 (Water Works), operatorb (Hillside Clinic): once each.
    assert sorted(urgent.values_list("user__username", flat=True)) == [
        "operator", "operator2", "operatorb"]
