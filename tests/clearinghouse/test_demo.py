"""The demo's clearinghouse: a case opened from an AI-found report on a demo model's evaluation,
two vendors (one fixed, one silent), an embargo, a published advisory — and its exports pass
the independent validators, run as their own command-line tools where they have one."""

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import jsonschema
import pytest
from cvelib.cve_api import CveRecord
from django.core.management import call_command

from clearinghouse.models import Advisory, Case, Embargo, Participant, ProductStatement, Report

BIN = Path(sys.executable).parent
OSV_SCHEMA = Path(__file__).resolve().parents[2] / "clearinghouse" / "exports" / "schemas" / \
    "osv_schema.json"


@pytest.fixture
def demo(db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "media"
    settings.CLEARINGHOUSE_CSAF_ROOT = str(tmp_path / "csaf")
    call_command("seed_demo", stdout=StringIO())
    return tmp_path


def test_the_demo_case_comes_from_an_ai_found_report_on_a_demo_models_evaluation(demo):
    case = Case.objects.order_by("number").first()
    report = case.reports.get()
    assert report.channel == Report.Channel.EVALUATION and report.ai_found
    assert report.evaluation_run is not None
    assert report.finder_model == report.evaluation_run.request.model
    assert report.human_validated_by is not None
    assert report.verifications.filter(result="reproduced").exists()


def test_one_demo_vendor_fixed_and_the_silent_one_is_no_response_not_not_affected(demo):
    case = Case.objects.order_by("number").first()
    vendors = {p.organisation.name: p for p in case.participants.filter(role="vendor")}
    assert set(vendors) == {"Libretls Project", "MediPump Devices"}
    assert vendors["MediPump Devices"].no_response_at is not None
    statuses = dict(ProductStatement.objects.filter(vulnerability__case=case).values_list(
        "vendor__name", "status"))
    assert statuses == {"Libretls Project": "fixed", "MediPump Devices": "under_investigation"}
    advisory = case.advisories.get(status=Advisory.Status.PUBLISHED)
    for doc in (advisory.csaf, advisory.vex):
        not_affected = [pid for v in doc["vulnerabilities"]
                        for pid in v.get("product_status", {}).get("known_not_affected", [])]
        assert not any("mp200" in pid.lower() or "medipump" in pid.lower()
                       for pid in not_affected)


def test_the_demo_has_an_exited_embargo_on_the_published_case_and_an_active_one(demo):
    first, second = Case.objects.order_by("number")
    assert first.embargo.status == Embargo.Status.EXITED and first.public_at is not None
    assert second.embargo.status == Embargo.Status.ACTIVE
    assert not second.advisories.exists()
    assert Participant.objects.filter(case=second, role="vendor", confirmed=True).count() == 1


def test_the_demo_advisory_passes_the_independent_validators(demo, tmp_path):
    advisory = Advisory.objects.get(status=Advisory.Status.PUBLISHED)
    for name, doc in (("advisory", advisory.csaf), ("vex", advisory.vex)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        result = subprocess.run(
            [str(BIN / "csaf"), "validate", "--spec-version", "v20", "--preset", "basic",
             "--no-network", str(path)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
    osv_validator = jsonschema.Draft202012Validator(json.loads(OSV_SCHEMA.read_text()))
    assert advisory.osv
    for record in advisory.osv:
        assert not list(osv_validator.iter_errors(record)), record["id"]
    assert advisory.cve
    for entry in advisory.cve:  # one CNA container per vulnerability
        CveRecord.validate(entry["container"])  # raises on a schema error
