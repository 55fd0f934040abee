from audit.models import AuditEvent
from tests.conftest import bring_to


def test_the_world_can_be_brought_to_every_state(world):
    for status in ["determined"]:
        r = bring_to(world, status)
        assert r.status == status
    assert AuditEvent.objects.filter(action="review_request.determine").count() == 1
