"""Names and addresses shared by the generators and the provider directory: CSAF filenames
(CSAF 2.0 section 5.1), the TLP folder, the time format."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from clearinghouse.exports.snapshot import CaseSnapshot, Tlp

# CSAF 2.0 carries TLP 1.0 labels; TLP 2.0's CLEAR is TLP 1.0's WHITE and AMBER+STRICT has no
# TLP 1.0 twin, so it is sent as AMBER with the strict label spelled out in distribution.text.
CSAF_TLP = {Tlp.CLEAR: "WHITE", Tlp.GREEN: "GREEN", Tlp.AMBER: "AMBER",
            Tlp.AMBER_STRICT: "AMBER", Tlp.RED: "RED"}


def iso(dt: datetime) -> str:
    """UTC, to the second, with Z: what CSAF, OSV and CVE all accept."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime in an export")
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def csaf_filename(tracking_id: str) -> str:
    return re.sub(r"[^+\-a-z0-9]+", "_", tracking_id.lower()) + ".json"


def tlp_folder(tlp: Tlp | str) -> str:
    """The provider directory's folder for a label: white, green, amber, red."""
    return CSAF_TLP[Tlp(tlp)].lower()


def document_path(tlp: Tlp | str, initial_release_date: datetime, tracking_id: str) -> str:
    """<tlp>/<year of initial release>/<filename>, relative to /.well-known/csaf/."""
    year = initial_release_date.astimezone(UTC).year
    return f"{tlp_folder(tlp)}/{year}/{csaf_filename(tracking_id)}"


def document_url(snapshot: CaseSnapshot, tracking_id: str) -> str:
    base = snapshot.publisher.base_url.rstrip("/")
    path = document_path(snapshot.tlp, snapshot.initial_release_date, tracking_id)
    return f"{base}/.well-known/csaf/{path}"
