"""Threshold policy versions: created, edited while unused, activated, frozen once a
determination rests on them (reviews.services.policy_*)."""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from audit.models import AuditEvent
from review_portal.errors import ApplicationError
from reviews.models import PolicyRule, PolicyVersion
from reviews.services import policy_activate, policy_create, policy_update
from submissions import services
from tests.conftest import bring_to
from tests.reviews.conftest import DEMO_RULES


def _rules(policy):
    return list(policy.rules.values_list("position", "kind", "category", "threshold",
                                         "citation"))


def test_a_policy_version_is_created_with_its_rules_in_order_and_audited(world):
    policy = policy_create(actor=world.admin, name=" Demo ", notes="For the demo.",
                           rules=DEMO_RULES)
    assert (policy.number, policy.name, policy.is_active) == (2, "Demo", False)
    assert _rules(policy) == [
        (1, "category_accuracy", "exploit_development", 0.6, "Demo: exploit development"),
        (2, "category_accuracy", "vulnerability_discovery", 0.7,
         "Demo: vulnerability discovery"),
        (3, "training_compute", "", 1e26, "California SB 53"),
    ]
    event = AuditEvent.objects.filter(action="policy.created").latest("id")
    assert event.actor == world.admin
    assert event.object_id == str(policy.pk)
    assert event.data["number"] == 2
    recorded = event.data["rules"][2]
    assert (recorded["kind"], recorded["category"]) == ("training_compute", "")
    assert float(recorded["threshold"]) == 1e26  # jsonb keeps it as the integer 10**26
    assert not AuditEvent.objects.filter(action="policy.activated",
                                         object_id=str(policy.pk)).exists()


def test_activating_a_version_deactivates_the_other_and_is_audited(world):
    policy = policy_create(actor=world.admin, name="Demo", rules=DEMO_RULES)
    policy_activate(policy=policy, actor=world.admin)
    assert list(PolicyVersion.objects.filter(is_active=True)) == [policy]
    event = AuditEvent.objects.filter(action="policy.activated").latest("id")
    assert (event.object_id, event.actor, event.data) == (str(policy.pk), world.admin,
                                                          {"number": 2})
    before = AuditEvent.objects.count()
    policy_activate(policy=policy, actor=world.admin)  # already active: nothing to record
    assert AuditEvent.objects.count() == before


def test_creating_with_activate_records_both_events(world):
    policy = policy_create(actor=world.admin, name="Demo", rules=DEMO_RULES, activate=True)
    actions = list(AuditEvent.objects.filter(object_type="reviews.policyversion",
                                             object_id=str(policy.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["policy.created", "policy.activated"]
    world.policy.refresh_from_db()
    assert not world.policy.is_active


@pytest.mark.parametrize("who", ["owner", "outsider", "reviewer", "partner"])
def test_only_program_admins_manage_the_policy(world, who):
    actor = world.actors()[who]
    before = (PolicyVersion.objects.count(), AuditEvent.objects.count())
    with pytest.raises(PermissionDenied):
        policy_create(actor=actor, name="Mine", rules=DEMO_RULES)
    with pytest.raises(PermissionDenied):
        policy_update(policy=world.policy, actor=actor, name="Mine")
    with pytest.raises(PermissionDenied):
        policy_activate(policy=world.policy, actor=actor)
    assert (PolicyVersion.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize(("rules", "message"), [
    ([], "at least one rule"),
    ("exploit >= 0.6", "at least one rule"),
    ([{"kind": "vibes", "threshold": 1, "citation": "x"}], "kind"),
    ([{"kind": "category_accuracy", "category": "cooking", "threshold": 0.5, "citation": "x"}],
     "capability category"),
    ([{"kind": "category_accuracy", "category": "defense", "threshold": 1.5, "citation": "x"}],
     "between 0 and 1"),
    ([{"kind": "category_accuracy", "category": "defense", "threshold": "0.5",
       "citation": "x"}], "must be a number"),
    ([{"kind": "category_accuracy", "category": "defense", "threshold": True,
       "citation": "x"}], "must be a number"),
    ([{"kind": "training_compute", "threshold": -1, "citation": "x"}], "positive number"),
    ([{"kind": "training_compute", "category": "defense", "threshold": 1e26,
       "citation": "x"}], "no category"),
    ([{"kind": "training_compute", "threshold": 1e26, "citation": "  "}], "citation"),
    (["not a rule"], "must have"),
])
def test_bad_rules_are_refused_and_nothing_is_written(world, rules, message):
    before = (PolicyVersion.objects.count(), PolicyRule.objects.count(),
              AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as excinfo:
        policy_create(actor=world.admin, name="Bad", rules=rules)
    assert message in excinfo.value.message
    assert excinfo.value.field == "rules"
    assert (PolicyVersion.objects.count(), PolicyRule.objects.count(),
            AuditEvent.objects.count()) == before


def test_an_unused_version_can_be_edited_and_the_edit_is_audited(world):
    policy = policy_create(actor=world.admin, name="Draft", rules=DEMO_RULES)
    policy_update(policy=policy, actor=world.admin, name="Final", rules=DEMO_RULES[2:])
    policy.refresh_from_db()
    assert policy.name == "Final"
    assert _rules(policy) == [(1, "training_compute", "", 1e26, "California SB 53")]
    event = AuditEvent.objects.get(action="policy.updated")
    assert event.data["changed"] == ["name", "rules"]


def test_a_version_a_determination_rests_on_cannot_be_edited(world):
    bring_to(world, "in_review")
    services.request_determine(review_request=world.request, actor=world.reviewer,
                               outcome="not_covered", rationale="Below.")
    before = (_rules(world.policy), AuditEvent.objects.count())
    with pytest.raises(ApplicationError) as excinfo:
        policy_update(policy=world.policy, actor=world.admin, rules=DEMO_RULES)
    assert excinfo.value.status == 409
    with pytest.raises(ApplicationError):
        policy_update(policy=world.policy, actor=world.admin, name="Renamed")
    world.policy.refresh_from_db()
    assert world.policy.name == "Compute only"
    assert (_rules(world.policy), AuditEvent.objects.count()) == before
    # A used version can still be made active again (activation is not an edit).
    newer = policy_create(actor=world.admin, name="Newer", rules=DEMO_RULES, activate=True)
    policy_activate(policy=world.policy, actor=world.admin)
    newer.refresh_from_db()
    assert not newer.is_active


def test_the_database_keeps_at_most_one_active_version(world):
    other = policy_create(actor=world.admin, name="Other", rules=DEMO_RULES)
    with pytest.raises(IntegrityError), transaction.atomic():
        PolicyVersion.objects.filter(pk=other.pk).update(is_active=True)
