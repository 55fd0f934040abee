"""Validators for every export, each giving the same report: {"ok", "validator", "errors"}, an
error being {"test", "path", "message"} (a JSON pointer into the document).

- CSAF 2.0 (advisory and VEX): the `csaf` package's CSAF 2.0 validator, preset "basic": the
  CSAF 2.0 JSON schema, then the mandatory tests 6.1.1–6.1.33 (what CSAF calls a "CSAF basic
  validator"). Tests it has not implemented are reported as skipped.
- CVE: cvelib's bundled CVE 5.1.1 CNA published container schema, with cvelib's own call
  (`CveRecord.validate`, JSON Schema draft 7), plus a check that each CVSS score is what its
  vector computes (the schema checks the vector's shape only).
- OSV: the OSV schema vendored from ossf/osv-schema (schemas/SOURCES.md), draft 2020-12 with
  format checks, plus the same CVSS check.
- Provider metadata: the CSAF 2.0 provider metadata schema, vendored from oasis-tcs/csaf; its
  `publisher` refers to the CSAF document schema, taken from the `csaf` package.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
from cvelib.cve_api import CveRecord, CveRecordValidationError
from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from referencing import Registry, Resource

SCHEMAS = Path(__file__).parent / "schemas"


def _report(validator: str, errors: list[dict[str, str]], **extra: Any) -> dict[str, Any]:
    return {"ok": not errors, "validator": validator, "errors": errors, **extra}


def _pointer(path) -> str:
    return "/" + "/".join(str(p) for p in path)


def _schema_errors(validator, doc: dict[str, Any], test: str) -> list[dict[str, str]]:
    return [{"test": test, "path": _pointer(e.absolute_path), "message": e.message}
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.path)))]


def cvss_errors(vector: str, score: float | None, path: str) -> list[dict[str, str]]:
    """The vector parses (cvss 3.6, Red Hat) and the stored base score is what it computes."""
    try:
        parsed = CVSS4(vector) if vector.startswith("CVSS:4.0/") else CVSS3(vector)
    except (CVSSError, ValueError) as exc:
        return [{"test": "cvss", "path": path, "message": f"invalid CVSS vector {vector!r}: "
                                                      f"{exc}"}]
    computed = float(parsed.base_score) if isinstance(parsed, CVSS4) else float(
        parsed.scores()[0])
    if score is not None and abs(float(score) - computed) > 0.049:
        return [{"test": "cvss", "path": path,
                 "message": f"base score {score} does not match {computed} computed from "
                            f"{vector!r}"}]
    return []


# --- CSAF ----------------------------------------------------------------------------------

def validate_csaf(doc: dict[str, Any]) -> dict[str, Any]:
    from csaf.csaf.v20 import validate

    report = validate(doc, preset="basic")
    errors = [{"test": r.id, "path": e.instance_path, "message": f"{r.title}: {e.message}"}
              for r in report.results if not r.passed and not r.skipped
              for e in (r.errors or ())]
    # A failed test without error rows still fails the document.
    errors += [{"test": r.id, "path": "/", "message": r.title} for r in report.results
               if not r.passed and not r.skipped and not r.errors]
    # The schema says only that a cvss_v3 object matches none of its versions; say which part
    # of the vector is wrong (the score itself is test 6.1.9's).
    for vi, vuln in enumerate(doc.get("vulnerabilities", []) or []):
        for si, score in enumerate(vuln.get("scores", []) or []):
            if isinstance(score.get("cvss_v3"), dict):
                errors += cvss_errors(str(score["cvss_v3"].get("vectorString", "")), None,
                                      f"/vulnerabilities/{vi}/scores/{si}/cvss_v3/vectorString")
    if not report.overall_valid and not errors:
        errors.append({"test": "csaf", "path": "/", "message": "the document is not valid"})
    return _report(f"csaf {version('csaf')} (CSAF 2.0 schema + mandatory tests)", errors,
                   tests_run=sum(1 for r in report.results if not r.skipped),
                   skipped=[r.id for r in report.results if r.skipped])


# --- CVE -----------------------------------------------------------------------------------

def validate_cve(container: dict[str, Any]) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    try:
        CveRecord.validate(container)
    except CveRecordValidationError as exc:
        errors += [{"test": "schema", "path": _pointer(e.absolute_path), "message": e.message}
                   for e in exc.errors or ()]
    for mi, metric in enumerate(container.get("metrics", []) or []):
        for key, value in metric.items():
            if key.startswith("cvssV3") or key.startswith("cvssV4"):
                errors += cvss_errors(str(value.get("vectorString", "")),
                                      value.get("baseScore"), f"/metrics/{mi}/{key}")
    schema = Path(CveRecord.Schemas.CNA_PUBLISHED).name
    return _report(f"cvelib {version('cvelib')} ({schema})", errors)


# --- OSV -----------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _osv_validator():
    schema = json.loads((SCHEMAS / "osv_schema.json").read_text())
    return jsonschema.Draft202012Validator(schema,
                                           format_checker=jsonschema.Draft202012Validator
                                           .FORMAT_CHECKER)


def validate_osv(record: dict[str, Any]) -> dict[str, Any]:
    errors = _schema_errors(_osv_validator(), record, "schema")
    for si, sev in enumerate(record.get("severity", []) or []):
        if str(sev.get("type", "")).startswith("CVSS_V"):
            errors += cvss_errors(str(sev.get("score", "")), None, f"/severity/{si}/score")
    return _report("OSV schema (ossf/osv-schema 51b8156, vendored)", errors)


# --- provider metadata ---------------------------------------------------------------------

@lru_cache(maxsize=1)
def _provider_validator():
    import csaf.csaf.v20 as v20

    csaf_schema = json.loads((Path(v20.__file__).parent / "schema" / "csaf.json").read_text())
    schema = json.loads((SCHEMAS / "csaf_provider_json_schema_2.0.json").read_text())
    registry = Registry().with_resource(csaf_schema["$id"], Resource.from_contents(csaf_schema))
    return jsonschema.Draft202012Validator(
        schema, registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def validate_provider_metadata(doc: dict[str, Any]) -> dict[str, Any]:
    return _report("CSAF 2.0 provider metadata schema (oasis-tcs/csaf 27af37f5, vendored)",
                   _schema_errors(_provider_validator(), doc, "schema"))


# --- everything ----------------------------------------------------------------------------

def validate_exports(exports: dict[str, Any]) -> dict[str, Any]:
    """Reports for the output of generate.exports_build: {"ok", "csaf", "vex", "osv": [..],
    "cve": [..]}; ok only when every one is."""
    reports: dict[str, Any] = {
        "csaf": validate_csaf(exports["csaf"]),
        "vex": validate_csaf(exports["vex"]),
        "osv": [validate_osv(r) for r in exports["osv"]],
        "cve": [validate_cve(c["container"]) for c in exports["cve"]],
    }
    reports["ok"] = (reports["csaf"]["ok"] and reports["vex"]["ok"]
                     and all(r["ok"] for r in reports["osv"])
                     and all(r["ok"] for r in reports["cve"]))
    return reports


def problems(reports: dict[str, Any]) -> list[str]:
    """Every error of validate_exports' reports as one readable line each."""
    lines = []
    for name in ("csaf", "vex"):
        lines += [f"{name.upper()} {e['path']}: {e['message']} ({e['test']})"
                  for e in reports[name]["errors"]]
    for name in ("osv", "cve"):
        for i, rep in enumerate(reports[name]):
            lines += [f"{name.upper()} record {i + 1} {e['path']}: {e['message']}"
                      for e in rep["errors"]]
    return lines
