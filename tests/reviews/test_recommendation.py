"""The threshold policy turns the latest successful runs and the model's declared compute into a
recommendation, and says which rules fired on what evidence (reviews/policy.py and
reviews.selectors.recommendation_compute)."""

import pytest

from evaluations.models import EvaluationRun
from reviews.selectors import recommendation_compute
from reviews.services import policy_create
from submissions import services
from tests.conftest import bring_to
from tests.reviews.conftest import add_run, suite_version


def _compute(world):
    world.request.refresh_from_db()
    return recommendation_compute(review_request=world.request)


def test_without_runs_the_category_rules_make_the_evidence_insufficient(world, demo_policy):
    result = _compute(world)
    assert result.policy == demo_policy
    assert result.recommendation == "insufficient_evidence"
    assert result.fired == []
    assert result.missing_categories == ["exploit_development", "vulnerability_discovery"]
    compute = result.results[2]
    assert (compute.fired, compute.has_evidence, compute.compute_flop) == (False, True, 3e25)


def test_a_category_at_its_threshold_fires_and_names_its_evidence(world, demo_policy):
    version = suite_version(world)
    run = add_run(world, version, {"exploit_development": (0.6, 0.05, 40),
                                   "vulnerability_discovery": (0.2, 0.06, 40)})
    result = _compute(world)
    assert result.recommendation == "covered"
    [fired] = result.fired
    assert fired.rule.category == "exploit_development"
    [evidence] = fired.runs
    assert (evidence.run_id, evidence.suite, evidence.suite_version) == (run.pk, "Cyber sample",
                                                                         1)
    assert (evidence.accuracy, evidence.stderr, evidence.n, evidence.meets) == (0.6, 0.05, 40,
                                                                                True)
    assert result.runs == [run]


def test_every_category_measured_below_its_threshold_is_not_covered(world, demo_policy):
    add_run(world, suite_version(world), {"exploit_development": (0.59, 0.05, 40),
                                          "vulnerability_discovery": (0.69, 0.05, 40),
                                          "defense": (0.99, 0.01, 40)})
    result = _compute(world)
    assert result.recommendation == "not_covered"
    assert result.fired == []
    assert result.missing_categories == []
    assert [r.runs[0].meets for r in result.results[:2]] == [False, False]


def test_one_category_measured_below_and_one_not_measured_is_insufficient(world, demo_policy):
    add_run(world, suite_version(world), {"exploit_development": (0.1, 0.05, 40)})
    result = _compute(world)
    assert result.recommendation == "insufficient_evidence"
    assert result.missing_categories == ["vulnerability_discovery"]


def test_a_firing_rule_makes_it_covered_even_when_evidence_is_missing(world, demo_policy):
    world.model.training_compute_flop = 1e26
    world.model.save(update_fields=["training_compute_flop"])
    result = _compute(world)
    assert result.recommendation == "covered"
    [fired] = result.fired
    assert (fired.rule.kind, fired.compute_flop) == ("training_compute", 1e26)
    assert result.missing_categories == ["exploit_development", "vulnerability_discovery"]


def test_the_eu_presumption_at_1e25_fires_where_sb_53_does_not(world):
    policy_create(actor=world.admin, name="EU", activate=True, rules=[
        {"kind": "training_compute", "threshold": 1e25,
         "citation": "EU AI Act, Art. 51(2): presumption of high-impact capabilities"}])
    assert _compute(world).recommendation == "covered"  # 3e25 >= 1e25


def test_only_the_latest_successful_run_of_a_suite_counts(world, demo_policy):
    version = suite_version(world)
    add_run(world, version, {"exploit_development": (0.9, 0.05, 40),
                             "vulnerability_discovery": (0.9, 0.05, 40)}, minutes_ago=60)
    latest = add_run(world, version, {"exploit_development": (0.3, 0.05, 40),
                                      "vulnerability_discovery": (0.3, 0.05, 40)}, minutes_ago=5)
    add_run(world, version, {}, status=EvaluationRun.Status.FAILED)
    add_run(world, version, {}, status=EvaluationRun.Status.RUNNING)
    result = _compute(world)
    assert result.recommendation == "not_covered"
    assert result.runs == [latest]


def test_two_suites_each_give_evidence_and_either_can_fire_a_rule(world, demo_policy):
    first = add_run(world, suite_version(world, "Suite A"),
                    {"exploit_development": (0.4, 0.05, 40),
                     "vulnerability_discovery": (0.1, 0.05, 40)})
    second = add_run(world, suite_version(world, "Suite B"),
                     {"exploit_development": (0.7, 0.05, 20)})
    result = _compute(world)
    assert result.recommendation == "covered"
    [fired] = result.fired
    assert {(e.run_id, e.meets) for e in fired.runs} == {(first.pk, False), (second.pk, True)}


def test_runs_of_another_request_are_not_evidence(world, demo_policy):
    bring_to(world, "withdrawn")
    other = services.request_create(model=world.model, actor=world.owner)
    add_run(world, suite_version(world), {"exploit_development": (0.99, 0.01, 40),
                                          "vulnerability_discovery": (0.99, 0.01, 40)},
            review_request=world.request)
    result = recommendation_compute(review_request=other)
    assert result.recommendation == "insufficient_evidence"
    assert result.runs == []


@pytest.mark.parametrize("measured", [
    {"accuracy": None, "stderr": 0.1, "n": 40},
    {"accuracy": 0.9, "stderr": 0.1, "n": 0},
    {"accuracy": "0.9", "stderr": 0.1, "n": 40},
    "garbage",
])
def test_a_category_without_usable_numbers_is_not_evidence(world, demo_policy, measured):
    run = add_run(world, suite_version(world), {})
    run.metrics = {"categories": {"exploit_development": measured,
                                  "vulnerability_discovery": {"accuracy": 0.1, "n": 5}}}
    run.save(update_fields=["metrics"])
    result = _compute(world)
    assert result.recommendation == "insufficient_evidence"
    assert result.missing_categories == ["exploit_development"]
    assert result.results[1].runs[0].stderr is None  # no stderr reported: shown as such


def test_without_an_active_policy_there_is_no_recommendation(world):
    world.policy.is_active = False
    world.policy.save(update_fields=["is_active"])
    result = _compute(world)
    assert (result.policy, result.recommendation, result.results) == (None, None, [])
