"""The policy functions (accounts/policy.py): each role, inactive users and anonymous users."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts import policy
from partners.models import AccessGrant, PartnerProfile
from submissions import services
from tests.conftest import bring_to
from tests.factories import OrganisationFactory, UserFactory

ROLES = ("owner", "colleague", "outsider", "reviewer", "reviewer2", "admin", "partner")


def _actor(world, name):
    return AnonymousUser() if name == "anonymous" else world.actors()[name]


def _deactivate(user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


@pytest.mark.parametrize("name,expected", [
    ("owner", "developer"), ("outsider", "developer"), ("reviewer", "reviewer"),
    ("admin", "program_admin"), ("partner", "partner"), ("anonymous", None)])
def test_role_of_is_the_membership_role_and_none_for_anonymous(world, name, expected):
    assert policy.role_of(_actor(world, name)) == expected


@pytest.mark.parametrize("name", ROLES)
def test_an_inactive_user_holds_no_role_at_all(world, name):
    user = _deactivate(world.actors()[name])
    assert policy.role_of(user) is None
    assert not any(check(user) for check in (
        policy.is_agency_reviewer, policy.is_program_admin, policy.is_developer,
        policy.is_partner, policy.is_government, policy.sees_agency_identities,
        policy.may_track_windows))
    assert not policy.is_developer_of(user, world.model)


def test_a_user_without_an_organisation_holds_no_role(db):
    from accounts.models import User

    user = User.objects.create_user(username="loner", email="loner@example.org")
    assert policy.role_of(user) is None and not policy.is_government(user)
    assert policy.organisation_id_of(user) is None


@pytest.mark.parametrize("name,reviewer,admin,developer,partner,government", [
    ("owner", False, False, True, False, False),
    ("reviewer", True, False, False, False, True),
    ("admin", False, True, False, False, True),
    ("partner", False, False, False, True, False),
    ("anonymous", False, False, False, False, False),
])
def test_each_role_check_is_true_for_its_role_only(world, name, reviewer, admin, developer,
                                                    partner, government):
    user = _actor(world, name)
    assert policy.is_agency_reviewer(user) == reviewer
    assert policy.is_program_admin(user) == admin
    assert policy.is_developer(user) == developer
    assert policy.is_partner(user) == partner
    assert policy.is_government(user) == government
    assert policy.sees_agency_identities(user) == government
    assert policy.may_track_windows(user) == (admin or developer)


@pytest.mark.parametrize("name,expected", [
    ("owner", True), ("colleague", True), ("outsider", False), ("reviewer", False),
    ("admin", False), ("partner", False), ("anonymous", False)])
def test_the_developers_of_a_model_are_its_organisations_developers(world, name, expected):
    assert policy.is_developer_of(_actor(world, name), world.model) == expected


def test_developer_of_a_model_runs_no_query(world, django_assert_num_queries):
    owner = world.owner
    owner.membership  # noqa: B018 - loaded, as the session's user is
    with django_assert_num_queries(0):
        assert policy.is_developer_of(owner, world.model)
        assert not policy.is_developer_of(owner, world.other_model)


def test_a_member_of_another_organisation_kind_is_not_a_developer_of_it(world):
    # A partner organisation's member shares no organisation with the model: never its developer.
    assert not policy.is_developer_of(world.partner, world.model)


def test_the_assigned_reviewer_and_the_lead_of_a_request(world):
    bring_to(world, "in_review")  # assigns reviewer, who leads
    services.reviewer_assign(review_request=world.request, reviewer=world.reviewer2,
                             actor=world.admin)
    request = world.request
    assert policy.is_assigned_reviewer(world.reviewer, request)
    assert policy.is_assigned_reviewer(world.reviewer2, request)
    assert policy.is_lead_reviewer(world.reviewer, request)
    assert not policy.is_lead_reviewer(world.reviewer2, request)
    for name in ("owner", "admin", "partner", "anonymous"):
        user = _actor(world, name)
        assert not policy.is_assigned_reviewer(user, request), name
        assert not policy.is_lead_reviewer(user, request), name
        assert policy.assignment_of(user, request) is None, name


def test_an_inactive_lead_is_neither_assigned_nor_lead(world):
    bring_to(world, "in_review")
    lead = _deactivate(world.reviewer)
    assert not policy.is_assigned_reviewer(lead, world.request)
    assert not policy.is_lead_reviewer(lead, world.request)
    assert not policy.is_assigned_to_model(lead, world.model)


def test_a_reviewer_is_assigned_to_a_model_through_a_request_of_it(world):
    assert not policy.is_assigned_to_model(world.reviewer, world.model)
    bring_to(world, "in_review")
    assert policy.is_assigned_to_model(world.reviewer, world.model)
    assert not policy.is_assigned_to_model(world.reviewer, world.other_model)
    assert not policy.is_assigned_to_model(world.reviewer2, world.model)
    assert not policy.is_assigned_to_model(world.admin, world.model)


def test_a_partner_member_belongs_to_that_partner_organisation_only(world):
    own = world.partner.membership.organisation_id
    other = OrganisationFactory(name="Other partner", kind="partner")
    assert policy.is_partner_member(world.partner, own)
    assert not policy.is_partner_member(world.partner, other.pk)
    assert not policy.is_partner_member(world.owner, world.owner.membership.organisation_id)
    assert not policy.is_partner_member(AnonymousUser(), own)
    assert not policy.is_partner_member(_deactivate(world.partner), own)


def test_partner_details_go_to_program_admins_and_the_partner_itself(world):
    organisation = world.partner.membership.organisation
    profile = PartnerProfile(organisation=organisation)
    assert policy.sees_partner_details(world.admin, profile)
    assert policy.sees_partner_details(world.partner, profile)
    colleague = UserFactory(username="partner-colleague", organisation=organisation)
    assert policy.sees_partner_details(colleague, profile)
    for name in ("owner", "reviewer", "anonymous"):
        assert not policy.sees_partner_details(_actor(world, name), profile), name


def _grant(world, status=PartnerProfile.Status.VETTED, **dates):
    organisation = world.partner.membership.organisation
    profile = PartnerProfile(organisation=organisation, status=status)
    now = timezone.now()
    grant = AccessGrant(organisation=organisation, model=world.model,
                        starts_at=dates.get("starts_at", now - timedelta(days=1)),
                        ends_at=dates.get("ends_at", now + timedelta(days=1)))
    organisation.partner_profile = profile
    return grant


def test_a_grant_is_live_inside_its_window_unrevoked_and_vetted(world):
    now = timezone.now()
    assert policy.grant_is_live(_grant(world))
    assert not policy.grant_is_live(_grant(world, starts_at=now + timedelta(hours=1)))
    assert not policy.grant_is_live(_grant(world, ends_at=now))
    assert not policy.grant_is_live(_grant(world, status=PartnerProfile.Status.SUSPENDED))
    revoked = _grant(world)
    revoked.revoked_at = now
    assert not policy.grant_is_live(revoked)


# --- the policy module is the only place ------------------------------------------------------

INLINE_ROLE = re.compile(
    r"(==|!=|\bin\b) *\(?Membership\.Role\.|\brole *(==|!=|in\b|not in\b)|\.role *(==|!=|in\b)"
    r"|membership\.is_government|\.has_perm\(")
APPS = ("accounts", "audit", "evaluations", "jobs", "notifications", "partners", "reviews",
        "submissions", "review_portal")


def test_no_role_is_compared_outside_the_policy_module():
    root = Path(__file__).resolve().parents[2]
    found = []
    for app in APPS:
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts or (app, path.name) == ("accounts", "policy.py"):
                continue
            for line in path.read_text().splitlines():
                if INLINE_ROLE.search(line):
                    found.append(f"{path.relative_to(root)}: {line.strip()}")
    # The model's own definition of the government roles (templates read it) is the exception.
    assert found == ["accounts/models.py: return self.role in (self.Role.REVIEWER, "
                     "self.Role.PROGRAM_ADMIN)"]
