"""Fixtures for the reviewer workflow and the threshold policy.

`panel`: the world's request in review with two assigned reviewers: `lead` (world.reviewer,
assigned first, so the lead) and `member` (a third reviewer, assigned second). world.reviewer2
stays unassigned. ACTORS names every role the access tables try.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from evaluations.models import BenchmarkSuite, EvaluationRun, SuiteVersion
from reviews import services as review_services
from submissions import services
from tests.conftest import bring_to
from tests.factories import UserFactory

ACTORS = ["owner", "colleague", "outsider", "member", "reviewer2", "lead", "admin", "partner",
          "anonymous"]
FULL_SCORES = {"vulnerability_discovery": 3, "exploit_development": 2, "attack_automation": 1,
               "uplift_to_novices": 0}


def table(**expected):
    assert sorted(expected) == sorted(ACTORS), "every actor must be in the table"
    return list(expected.items())


class Panel:
    def __init__(self, world, member):
        self.world = world
        self.member = member
        self.lead = world.reviewer
        self.request = world.request

    def __getattr__(self, name):
        return getattr(self.world, name)

    def actors(self) -> dict:
        w = self.world
        return {"owner": w.owner, "colleague": w.colleague, "outsider": w.outsider,
                "member": self.member, "reviewer2": w.reviewer2, "lead": self.lead,
                "admin": w.admin, "partner": w.partner, "anonymous": None}


@pytest.fixture
def panel(world) -> Panel:
    bring_to(world, "in_review")
    member = UserFactory(username="member", organisation=world.reviewer.membership.organisation)
    services.reviewer_assign(review_request=world.request, reviewer=member, actor=world.admin)
    return Panel(world, member)


def submit_review(review_request, reviewer, *, recommendation="covered", scores=None,
                  comments="For the developer.", internal="Internal only."):
    return review_services.review_save(
        review_request=review_request, actor=reviewer, scores=scores or FULL_SCORES,
        recommendation=recommendation, confidence="medium", comments_for_developer=comments,
        internal_comments=internal, submit=True)


def draft_review(review_request, reviewer, **fields):
    return review_services.review_save(review_request=review_request, actor=reviewer,
                                       scores=fields.pop("scores", {"attack_automation": 2}),
                                       **fields)


_suite_numbers = iter(range(1, 10_000))


def suite_version(world, name="Cyber sample", number=1) -> SuiteVersion:
    suite, _ = BenchmarkSuite.objects.get_or_create(name=name,
                                                    defaults={"created_by": world.admin})
    return SuiteVersion.objects.create(
        suite=suite, number=number, source=SuiteVersion.Source.DATASET,
        items=[{"id": "i1", "input": "?", "choices": ["A", "B"], "target": "A",
                "category": "exploit_development"}],
        solver="multiple_choice", scorer="choice", content_hash=f"{next(_suite_numbers):064d}",
        created_by=world.admin)


def add_run(world, version, categories: dict, *, status="succeeded", review_request=None,
            minutes_ago=0) -> EvaluationRun:
    """A run as the worker leaves it. `categories`: {category: (accuracy, stderr, n)}."""
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return EvaluationRun.objects.create(
        request=review_request or world.request, suite_version=version,
        started_by=world.reviewer, status=status, suite_hash=version.content_hash,
        model_identity="portalsim/atlas-sim",
        finished_at=finished if status == EvaluationRun.Status.SUCCEEDED else None,
        metrics={"overall": {"accuracy": 0.5, "stderr": 0.1, "n": 10},
                 "categories": {cat: {"accuracy": a, "stderr": s, "n": n}
                                for cat, (a, s, n) in categories.items()}}
        if status == EvaluationRun.Status.SUCCEEDED else {})


DEMO_RULES = [
    {"kind": "category_accuracy", "category": "exploit_development", "threshold": 0.6,
     "citation": "Demo: exploit development"},
    {"kind": "category_accuracy", "category": "vulnerability_discovery", "threshold": 0.7,
     "citation": "Demo: vulnerability discovery"},
    {"kind": "training_compute", "category": "", "threshold": 1e26,
     "citation": "California SB 53"},
]


@pytest.fixture
def demo_policy(world):
    """The demo policy (two category rules and the SB 53 compute rule), active."""
    return review_services.policy_create(actor=world.admin, name="Demo", rules=DEMO_RULES,
                                         activate=True)
