"""CERT/CC's SSVC deployer decision (issue 12, point 3): Patch Application Priority from the
case's Exploitation and Automatable (VulnerabilityAssessment) and the asset's System Exposure
and Human Impact (itself Safety Impact x Mission Impact, SSVC 2).

The tables are data, not code: exposures/data/ssvc-deployer-<release>.json, written from
CERT/CC's published decision tables (github.com/CERTCC/SSVC, data/json/decision_tables/ssvc/
deployer_patch_application_priority_1_0_0.json and human_impact_1_0_0.json; the file records the
release, commit and paths). The published files are kept verbatim under
tests/exposures/fixtures/ssvc/, and tests/exposures/test_ssvc_table.py checks every combination
of inputs against them, parsed on their own. A new SSVC release is a new data file and a new
TABLE_FILE; an exposure records the table id its priority came from (Exposure.priority_table).

Value names: the published tables say "public poc", "very high", "out-of-cycle", "mef support
crippled"...; exposures.models.SSVC uses the same values in snake case (public_poc, very_high,
out_of_cycle, mef_support_crippled).

Deadlines (ours, not SSVC's: SSVC names the priority, the portal gives each a time to act):
immediate 48 hours, out-of-cycle 7 days, scheduled 30 days, defer none (DEADLINES).
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from exposures.models import SSVC

TABLE_FILE = Path(__file__).resolve().parent / "data" / "ssvc-deployer-2026.7.0.json"

P = SSVC.Priority
DEADLINES: dict[str, timedelta | None] = {
    P.IMMEDIATE: timedelta(hours=48),
    P.OUT_OF_CYCLE: timedelta(days=7),
    P.SCHEDULED: timedelta(days=30),
    P.DEFER: None,
}


@cache
def table() -> dict:
    """The vendored table (read once per process)."""
    with TABLE_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


def table_id() -> str:
    return table()["id"]


def _check(value: str, choices, name: str) -> str:
    if value not in choices.values:
        raise ValueError(f"Unknown SSVC {name}: {value!r}")
    return value


def human_impact(*, safety_impact: str, mission_impact: str) -> str:
    """SSVC 2 Human Impact (DT_HI) from Safety Impact and Mission Impact."""
    _check(safety_impact, SSVC.SafetyImpact, "safety impact")
    _check(mission_impact, SSVC.MissionImpact, "mission impact")
    return table()["human_impact"][safety_impact][mission_impact]


@dataclass(frozen=True)
class Decision:
    priority: str
    inputs: dict
    table: str


def decide(*, exploitation: str, automatable: str, exposure: str, safety_impact: str,
           mission_impact: str) -> Decision:
    """The deployer decision for one asset under one assessment, with the inputs it came from
    (what Exposure.priority_inputs stores) and the table id."""
    _check(exploitation, SSVC.Exploitation, "exploitation")
    _check(automatable, SSVC.Automatable, "automatable")
    _check(exposure, SSVC.SystemExposure, "system exposure")
    human = human_impact(safety_impact=safety_impact, mission_impact=mission_impact)
    priority = table()["deployer"][exploitation][exposure][automatable][human]
    return Decision(
        priority=priority,
        inputs={"exploitation": exploitation, "automatable": automatable,
                "system_exposure": exposure, "safety_impact": safety_impact,
                "mission_impact": mission_impact, "human_impact": human},
        table=table_id())


def due_at(priority: str, *, since: datetime) -> datetime | None:
    """When an exposure of this priority should be dealt with, counted from `since`."""
    delta = DEADLINES[_check(priority, SSVC.Priority, "priority")]
    return None if delta is None else since + delta
