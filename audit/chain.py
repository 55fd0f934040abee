"""The audit trail's hash chain: the canonical content of an event and its SHA-256.

Every event stores `prev_hash` (the hash of the event before it in `sequence` order, or GENESIS
for the first) and `hash`, the SHA-256 of its canonical content, prev_hash included. Editing,
deleting or inserting an event in the middle breaks a link; removing events at the end is caught
by the signed checkpoints (audit.signing).

The canonical form is version 1 and must never change for existing rows: an event written today
has to verify in ten years. A new form gets a new version prefix.
"""

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal

GENESIS = "0" * 64
VERSION = "v1"


def canonical_time(value: datetime) -> str:
    """UTC with microseconds: what PostgreSQL and SQLite both store and give back."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _number(value: Decimal) -> str:
    # PostgreSQL's jsonb keeps numbers as exact decimals and prints them its own way (1e26 comes
    # back as 100000000000000000000000000, an int in Python): the normalised decimal is the same
    # for both, so an event hashes alike before and after its round trip through the database.
    text = str(value.normalize())
    return "0" if text in ("-0", "0E+0") else text


def canonical_json(value) -> str:
    """Sorted keys, no spaces, UTF-8, numbers as normalised decimals."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return _number(Decimal(value))
    if isinstance(value, float):
        return _number(Decimal(repr(value)))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(v) for v in value) + "]"
    if isinstance(value, dict):
        items = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{canonical_json(v)}"
                              for k, v in items) + "}"
    raise TypeError(f"{type(value).__name__} is not JSON")


def as_stored(data) -> object:
    """The data as the database will give it back (tuples become lists, keys strings)."""
    return json.loads(json.dumps(data if data is not None else {}))


def event_hash(*, sequence: int, prev_hash: str, created_at: datetime, actor_id: int | None,
               actor_label: str, action: str, object_type: str, object_id: str,
               object_label: str, organisation_id: int | None, data) -> str:
    """SHA-256 (hex) of one event's canonical content. The row's id is left out: the database
    assigns it at the insert, after the hash is made; `sequence` is the event's place."""
    content = canonical_json({
        "v": VERSION, "sequence": sequence, "prev_hash": prev_hash,
        "created_at": canonical_time(created_at), "actor_id": actor_id,
        "actor_label": actor_label, "action": action, "object_type": object_type,
        "object_id": object_id, "object_label": object_label,
        "organisation_id": organisation_id, "data": as_stored(data)})
    return hashlib.sha256(content.encode()).hexdigest()


# The fields event_hash reads, in the order verification loads them.
HASHED_FIELDS = ("sequence", "prev_hash", "created_at", "actor_id", "actor_label", "action",
                 "object_type", "object_id", "object_label", "organisation_id", "data")
