"""Who sees which vulnerability, report and proof of concept of a case with two
vulnerabilities: each vendor only what affects it, each reporter only its own reports."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEvent
from clearinghouse import cases
from clearinghouse.models import ReportArtifact
from tests.clearinghouse.conftest import make_report

pytestmark = pytest.mark.django_db(transaction=False)

POC = b"#!/bin/sh\necho crafted\n"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"


@pytest.fixture
def two(cw, client):
    """A case from the libfoo report (Vendor A's product) and a barjs report of Other AI
    (Vendor B's product), both validated; both vendors confirmed; a proof of concept on the
    barjs report."""
    cw.other_report = make_report(cw.w.other_org, cw.w.outsider, purl_key="pkg:npm/barjs",
                                  product="barjs", title="Prototype pollution in barjs",
                                  validated_by=cw.w.outsider)
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report, cw.other_report])
    for participant in case.participants.filter(role="vendor"):
        cases.participant_confirm(participant=participant, actor=cw.coordinator)
    cw.case = case
    cw.report.refresh_from_db()
    cw.other_report.refresh_from_db()
    client.force_login(cw.w.outsider)
    response = client.post(f"/api/v1/reports/{cw.other_report.pk}/artifacts/", {
        "kind": "repro_script", "file": SimpleUploadedFile("repro.sh", POC)})
    assert response.status_code == 201, response.content
    client.logout()
    cw.artifact = ReportArtifact.objects.get()
    return cw


def test_a_vendor_gets_404_for_the_report_and_proof_of_concept_of_a_vulnerability_not_its_own(
        two, api, client):
    assert two.case.vulnerabilities.count() == 2
    vendor_a = api.as_(two.vendor)
    assert vendor_a.get(f"/api/v1/reports/{two.report.pk}/").status_code == 200
    assert vendor_a.get(f"/api/v1/reports/{two.other_report.pk}/").status_code == 404
    listed = vendor_a.get("/api/v1/reports/").json()["results"]
    assert [r["id"] for r in listed] == [two.report.pk]
    assert vendor_a.get(
        f"/api/v1/report-artifacts/{two.artifact.pk}/download/").status_code == 404
    client.force_login(two.vendor)
    assert client.get(reverse("report_detail", args=[two.other_report.pk])).status_code == 404
    assert client.get(reverse("report_artifact_download",
                              args=[two.artifact.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="report_artifact.downloaded").exists()

    vendor_b = api.as_(two.other_vendor).get(
        f"/api/v1/report-artifacts/{two.artifact.pk}/download/")
    assert vendor_b.status_code == 200 and vendor_b.content == POC
    assert list(AuditEvent.objects.filter(action="report_artifact.downloaded")
                .values_list("actor__username", flat=True)) == ["othervendor"]

