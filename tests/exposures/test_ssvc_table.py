"""The SSVC deployer priority for each combination of inputs matches CERT/CC's published
deployer table (and Human Impact table), read here from the files as published
(tests/exposures/fixtures/ssvc/, copied verbatim from github.com/CERTCC/SSVC at the commit the
vendored data names), independently of exposures/data/."""

import csv
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from exposures import ssvc
from exposures.models import SSVC

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ssvc"

# The published value names, mapped explicitly to exposures.models.SSVC's values.
PUBLISHED = {
    "exploitation": {"none": SSVC.Exploitation.NONE, "public poc": SSVC.Exploitation.PUBLIC_POC,
                     "active": SSVC.Exploitation.ACTIVE},
    "exposure": {"small": SSVC.SystemExposure.SMALL,
                 "controlled": SSVC.SystemExposure.CONTROLLED,
                 "open": SSVC.SystemExposure.OPEN},
    "automatable": {"no": SSVC.Automatable.NO, "yes": SSVC.Automatable.YES},
    "human": {"low": SSVC.HumanImpact.LOW, "medium": SSVC.HumanImpact.MEDIUM,
              "high": SSVC.HumanImpact.HIGH, "very high": SSVC.HumanImpact.VERY_HIGH},
    "safety": {"negligible": SSVC.SafetyImpact.NEGLIGIBLE,
               "marginal": SSVC.SafetyImpact.MARGINAL,
               "critical": SSVC.SafetyImpact.CRITICAL,
               "catastrophic": SSVC.SafetyImpact.CATASTROPHIC},
    "mission": {"degraded": SSVC.MissionImpact.DEGRADED,
                "mef support crippled": SSVC.MissionImpact.MEF_SUPPORT_CRIPPLED,
                "mef failure": SSVC.MissionImpact.MEF_FAILURE,
                "mission failure": SSVC.MissionImpact.MISSION_FAILURE},
    "priority": {"defer": SSVC.Priority.DEFER, "scheduled": SSVC.Priority.SCHEDULED,
                 "out-of-cycle": SSVC.Priority.OUT_OF_CYCLE,
                 "immediate": SSVC.Priority.IMMEDIATE},
}


def _rows(name: str) -> list[dict]:
    with (FIXTURES / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _published_human_impact() -> dict:
    table = {}
    for row in _rows("human_impact_1_0_0.csv"):
        table[(PUBLISHED["safety"][row["Safety Impact v2.0.1"]],
               PUBLISHED["mission"][row["Mission Impact v2.0.0"]])] = \
            PUBLISHED["human"][row["Human Impact v2.0.2"]]
    return table


def _published_deployer() -> dict:
    table = {}
    for row in _rows("deployer_patch_application_priority_1_0_0.csv"):
        key = (PUBLISHED["exploitation"][row["Exploitation v1.1.0"]],
               PUBLISHED["exposure"][row["System Exposure v1.0.1"]],
               PUBLISHED["automatable"][row["Automatable v2.0.0"]],
               PUBLISHED["human"][row["Human Impact v2.0.2"]])
        table[key] = PUBLISHED["priority"][row["Defer, Scheduled, Out-of-Cycle, Immediate v1.0.0"]]
    return table


def _json_table(name: str) -> dict:
    """The published JSON decision table as {(value names...): outcome name}."""
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    names = {dp_id: {v["key"]: v["name"].lower() for v in dp["values"]}
             for dp_id, dp in data["decision_points"].items()}
    outcome = data["outcome"]
    inputs = [dp_id for dp_id in data["decision_points"] if dp_id != outcome]
    return {tuple(names[i][row[i]] for i in inputs): names[outcome][row[outcome]]
            for row in data["mapping"]}


def test_the_published_csv_and_json_tables_say_the_same():
    deployer = _json_table("deployer_patch_application_priority_1_0_0.json")
    assert len(deployer) == 72
    for row in _rows("deployer_patch_application_priority_1_0_0.csv"):
        key = (row["Exploitation v1.1.0"], row["System Exposure v1.0.1"],
               row["Automatable v2.0.0"], row["Human Impact v2.0.2"])
        assert deployer[key] == row["Defer, Scheduled, Out-of-Cycle, Immediate v1.0.0"]
    human = _json_table("human_impact_1_0_0.json")
    assert len(human) == 16
    for row in _rows("human_impact_1_0_0.csv"):
        assert human[(row["Safety Impact v2.0.1"], row["Mission Impact v2.0.0"])] == \
            row["Human Impact v2.0.2"]


def test_every_value_of_the_models_choices_appears_in_the_published_tables():
    assert set(PUBLISHED["exploitation"].values()) == set(SSVC.Exploitation.values)
    assert set(PUBLISHED["exposure"].values()) == set(SSVC.SystemExposure.values)
    assert set(PUBLISHED["automatable"].values()) == set(SSVC.Automatable.values)
    assert set(PUBLISHED["human"].values()) == set(SSVC.HumanImpact.values)
    assert set(PUBLISHED["safety"].values()) == set(SSVC.SafetyImpact.values)
    assert set(PUBLISHED["mission"].values()) == set(SSVC.MissionImpact.values)
    assert set(PUBLISHED["priority"].values()) == set(SSVC.Priority.values)


def test_human_impact_matches_the_published_table_for_all_16_combinations():
    published = _published_human_impact()
    assert len(published) == 16
    for (safety, mission), expected in published.items():
        assert ssvc.human_impact(safety_impact=safety, mission_impact=mission) == expected


def test_the_priority_of_every_combination_of_inputs_matches_the_published_deployer_table():
    deployer, human = _published_deployer(), _published_human_impact()
    assert len(deployer) == 72
    combinations = list(itertools.product(
        SSVC.Exploitation.values, SSVC.Automatable.values, SSVC.SystemExposure.values,
        SSVC.SafetyImpact.values, SSVC.MissionImpact.values))
    assert len(combinations) == 3 * 2 * 3 * 4 * 4
    for exploitation, automatable, exposure, safety, mission in combinations:
        decision = ssvc.decide(exploitation=exploitation, automatable=automatable,
                               exposure=exposure, safety_impact=safety, mission_impact=mission)
        expected = deployer[(exploitation, exposure, automatable, human[(safety, mission)])]
        assert decision.priority == expected, (exploitation, automatable, exposure, safety,
                                               mission)
        assert decision.inputs["human_impact"] == human[(safety, mission)]
        assert decision.table == ssvc.table_id()


def test_the_vendored_data_names_its_source_and_fits_the_exposure_row():
    source = ssvc.table()["source"]
    assert source["repository"] == "https://github.com/CERTCC/SSVC"
    assert len(source["commit"]) == 40
    assert source["deployer_table"]["path"].endswith(
        "deployer_patch_application_priority_1_0_0.json")
    assert source["human_impact_table"]["path"].endswith("human_impact_1_0_0.json")
    assert len(ssvc.table_id()) <= 60  # Exposure.priority_table


def test_an_unknown_input_is_refused_rather_than_guessed():
    with pytest.raises(ValueError, match="exploitation"):
        ssvc.decide(exploitation="poc", automatable="no", exposure="open",
                    safety_impact="marginal", mission_impact="degraded")


def test_deadlines_are_48_hours_7_days_30_days_and_none_for_defer():
    since = datetime(2026, 1, 1, tzinfo=UTC)
    assert ssvc.due_at("immediate", since=since) == since + timedelta(hours=48)
    assert ssvc.due_at("out_of_cycle", since=since) == since + timedelta(days=7)
    assert ssvc.due_at("scheduled", since=since) == since + timedelta(days=30)
    assert ssvc.due_at("defer", since=since) is None
