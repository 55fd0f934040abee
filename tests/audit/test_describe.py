"""Audit events in plain words (audit/describe.py): every action code the code base records has
a label, and an event reads as a sentence with its data as labelled fields."""

import ast
import re
from pathlib import Path

from accounts.services import MFA_AUDIT_NAMES
from audit import describe
from audit.models import AuditEvent
from clearinghouse.workflow import REPORT_TRANSITIONS
from evaluations.models import EvaluationRun
from partners.models import PartnerProfile
from submissions.workflow import TRANSITIONS
from tests.conftest import bring_to

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")
# Functions that record an event with the action they are given (their callers name it).
RECORDERS = {"audit_record", "_activate", "_audit_review", "_audit_exposure"}
# The codes written from a pattern, and every value the pattern takes.
PATTERNS = {
    "review_request.{action}": {f"review_request.{t.action}" for t in TRANSITIONS.values()},
    "partner.{target}": {f"partner.{s}" for s in PartnerProfile.Status.values},
    "mfa.{kind}_{change}": {f"mfa.{kind}_{change}" for kind in MFA_AUDIT_NAMES.values()
                            for change in ("added", "removed")},
    "run.{status}": {f"run.{s}" for s in EvaluationRun.FINISHED},
    "report.{step}": {f"report.{a}" for a in [*REPORT_TRANSITIONS, "withdraw"]},
}


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def recorded_codes() -> tuple[set[str], set[str]]:
    """(the literal codes, the f-string patterns) passed to every recording call."""
    codes, patterns = set(), set()
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in ("tests", ".venv", "node_modules") or \
                "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        for call in (n for n in ast.walk(tree) if isinstance(n, ast.Call)):
            name = _name(call.func)
            creates_event = name == "create" and "AuditEvent" in ast.unparse(call.func)
            if name not in RECORDERS and not creates_event:
                continue
            args = [k.value for k in call.keywords if k.arg == "action"]
            if name == "_audit_review":
                args += call.args[2:3]
            for arg in args:
                for node in ast.walk(arg):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                            and CODE.match(node.value):
                        codes.add(node.value)
                    elif isinstance(node, ast.JoinedStr):
                        patterns.add(re.sub(r"\{[^}]*\}", lambda m: m.group(0).split(".")[-1]
                                            .replace("!r", ""), ast.unparse(node)[2:-1]))
    return codes, patterns


def test_every_action_code_the_code_base_records_has_a_label():
    codes, patterns = recorded_codes()
    assert len(codes) > 50, "the scan found too few codes to be looking in the right place"
    assert patterns == set(PATTERNS), "a new pattern of codes: list what it takes in PATTERNS"
    every = codes.union(*PATTERNS.values())
    assert sorted(every - set(describe.ACTIONS)) == []
    assert sorted(set(describe.ACTIONS) - every) == [], "a label for a code nobody records"


def test_every_code_has_a_group_in_the_action_list():
    assert {code.split(".")[0] for code in describe.ACTIONS} <= set(describe.GROUPS)
    listed = {value for _group, options in describe.action_choices() for value, _ in options}
    assert set(describe.ACTIONS) <= listed


def test_a_submit_event_reads_as_a_sentence_with_the_actors_name(world):
    world.owner.first_name, world.owner.last_name = "Dana", "Lee"
    world.owner.save()
    bring_to(world, "submitted")
    event = AuditEvent.objects.select_related("actor").get(action="review_request.submit")
    assert describe.sentence(event) == f"Dana Lee submitted review request #{world.request.pk}."
    assert describe.action_label(event.action) == "Submitted a review request"
    fields = {f.label: f.value for f in describe.details(event)}
    assert fields == {"From status": "Draft", "To status": "Submitted",
                      "Organisation": "Acme AI"}


def test_a_reviewers_name_is_the_agency_for_whoever_may_not_know_it(world):
    bring_to(world, "in_review")
    event = AuditEvent.objects.select_related("actor__membership").get(
        action="review_request.start_review")
    assert describe.sentence(event, hide_government=True) == \
        f"The agency started the review of review request #{world.request.pk}."
    assert describe.actor_name(event) == (world.admin.get_full_name() or "admin")


def test_an_event_of_the_system_and_a_model_read_plainly(world):
    event = AuditEvent.objects.get(action="model.registered", object_id=str(world.model.pk))
    assert describe.sentence(event) == f"{world.owner.get_full_name() or 'owner'} registered " \
                                       f"model {world.model}."
    fields = {f.label: f.value for f in describe.details(event)}
    assert fields["Name"] == world.model.name and fields["Version"] == world.model.version
