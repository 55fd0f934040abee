from datetime import timedelta

from django.core.management import call_command
from django.utils import timezone

from accounts.models import Membership, Organisation
from audit.models import AuditEvent
from evaluations.models import EvaluationRun
from partners.models import AccessGrant, PartnerProfile
from submissions.models import AccessWindow, Artifact, ReviewRequest


def test_the_demo_has_every_role_every_state_and_a_window_and_loads_once(db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    assert set(Organisation.objects.values_list("kind", flat=True)) == set(Organisation.Kind.values)
    assert set(Membership.objects.values_list("role", flat=True)) == set(Membership.Role.values)
    statuses = set(ReviewRequest.objects.values_list("status", flat=True))
    assert statuses == {"draft", "in_review", "information_requested", "determined",
                        "withdrawn"}
    assert EvaluationRun.objects.filter(status="queued").count() == 2
    assert AccessWindow.objects.filter(status="scheduled").count() == 2
    assert Artifact.objects.count() == 1
    # Trusted partners: one window active, one ending within 3 days, one ended.
    now = timezone.now()
    grants = AccessGrant.objects.all()
    assert grants.count() == 3
    assert grants.filter(starts_at__lte=now, ends_at__gt=now + timedelta(days=3)).count() == 1
    assert grants.filter(ends_at__gt=now, ends_at__lte=now + timedelta(days=3)).count() == 1
    assert grants.filter(ends_at__lte=now).count() == 1
    assert PartnerProfile.objects.filter(status="vetted").count() == 3
    events = AuditEvent.objects.count()

    call_command("seed_demo")

    assert AuditEvent.objects.count() == events
    assert ReviewRequest.objects.count() == 7
