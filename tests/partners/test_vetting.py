import pytest
from django.core.exceptions import PermissionDenied

from audit.models import AuditEvent
from partners import services
from partners.models import PartnerProfile
from review_portal.errors import ApplicationError, TransitionNotAllowed
from tests.partners.conftest import PROFILE


@pytest.fixture
def profile(world):
    return services.partner_apply(actor=world.partner, **PROFILE)


def test_a_partner_member_applies_and_the_application_is_audited(world, profile):
    assert profile.status == PartnerProfile.Status.APPLIED
    assert AuditEvent.objects.filter(action="partner.applied", object_id=str(profile.pk)).exists()


def test_a_developer_cannot_apply_for_an_organisation(world):
    with pytest.raises(PermissionDenied):
        services.partner_apply(actor=world.owner, **PROFILE)


def test_only_program_admins_vet(world, profile):
    for actor in (world.reviewer, world.owner, world.partner):
        with pytest.raises(PermissionDenied):
            services.partner_transition(profile=profile, actor=actor, action="vet", reason="x")
    profile.refresh_from_db()
    assert profile.status == PartnerProfile.Status.APPLIED


def test_vetting_needs_a_reason(world, profile):
    with pytest.raises(ApplicationError):
        services.partner_transition(profile=profile, actor=world.admin, action="vet", reason=" ")


def test_vetted_suspended_and_vetted_again_each_with_its_reason(world, profile):
    services.partner_transition(profile=profile, actor=world.admin, action="vet", reason="ok")
    services.partner_transition(profile=profile, actor=world.admin, action="suspend",
                                reason="Incident under review.")
    profile.refresh_from_db()
    assert (profile.status, profile.status_reason) == ("suspended", "Incident under review.")
    services.partner_transition(profile=profile, actor=world.admin, action="vet",
                                reason="Cleared.")
    actions = list(AuditEvent.objects.filter(object_id=str(profile.pk),
                                             object_type="partners.partnerprofile")
                   .order_by("id").values_list("action", "data__reason"))
    assert actions[1:] == [("partner.vetted", "ok"), ("partner.suspended",
                                                      "Incident under review."),
                           ("partner.vetted", "Cleared.")]


def test_an_applied_organisation_cannot_be_suspended_and_a_revoked_one_stays_revoked(world,
                                                                                      profile):
    with pytest.raises(TransitionNotAllowed):
        services.partner_transition(profile=profile, actor=world.admin, action="suspend",
                                    reason="x")
    services.partner_transition(profile=profile, actor=world.admin, action="revoke",
                                reason="Fraud.")
    with pytest.raises(TransitionNotAllowed):
        services.partner_transition(profile=profile, actor=world.admin, action="vet",
                                    reason="x")
