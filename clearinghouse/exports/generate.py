"""Every export of a snapshot at once, with the SHA-256 of the bytes that are served."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from clearinghouse.exports.csaf_documents import csaf_advisory, csaf_vex
from clearinghouse.exports.cve import cna_containers
from clearinghouse.exports.osv import osv_records
from clearinghouse.exports.snapshot import CaseSnapshot


def to_bytes(doc: Any) -> bytes:
    """The one serialisation of an export: sorted keys, so the bytes (and their hash) survive a
    round trip through PostgreSQL's jsonb, which does not keep key order."""
    return json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True).encode() + b"\n"


def sha256(doc: Any) -> str:
    return hashlib.sha256(to_bytes(doc)).hexdigest()


def exports_build(snapshot: CaseSnapshot) -> dict[str, Any]:
    """{"csaf", "vex", "osv": [records], "cve": [{"cve_id", "container"}], "hashes"}."""
    out: dict[str, Any] = {
        "csaf": csaf_advisory(snapshot),
        "vex": csaf_vex(snapshot),
        "osv": osv_records(snapshot),
        "cve": cna_containers(snapshot),
    }
    out["hashes"] = {
        "csaf": sha256(out["csaf"]), "vex": sha256(out["vex"]),
        "osv": [sha256(r) for r in out["osv"]],
        "cve": [sha256(c["container"]) for c in out["cve"]],
    }
    return out
