"""Shared fixtures. `world` is the cast every access test uses:

- owner and colleague: developers at Acme, which owns `model` and `request`
- outsider: a developer at another AI developer organisation, with its own model
- reviewer and reviewer2: agency reviewers; `bring_to(world, "in_review")` (or later states)
  assigns `reviewer` to `request`, reviewer2 is never assigned
- admin: a program admin; partner: a member of a trusted-partner organisation
- policy: the active threshold policy, one rule: training compute >= 1e26 FLOP. `model` declares
  3e25 FLOP and has no runs, so the recommendation is "not covered": determining it covered is
  an override and needs a reason. The default rubric (version 1) is active.
"""

from dataclasses import dataclass
from typing import Any

import pytest

from accounts.models import Organisation
from reviews.defaults import rubric_ensure_default
from reviews.services import policy_create
from submissions import services
from tests.factories import OrganisationFactory, UserFactory, make_model

K = Organisation.Kind


@dataclass
class World:
    acme: Any
    other_org: Any
    owner: Any
    colleague: Any
    outsider: Any
    reviewer: Any
    reviewer2: Any
    admin: Any
    partner: Any
    model: Any
    other_model: Any
    request: Any
    policy: Any

    def actors(self) -> dict:
        return {"owner": self.owner, "colleague": self.colleague, "outsider": self.outsider,
                "reviewer": self.reviewer, "reviewer2": self.reviewer2, "admin": self.admin,
                "partner": self.partner, "anonymous": None}


@pytest.fixture
def world(db) -> World:
    return build_world()


def build_world() -> World:
    """The cast, created in the database (the `world` fixture; a module-scoped browser test
    calls it once with the database unblocked)."""
    acme = OrganisationFactory(name="Acme AI", kind=K.AI_DEVELOPER)
    other_org = OrganisationFactory(name="Other AI", kind=K.AI_DEVELOPER)
    agency = OrganisationFactory(name="Agency", kind=K.AGENCY)
    office = OrganisationFactory(name="Program Office", kind=K.PROGRAM_OFFICE)
    partner_org = OrganisationFactory(name="Rural Hospital", kind=K.PARTNER)
    owner = UserFactory(username="owner", organisation=acme)
    colleague = UserFactory(username="colleague", organisation=acme)
    outsider = UserFactory(username="outsider", organisation=other_org)
    reviewer = UserFactory(username="reviewer", organisation=agency)
    reviewer2 = UserFactory(username="reviewer2", organisation=agency)
    admin = UserFactory(username="admin", organisation=office)
    partner = UserFactory(username="partner", organisation=partner_org)
    model = make_model(owner)
    other_model = make_model(outsider, name="Other")
    request = services.request_create(model=model, actor=owner)
    # The data migration's default rubric does not survive a flush by a transactional test.
    rubric_ensure_default()
    policy = policy_create(actor=admin, name="Compute only", activate=True, rules=[
        {"kind": "training_compute", "threshold": 1e26, "citation": "California SB 53"}])
    return World(acme=acme, other_org=other_org, owner=owner, colleague=colleague,
                 outsider=outsider, reviewer=reviewer, reviewer2=reviewer2, admin=admin,
                 partner=partner, model=model, other_model=other_model, request=request,
                 policy=policy)


def bring_to(world: World, status: str):
    """Move world.request to `status` through the services (the only way)."""
    r, w = world.request, world
    path = {
        "draft": [],
        "submitted": ["submit"],
        "in_review": ["submit", "assign"],
        "information_requested": ["submit", "assign", "ask"],
        "determined": ["submit", "assign", "determine"],
        "withdrawn": ["withdraw"],
    }[status]
    for step in path:
        if step == "submit":
            services.request_submit(review_request=r, actor=w.owner)
        elif step == "assign":  # the first reviewer assigned leads
            services.reviewer_assign(review_request=r, reviewer=w.reviewer, actor=w.admin)
        elif step == "ask":
            services.request_ask_information(review_request=r, actor=w.reviewer,
                                             question="Which scaffolds?")
        elif step == "determine":
            services.request_determine(review_request=r, actor=w.reviewer, outcome="covered",
                                       rationale="Above the program's level.",
                                       internal_notes="secret internal note",
                                       override_reason="secret override reason")
        elif step == "withdraw":
            services.request_withdraw(review_request=r, actor=w.owner)
    r.refresh_from_db()
    return r


@pytest.fixture
def covered(world) -> World:
    """The world with `model` determined covered."""
    bring_to(world, "determined")
    return world


@pytest.fixture
def api(client):
    """A JSON client: api.as_(user).post(url, data)."""

    class Api:
        def as_(self, user):
            client.logout()
            if user is not None:
                client.force_login(user)
            return self

        def get(self, url, **kw):
            return client.get(url, **kw)

        def post(self, url, data=None, **kw):
            return client.post(url, data or {}, content_type="application/json", **kw)

        def patch(self, url, data=None, **kw):
            return client.patch(url, data or {}, content_type="application/json", **kw)

    return Api()
