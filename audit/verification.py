"""Verify the audit trail: every event's hash, every link, no gaps, and the signed checkpoints.

What it finds (NIST SP 800-53 AU-9, protection of audit information; AU-10, non-repudiation):
- an edited event: its stored hash no longer matches its content;
- an event forged with a made-up hash: the same;
- events deleted in the middle: a gap in `sequence` (and the link across it is broken);
- events deleted at the start or at the end, or the table truncated: the chain head's count,
  and a signed checkpoint that vouches for more events than there are;
- a chain rewritten and re-hashed from some event on by someone without the signing key: every
  signed checkpoint past that event names a different hash;
- an event appended with a correct link but backdated: it is dated before the event before it
  (events are dated after the chain's head is locked, so time only moves forward along the
  chain, give or take CLOCK_TOLERANCE between the app's hosts);
- a forged or altered checkpoint: its Ed25519 signature does not verify.

What it cannot find: someone with write access to the database can rewrite or drop the events
appended after the newest checkpoint (recomputing their hashes), until the next checkpoint is
signed (dating them plausibly); and deleting the checkpoints table too is only caught against
an exported copy.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils.dateparse import parse_datetime

from audit import chain, signing
from audit.models import AuditChainHead, AuditCheckpoint, AuditEvent

MAX_PROBLEMS = 50
# How far the clocks of two app hosts may disagree before an event dated earlier than the one
# before it counts as backdated.
CLOCK_TOLERANCE = timedelta(minutes=2)


@dataclass(frozen=True)
class Problem:
    kind: str  # gap, link, hash, fork, time, head, checkpoint
    message: str
    sequence: int | None = None
    event_id: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class Report:
    events: int = 0
    head_sequence: int = 0
    head_hash: str = chain.GENESIS
    checkpoints: int = 0
    newest_checkpoint: dict | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


def _event(row: dict) -> str:
    return f"event id={row['id']} (sequence {row['sequence']}, {row['action']})"


def _missing(first: int, last: int) -> str:
    return (f"the event with sequence {first} is missing" if first == last
            else f"the events with sequences {first}–{last} are missing")


def checkpoints_from_lines(lines: Iterable[str], *, name: str = "") -> list[dict]:
    """Checkpoints from an export (JSON lines). A line that is not one is a ValueError."""
    found = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            created_at = parse_datetime(item["created_at"])
            if created_at is None:
                raise ValueError("created_at")
            found.append({"sequence": int(item["sequence"]), "head_hash": str(item["head_hash"]),
                          "created_at": created_at, "signer": str(item["signer"]),
                          "signature": str(item["signature"]),
                          "source": f"{name} line {number}".strip()})
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"line {number} is not a checkpoint: {exc}") from exc
    return found


def _table_checkpoints() -> list[dict]:
    return [{**cp, "source": f"checkpoint id={cp.pop('id')}"}
            for cp in AuditCheckpoint.objects.order_by("sequence", "id").values(
                "id", "sequence", "head_hash", "created_at", "signer", "signature")]


def audit_trail_verify(*, checkpoints: list[dict] | None = None, use_table: bool = True,
                       public_keys: list[str] | None = None) -> Report:
    """Walk the whole chain in sequence order and check it against the checkpoints: those of
    the table (use_table) and those given (an export). Problems come in chain order, the first
    broken place first."""
    report = Report()
    keys = signing.verification_keys(public_keys)
    cps = (_table_checkpoints() if use_table else []) + list(checkpoints or [])
    wanted = {cp["sequence"] for cp in cps}
    hash_at: dict[int, tuple[dict, str]] = {}

    # The head first, the events after: appends only move both forward, and a committed event
    # never has a head behind it, so reading in this order cannot report a deletion that isn't.
    head = AuditChainHead.objects.filter(pk=1).values("sequence", "hash").first()
    expected, prev, prev_time = 1, chain.GENESIS, None
    rows = (AuditEvent.objects.order_by("sequence")
            .values("id", *chain.HASHED_FIELDS, "hash").iterator(chunk_size=2000))
    for row in rows:
        seq = row["sequence"]
        report.events += 1
        if seq < expected:
            report.add(Problem("fork", f"{_event(row)} repeats a place in the chain that "
                                       "another event already has: the chain forked",
                               seq, row["id"]))
        elif seq > expected:
            where = "at the start of the trail" if expected == 1 else \
                f"after sequence {expected - 1}"
            report.add(Problem("gap", f"{_missing(expected, seq - 1)} {where}, before "
                                      f"{_event(row)}: events were deleted",
                               expected, row["id"]))
        elif row["prev_hash"] != prev:
            report.add(Problem("link", f"{_event(row)} does not link to the event before it: "
                                       "its prev_hash is not that event's hash (an event was "
                                       "replaced, inserted or the chain re-hashed)",
                               seq, row["id"]))
        if chain.event_hash(**{name: row[name] for name in chain.HASHED_FIELDS}) != row["hash"]:
            report.add(Problem("hash", f"{_event(row)} does not match its hash: it was edited "
                                       "after it was written, or forged", seq, row["id"]))
        if prev_time is not None and row["created_at"] < prev_time - CLOCK_TOLERANCE:
            report.add(Problem("time", f"{_event(row)} is dated "
                                       f"{chain.canonical_time(row['created_at'])}, before the "
                                       f"event before it ({chain.canonical_time(prev_time)}): "
                                       "it was backdated or forged", seq, row["id"]))
        if seq in wanted:
            hash_at[seq] = (row, row["hash"])
        prev, prev_time = row["hash"], max(prev_time or row["created_at"], row["created_at"])
        expected = max(expected, seq + 1)
        report.head_sequence, report.head_hash = seq, row["hash"]
    last = expected - 1

    if head is not None and head["sequence"] > last:
        report.add(Problem("head", f"the chain head says {head['sequence']} events were "
                                   f"appended but the trail ends at sequence {last}: "
                                   f"{_missing(last + 1, head['sequence'])} (deleted, or the "
                                   "table truncated)", last + 1))
    elif head is not None and head["sequence"] == last and last and head["hash"] != prev:
        report.add(Problem("head", f"the newest event (sequence {last}) is not the one the "
                                   "chain head recorded: it was replaced", last))

    for cp in sorted(cps, key=lambda c: (c["sequence"], c["source"])):
        report.checkpoints += 1
        what = (f"{cp['source']} (sequence {cp['sequence']}, signed "
                f"{chain.canonical_time(cp['created_at'])})")
        why = signing.checkpoint_signature_ok(
            sequence=cp["sequence"], head_hash=cp["head_hash"], created_at=cp["created_at"],
            signer=cp["signer"], signature=cp["signature"], keys=keys)
        if why:
            report.add(Problem("checkpoint", f"{what} is forged or altered: {why}",
                               cp["sequence"]))
            continue
        if cp["sequence"] > last:
            report.add(Problem("checkpoint", f"{what} vouches for {cp['sequence']} events but "
                                             f"the trail ends at sequence {last}: "
                                             f"{_missing(last + 1, cp['sequence'])} (deleted, "
                                             "or the table truncated)", last + 1))
        elif cp["sequence"] and cp["sequence"] not in hash_at:
            report.add(Problem("checkpoint", f"{what} vouches for an event with sequence "
                                             f"{cp['sequence']}, which is missing",
                               cp["sequence"]))
        elif cp["sequence"] and hash_at[cp["sequence"]][1] != cp["head_hash"]:
            row = hash_at[cp["sequence"]][0]
            report.add(Problem("checkpoint", f"{_event(row)} is not the event {what} signed: "
                                             "the trail up to it was rewritten",
                               cp["sequence"], row["id"]))
        if report.newest_checkpoint is None or \
                cp["sequence"] >= report.newest_checkpoint["sequence"]:
            report.newest_checkpoint = cp
    report.problems.sort(key=lambda p: (p.sequence is None, p.sequence or 0))
    return report

