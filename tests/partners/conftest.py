"""The partner world: `covered` plus a vetted partner (world.partner's Rural Hospital), a second
vetted partner organisation, a government window on `model` ending in 11 days and terms v1.

A partner window may then run from day 12 to the public release at day 90."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import Organisation
from partners import services
from partners.models import AccessGrant
from submissions.window_services import window_schedule
from tests.factories import OrganisationFactory, UserFactory

PROFILE = {"sector": "healthcare", "protects": "A rural hospital's patient records.",
           "contact_name": "Pat Doe", "contact_email": "pat@hospital.example",
           "justification": "We defend clinical systems."}


def vetted_partner(admin, user):
    profile = services.partner_apply(actor=user, **PROFILE)
    return services.partner_transition(profile=profile, actor=admin, action="vet",
                                       reason="References checked.")


@pytest.fixture
def pw(covered):
    return partner_world(covered)


def partner_world(w) -> SimpleNamespace:
    """`pw` built on a world whose model is determined covered (for tests outside this
    folder)."""
    now = timezone.now()
    profile = vetted_partner(w.admin, w.partner)
    other_org = OrganisationFactory(name="Community Bank", kind=Organisation.Kind.PARTNER)
    other_partner = UserFactory(username="banker", organisation=other_org)
    other_profile = vetted_partner(w.admin, other_partner)
    window = window_schedule(model=w.model, actor=w.owner, starts_at=now + timedelta(days=1),
                             ends_at=now + timedelta(days=11))
    terms = services.terms_set(model=w.model, actor=w.owner, text="Use it for defence only.")
    return SimpleNamespace(w=w, profile=profile, other_partner=other_partner,
                           other_profile=other_profile, window=window, terms=terms,
                           start=now + timedelta(days=12), end=now + timedelta(days=40))


def request_access(pw, user=None, **kw):
    return services.access_request_create(
        actor=user or pw.w.partner, model=pw.w.model, starts_at=kw.get("starts_at", pw.start),
        ends_at=kw.get("ends_at", pw.end), justification="We protect patients.")


def approve_both(pw, access_request):
    services.access_request_approve(access_request=access_request, actor=pw.w.colleague)
    return services.access_request_approve(access_request=access_request, actor=pw.w.reviewer)


def make_live_grant(pw, user=None) -> AccessGrant:
    """A grant through the services, then moved to a window around now (the services refuse
    past starts, so the clock is simulated by moving the grant's dates)."""
    user = user or pw.w.partner
    access_request = request_access(pw, user)
    approve_both(pw, access_request)
    services.terms_accept(model=pw.w.model, actor=user, version=pw.terms.version,
                          accepted_name="Pat Doe")
    grant = AccessGrant.objects.get(request=access_request)
    now = timezone.now()
    AccessGrant.objects.filter(pk=grant.pk).update(starts_at=now - timedelta(hours=1),
                                                   ends_at=now + timedelta(days=5))
    grant.refresh_from_db()
    return grant


def end_grant(grant, seconds_ago: int = 1) -> AccessGrant:
    """The window ended `seconds_ago`; no job ran."""
    now = timezone.now()
    AccessGrant.objects.filter(pk=grant.pk).update(starts_at=now - timedelta(days=3),
                                                   ends_at=now - timedelta(seconds=seconds_ago))
    grant.refresh_from_db()
    return grant
