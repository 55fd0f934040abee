"""The CSAF provider directory (CSAF 2.0 section 7.1, requirements 7, 9, 11-14 and 18), what
aggregators (gocsaf's csaf_aggregator and csaf_checker, Secvisogram) read:

    provider-metadata.json                     requirement 7, at /.well-known/csaf/ (9)
    white/<YYYY>/<tracking id>.json            requirement 11: year of initial_release_date
    white/<YYYY>/<tracking id>.json.sha256     requirement 18: "<hex>  <filename>"
    white/index.txt                            requirement 12: every document's path
    white/changes.csv                          requirement 13: "path","current_release_date",
                                               newest first, no heading

Only TLP:WHITE (TLP 2.0 CLEAR) documents belong in this public tree: requirement 5 wants
AMBER and RED access-protected under another path, so build_directory leaves them out.
Directory listings (requirement 14) are the views' job. The functions here are pure (files as
{relative path: bytes}) plus a folder writer/reader for the management command and tests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from clearinghouse.exports import naming
from clearinghouse.exports.generate import to_bytes
from clearinghouse.exports.snapshot import Publisher, Tlp

PUBLIC_TLP = "WHITE"
METADATA = "provider-metadata.json"


def provider_metadata(publisher: Publisher, *, last_updated: datetime,
                      role: str = "csaf_provider") -> dict[str, Any]:
    """provider-metadata.json, with one directory distribution (the public TLP:WHITE folder)."""
    base = publisher.base_url.rstrip("/") + "/.well-known/csaf"
    pub: dict[str, Any] = {"category": publisher.category, "name": publisher.name,
                           "namespace": publisher.namespace}
    if publisher.contact_details:
        pub["contact_details"] = publisher.contact_details
    return {
        "canonical_url": f"{base}/{METADATA}",
        "distributions": [{"directory_url": f"{base}/{naming.tlp_folder(Tlp.CLEAR)}/"}],
        "last_updated": naming.iso(last_updated),
        "list_on_CSAF_aggregators": True,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": True,
        "publisher": pub,
        "role": role,
    }


def _parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def document_relpath(doc: dict[str, Any]) -> str:
    """<tlp>/<YYYY>/<filename> from the document itself (its TLP, initial release, id)."""
    tracking = doc["document"]["tracking"]
    label = doc["document"].get("distribution", {}).get("tlp", {}).get("label", "")
    folder = label.lower() if label else "unlabeled"
    year = _parse_iso(tracking["initial_release_date"]).year
    return f"{folder}/{year}/{naming.csaf_filename(tracking['id'])}"


def build_directory(documents: list[dict[str, Any]], *, publisher: Publisher,
                    last_updated: datetime) -> dict[str, bytes]:
    """Every file of the public provider directory for these CSAF documents."""
    files: dict[str, bytes] = {}
    public = [d for d in documents
              if d["document"].get("distribution", {}).get("tlp", {}).get("label") == PUBLIC_TLP]
    rows: list[tuple[datetime, str, str]] = []
    folder = naming.tlp_folder(Tlp.CLEAR)
    for doc in public:
        rel = document_relpath(doc)
        body = to_bytes(doc)
        files[rel] = body
        name = rel.rsplit("/", 1)[1]
        files[f"{rel}.sha256"] = f"{hashlib.sha256(body).hexdigest()}  {name}\n".encode()
        current = doc["document"]["tracking"]["current_release_date"]
        rows.append((_parse_iso(current), rel.split("/", 1)[1], current))
    # Paths in index.txt and changes.csv are relative to the TLP folder (the directory_url).
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    files[f"{folder}/index.txt"] = "".join(f"{p}\n" for p in sorted(r[1] for r in rows)).encode()
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for _, path, current in rows:
        writer.writerow([path, current])
    files[f"{folder}/changes.csv"] = out.getvalue().encode()
    files[METADATA] = to_bytes(provider_metadata(publisher, last_updated=last_updated))
    return files


def _safe(root: Path, relpath: str) -> Path:
    target = (root / relpath).resolve()
    if root.resolve() not in target.parents and target != root.resolve():
        raise ValueError(f"{relpath!r} leaves the provider directory")
    return target


def write_directory(root: Path, files: dict[str, bytes]) -> None:
    """Write the files (each replaced atomically) and remove the ones no longer listed, so a
    withdrawn advisory disappears with the next write."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, body in files.items():
        target = _safe(root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        os.replace(tmp, target)
    for path in sorted(root.rglob("*"), reverse=True):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel not in files:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()


def read_directory(root: Path) -> dict[str, bytes]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file() and not p.name.startswith(".tmp-")}
