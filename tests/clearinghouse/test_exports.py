"""The advisory exports (clearinghouse/exports/): CSAF 2.0 advisory and VEX, OSV, CVE 5 CNA
containers and the CSAF provider directory, generated from a snapshot and checked with the
validators the publication gate runs. No database: the package is pure."""

import copy
import csv
import hashlib
import io
import json
from dataclasses import replace
from datetime import UTC, datetime

from clearinghouse.exports import versions
from clearinghouse.exports.csaf_documents import csaf_advisory, csaf_vex
from clearinghouse.exports.cve import cna_container
from clearinghouse.exports.generate import exports_build, to_bytes
from clearinghouse.exports.osv import osv_record
from clearinghouse.exports.provider import (
    build_directory,
    provider_metadata,
    read_directory,
    write_directory,
)
from clearinghouse.exports.snapshot import Status, Tlp
from clearinghouse.exports.validate import (
    problems,
    validate_csaf,
    validate_cve,
    validate_exports,
    validate_osv,
    validate_provider_metadata,
)
from tests.clearinghouse.sample_snapshot import SILENT, T1, sample_snapshot


def _all_pids(status: dict) -> dict[str, set[str]]:
    return {k: set(v) for k, v in status.items()}


# --- every validator passes ----------------------------------------------------------------

def test_every_export_of_the_sample_case_passes_its_validator():
    reports = validate_exports(exports_build(sample_snapshot()))

    assert problems(reports) == []
    assert reports["ok"]
    # The csaf package ran the schema and every mandatory test (6.1.1-6.1.33, 6.1.27 once).
    assert reports["csaf"]["tests_run"] == 34 and reports["csaf"]["skipped"] == []
    assert len(reports["osv"]) == len(reports["cve"]) == 2


def test_the_sample_case_also_passes_the_recommended_csaf_tests():
    """The publication gate needs the mandatory tests; the recommended ones (6.2, the csaf
    package's "extended" preset) pass too, e.g. 6.2.2: every affected or under-investigation
    product has a remediation (for a silent vendor: "No remediation is known: … did not
    respond"). Checked on the served bytes, whose keys are sorted (6.2.13 Sorting)."""
    from csaf.csaf.v20 import validate

    snap = sample_snapshot()
    for doc in (csaf_advisory(snap), csaf_vex(snap)):
        report = validate(json.loads(to_bytes(doc)), preset="extended")
        failed = [r.id for r in report.results if not r.passed and not r.skipped]
        assert report.overall_valid and failed == [], failed
    silent = next(r for r in csaf_vex(snap)["vulnerabilities"][0]["remediations"]
                  if "CSAFPID-4" in r["product_ids"])
    assert silent == {"category": "none_available", "product_ids": ["CSAFPID-4"],
                      "details": "No remediation is known: Quiet Corp did not respond to the "
                                 "clearinghouse."}


def test_a_case_without_a_cve_id_still_gives_a_valid_vex_with_the_case_id():
    snap = sample_snapshot()
    snap = replace(snap, vulnerabilities=tuple(replace(v, cve_id="")
                                               for v in snap.vulnerabilities))
    vex = csaf_vex(snap)

    assert validate_csaf(vex)["ok"], validate_csaf(vex)["errors"]
    assert vex["vulnerabilities"][0]["ids"] == [
        {"system_name": "Frontier Review Portal Clearinghouse case", "text": "CH-2026-0001-1"}]
    assert "cve" not in vex["vulnerabilities"][0]


def test_the_advisory_and_the_vex_have_their_own_tracking_ids_and_categories():
    snap = sample_snapshot()
    advisory, vex = csaf_advisory(snap), csaf_vex(snap)

    assert advisory["document"]["category"] == "csaf_security_advisory"
    assert vex["document"]["category"] == "csaf_vex"
    assert advisory["document"]["tracking"]["id"] == "CH-2026-0001"
    assert vex["document"]["tracking"]["id"] == "CH-2026-0001-VEX"
    assert advisory["document"]["tracking"]["status"] == "final"
    assert advisory["document"]["distribution"]["tlp"]["label"] == "WHITE"


# --- broken documents fail with readable errors --------------------------------------------

def test_a_broken_cvss_vector_fails_every_validator_with_a_readable_error():
    snap = sample_snapshot()
    broken = replace(snap.vulnerabilities[0].scores[0],
                     vector="CVSS:3.1/AV:N/AC:Q/PR:N/UI:N/S:U/C:H/I:H/A:H")
    v1 = replace(snap.vulnerabilities[0], scores=(broken,))
    snap = replace(snap, vulnerabilities=(v1,) + snap.vulnerabilities[1:])

    csaf = validate_csaf(csaf_advisory(snap))
    cve = validate_cve(cna_container(snap, v1))
    osv = validate_osv(osv_record(snap, v1))

    assert not csaf["ok"] and not cve["ok"] and not osv["ok"]
    assert {"test": "cvss", "path": "/vulnerabilities/0/scores/0/cvss_v3/vectorString",
            "message": "invalid CVSS vector 'CVSS:3.1/AV:N/AC:Q/PR:N/UI:N/S:U/C:H/I:H/A:H': "
                       'Unknown value "Q" in field "AC:Q"'} in csaf["errors"]
    assert any("AC:Q" in e["message"] for e in cve["errors"])
    assert any(e["path"] == "/severity/0/score" for e in osv["errors"])


def test_a_score_that_its_vector_does_not_compute_fails_csaf_and_cve():
    snap = sample_snapshot()
    wrong = replace(snap.vulnerabilities[0].scores[0], score=7.5)
    v1 = replace(snap.vulnerabilities[0], scores=(wrong,))
    snap = replace(snap, vulnerabilities=(v1,) + snap.vulnerabilities[1:])

    csaf = validate_csaf(csaf_advisory(snap))
    cve = validate_cve(cna_container(snap, v1))

    assert [e["test"] for e in csaf["errors"]] == ["6.1.9"]
    assert "does not match computed value 9.8" in csaf["errors"][0]["message"]
    assert cve["errors"][-1:] == [{"test": "cvss", "path": "/metrics/0/cvssV3_1",
                              "message": "base score 7.5 does not match 9.8 computed from "
                                         "'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'"}]


def test_a_status_naming_a_product_missing_from_the_tree_fails_test_6_1_1():
    doc = csaf_vex(sample_snapshot())
    doc["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-404")

    report = validate_csaf(doc)

    assert not report["ok"]
    error = next(e for e in report["errors"] if e["test"] == "6.1.1")
    assert error["path"] == "/vulnerabilities/0/product_status/known_affected/1"
    assert "Missing Definition of Product ID" in error["message"]
    assert "CSAFPID-404" in error["message"]


def test_a_not_affected_product_without_its_flag_fails_the_vex_profile_test():
    doc = csaf_vex(sample_snapshot())
    del doc["vulnerabilities"][0]["flags"]
    del doc["vulnerabilities"][0]["threats"]

    report = validate_csaf(doc)

    assert [(e["test"], e["path"]) for e in report["errors"]] == [
        ("6.1.27", "/vulnerabilities/0/product_status/known_not_affected/0")]
    assert "`CSAFPID-2` requires an impact statement" in report["errors"][0]["message"]


def test_a_cna_container_without_references_fails_the_cvelib_schema():
    snap = sample_snapshot()
    container = cna_container(snap, snap.vulnerabilities[0])
    container["references"] = []

    report = validate_cve(container)

    assert not report["ok"]
    assert report["errors"][0]["path"] == "/references"
    assert report["validator"].startswith("cvelib 1.8.0 (CVE_JSON_cnaPublishedContainer_5.1.1")


def test_an_osv_record_with_an_unknown_ecosystem_fails_the_osv_schema():
    snap = sample_snapshot()
    record = osv_record(snap, snap.vulnerabilities[0])
    record["affected"][0]["package"]["ecosystem"] = "Nowhere"

    report = validate_osv(record)

    assert [e["path"] for e in report["errors"]] == ["/affected/0/package/ecosystem"]


# --- what each status becomes --------------------------------------------------------------

def test_a_silent_vendors_products_are_never_cleared_in_any_format():
    snap = sample_snapshot()
    silent_pid = "CSAFPID-4"
    for doc in (csaf_advisory(snap), csaf_vex(snap)):
        vuln = doc["vulnerabilities"][0]
        statuses = _all_pids(vuln["product_status"])
        assert silent_pid not in statuses.get("known_not_affected", set())
        assert silent_pid in statuses["under_investigation"]
        assert not any(silent_pid in f["product_ids"] for f in vuln.get("flags", []))
        involvement = next(i for i in vuln["involvements"] if "Quiet Corp" in i["summary"])
        assert involvement["status"] == "contact_attempted"
        assert any(n["title"] == "Vendors that did not respond" and "Quiet Corp" in n["text"]
                   for n in vuln["notes"])

    container = cna_container(snap, snap.vulnerabilities[0])
    quiet = next(a for a in container["affected"] if a["vendor"] == "Quiet Corp")
    assert quiet["defaultStatus"] == "unknown"
    assert {v["status"] for v in quiet["versions"]} == {"unknown"}

    record = osv_record(snap, snap.vulnerabilities[0])
    assert all(a["package"]["name"] != "example.com/quietd" for a in record["affected"])
    assert {"product": SILENT.label, "vendor": "Quiet Corp", "status": "no_response",
            "purl": SILENT.purl} in record["database_specific"]["unresolved"]
    assert "Quiet Corp quietd vers:golang/<0.9.0 (no response)" in record["details"]


def test_a_not_affected_product_carries_its_justification_flag_and_the_vendors_words():
    snap = sample_snapshot()
    vuln = csaf_vex(snap)["vulnerabilities"][0]

    assert vuln["product_status"]["known_not_affected"] == ["CSAFPID-2"]
    assert vuln["flags"] == [{"label": "vulnerable_code_not_in_execute_path",
                              "product_ids": ["CSAFPID-2"]}]
    assert vuln["threats"] == [{"category": "impact",
                                "details": "The RTU never parses untrusted headers.",
                                "product_ids": ["CSAFPID-2"]}]
    container = cna_container(snap, snap.vulnerabilities[0])
    rtu = next(a for a in container["affected"] if a["vendor"] == "Gridline")
    assert rtu["versions"] == [{"version": "3.2.1", "status": "unaffected"}]


def test_a_dispute_carries_the_vendors_reason_in_every_format():
    snap = sample_snapshot()
    reason = "acme-xml copies the header before parsing, so it cannot overflow."
    vuln = csaf_vex(snap)["vulnerabilities"][0]

    assert "CSAFPID-3" in vuln["product_status"]["under_investigation"]
    disputed = next(i for i in vuln["involvements"] if i["status"] == "disputed")
    assert reason in disputed["summary"] and "Acme Libs" in disputed["summary"]
    assert any(n["title"] == "Disputed by Acme Libs" and reason in n["text"]
               for n in vuln["notes"])

    container = cna_container(snap, snap.vulnerabilities[0])
    assert container["tags"] == ["disputed"]
    assert f"NOTE: Acme Libs disputes that Acme Libs acme-xml vers:npm/<2.0.0 is affected: " \
           f"{reason}" in container["descriptions"][0]["value"]
    acme = next(a for a in container["affected"] if a["vendor"] == "Acme Libs")
    assert {v["status"] for v in acme["versions"]} == {"unknown"}

    record = osv_record(snap, snap.vulnerabilities[0])
    assert [u["status"] for u in record["database_specific"]["unresolved"]] == [
        "disputed", "no_response"]


def test_a_fixed_product_lists_the_fixed_versions_as_fixed_and_never_the_affected_range():
    snap = sample_snapshot()
    doc = csaf_vex(snap)
    vuln = doc["vulnerabilities"][0]
    names = {b["product"]["product_id"]: b["name"]
             for vendor in doc["product_tree"]["branches"] for prod in vendor["branches"]
             for b in prod.get("branches", [])}

    assert vuln["product_status"]["known_affected"] == ["CSAFPID-1"]
    assert [names[p] for p in vuln["product_status"]["fixed"]] == ["vers:pypi/>=1.4.2"]
    assert vuln["remediations"][0]["category"] == "vendor_fix"
    assert vuln["remediations"][0]["product_ids"] == ["CSAFPID-1"]

    record = osv_record(snap, snap.vulnerabilities[0])
    assert record["affected"][0]["ranges"] == [
        {"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.4.2"}]}]
    container = cna_container(snap, snap.vulnerabilities[0])
    assert container["affected"][0]["versions"] == [
        {"version": "1.0.0", "status": "affected", "versionType": "pypi", "lessThan": "1.4.2"},
        {"version": "1.4.2", "status": "unaffected", "versionType": "pypi", "lessThan": "*"}]


def test_an_affected_product_without_a_remediation_gets_none_available_as_its_action():
    vuln = csaf_vex(sample_snapshot())["vulnerabilities"][1]

    assert vuln["product_status"] == {"known_affected": ["CSAFPID-1"]}
    assert vuln["remediations"] == [{
        "category": "none_available",
        "details": "The vendor has not published a fix, workaround or mitigation yet.",
        "product_ids": ["CSAFPID-1"]}]


def test_the_ai_model_is_credited_as_a_tool_and_its_developer_as_finder():
    snap = sample_snapshot()
    container = cna_container(snap, snap.vulnerabilities[0])
    record = osv_record(snap, snap.vulnerabilities[0])
    acks = csaf_advisory(snap)["vulnerabilities"][0]["acknowledgments"]

    assert [(c["type"], c["value"]) for c in container["credits"]] == [
        ("tool", "Frontier Model X 2.1"), ("finder", "Acme AI")]
    assert [(c["type"], c["name"]) for c in record["credits"]] == [
        ("TOOL", "Frontier Model X 2.1"), ("FINDER", "Acme AI")]
    assert acks[0]["names"] == ["Frontier Model X 2.1"] and acks[1]["organization"] == "Acme AI"


def test_known_exploitation_is_a_csaf_exploit_status_threat():
    snap = sample_snapshot()
    v1 = replace(snap.vulnerabilities[0], exploitation="active")
    doc = csaf_vex(replace(snap, vulnerabilities=(v1,) + snap.vulnerabilities[1:]))

    assert {"category": "exploit_status", "details": "Exploited in the wild."} in \
        doc["vulnerabilities"][0]["threats"]
    assert validate_csaf(doc)["ok"]
    assert not any(t["category"] == "exploit_status"
                   for t in doc["vulnerabilities"][1].get("threats", []))


def test_the_cna_container_carries_cwe_and_both_cvss_versions():
    snap = sample_snapshot()
    container = cna_container(snap, snap.vulnerabilities[0])

    assert container["problemTypes"][0]["descriptions"][0]["cweId"] == "CWE-787"
    assert [sorted(m) for m in container["metrics"]] == [["cvssV3_1", "format"],
                                                         ["cvssV4_0", "format"]]
    assert container["metrics"][1]["cvssV4_0"]["baseScore"] == 9.3


def test_vers_ranges_that_cannot_be_said_exactly_are_left_unparsed():
    assert versions.parse("vers:pypi/>=1.0|<1.4.2").intervals == (
        versions.Interval("1.0", "1.4.2"),)
    assert versions.parse("vers:npm/<=2.0.0").intervals == (
        versions.Interval(None, "2.0.0", upper_inclusive=True),)
    assert versions.parse("vers:deb/*").everything
    assert versions.parse("1.4.1").exact == ("1.4.1",)
    assert versions.parse("vers:pypi/!=1.2") is None
    assert versions.parse("before 1.2") is None
    assert versions.lower_bound("vers:pypi/>=1.4.2") == "1.4.2"


# --- provider directory --------------------------------------------------------------------

def _directory(*snapshots):
    docs = []
    for snap in snapshots:
        docs += [csaf_advisory(snap), csaf_vex(snap)]
    return build_directory(docs, publisher=snapshots[0].publisher, last_updated=T1)


def test_the_provider_directory_holds_what_an_aggregator_reads():
    later = datetime(2026, 12, 20, 8, 30, tzinfo=UTC)
    first = sample_snapshot()
    second = sample_snapshot(reference="CH-2026-0002", current_release_date=later)
    files = _directory(first, second)

    assert sorted(files) == [
        "provider-metadata.json", "white/2026/ch-2026-0001-vex.json",
        "white/2026/ch-2026-0001-vex.json.sha256", "white/2026/ch-2026-0001.json",
        "white/2026/ch-2026-0001.json.sha256", "white/2026/ch-2026-0002-vex.json",
        "white/2026/ch-2026-0002-vex.json.sha256", "white/2026/ch-2026-0002.json",
        "white/2026/ch-2026-0002.json.sha256", "white/changes.csv", "white/index.txt"]
    metadata = json.loads(files["provider-metadata.json"])
    assert validate_provider_metadata(metadata)["ok"]
    assert metadata["canonical_url"] == \
        "https://portal.example.gov/.well-known/csaf/provider-metadata.json"
    assert metadata["distributions"] == [
        {"directory_url": "https://portal.example.gov/.well-known/csaf/white/"}]
    assert files["white/index.txt"].decode().splitlines() == [
        "2026/ch-2026-0001-vex.json", "2026/ch-2026-0001.json", "2026/ch-2026-0002-vex.json",
        "2026/ch-2026-0002.json"]
    rows = list(csv.reader(io.StringIO(files["white/changes.csv"].decode())))
    assert rows[:2] == [["2026/ch-2026-0002.json", "2026-12-20T08:30:00Z"],
                        ["2026/ch-2026-0002-vex.json", "2026-12-20T08:30:00Z"]]
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)
    assert files["white/changes.csv"].startswith(b'"2026/ch-2026-0002.json",')
    body = files["white/2026/ch-2026-0001.json"]
    assert files["white/2026/ch-2026-0001.json.sha256"] == \
        f"{hashlib.sha256(body).hexdigest()}  ch-2026-0001.json\n".encode()
    assert validate_csaf(json.loads(body))["ok"]
    # The self reference inside the document is where the directory serves it.
    assert json.loads(body)["document"]["references"][0]["url"] == \
        "https://portal.example.gov/.well-known/csaf/white/2026/ch-2026-0001.json"


def test_amber_documents_stay_out_of_the_public_provider_directory():
    files = _directory(sample_snapshot(), sample_snapshot(reference="CH-2026-0003",
                                                          tlp=Tlp.AMBER))

    assert not any("0003" in path for path in files)
    assert b"0003" not in files["white/index.txt"] + files["white/changes.csv"]


def test_provider_metadata_without_a_publisher_fails_its_schema():
    metadata = provider_metadata(sample_snapshot().publisher, last_updated=T1)
    broken = copy.deepcopy(metadata)
    del broken["publisher"]["namespace"]

    assert validate_provider_metadata(metadata)["ok"]
    report = validate_provider_metadata(broken)
    assert report["errors"] == [{"test": "schema", "path": "/publisher",
                                 "message": "'namespace' is a required property"}]


def test_writing_the_directory_again_removes_what_is_no_longer_published(tmp_path):
    write_directory(tmp_path, _directory(sample_snapshot(),
                                         sample_snapshot(reference="CH-2026-0002")))
    files = _directory(sample_snapshot())
    write_directory(tmp_path, files)

    assert read_directory(tmp_path) == files


def test_the_served_bytes_and_their_hash_survive_a_key_reordering_round_trip():
    exports = exports_build(sample_snapshot())
    reordered = json.loads(json.dumps(exports["csaf"], sort_keys=True))

    assert to_bytes(reordered) == to_bytes(exports["csaf"])
    assert hashlib.sha256(to_bytes(reordered)).hexdigest() == exports["hashes"]["csaf"]


def test_no_status_in_the_sample_is_left_unexported():
    snap = sample_snapshot()
    statuses = {st.status for v in snap.vulnerabilities for st in v.statements}

    assert statuses == set(Status) - {Status.UNDER_INVESTIGATION}


def test_the_csaf_packages_provider_tree_audit_accepts_the_written_directory(tmp_path):
    """An independent reader: the csaf package's audit of a provider tree (7.1.11-7.1.12:
    year folders, index.txt). Its changes.csv check (csaf 2026.10.25, _audit.py) reads the
    timestamp from the first column and the path from the second, the reverse of CSAF 2.0
    7.1.13 and 2.1 requirement 13 (and their examples: "path","timestamp"), so it is left out;
    test_the_provider_directory_holds_what_an_aggregator_reads checks changes.csv."""
    from csaf import audit_tree

    later = datetime(2026, 12, 20, 8, 30, tzinfo=UTC)
    write_directory(tmp_path, _directory(sample_snapshot(), sample_snapshot(
        reference="CH-2026-0002", current_release_date=later)))

    result = audit_tree(str(tmp_path / "white"))

    assert result.errors == []
    assert result.violations_for("year-folders") == result.violations_for("index-txt") == []
    assert {v.rule for v in result.violations} <= {"changes-csv"}
    assert result.advisory_count == 4
