"""Issue 12's promise, end to end with nothing fabricated: operators upload CycloneDX SBOMs
through the import service, the clearinghouse's own services change the case, matching runs from
their commit hooks (as the worker would), the coordinator's assessment service changes
exploitation, and the disclosure sweep decides who is told. Every row is written by the code
that writes it in production."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from clearinghouse import cases, embargo
from clearinghouse.models import Embargo, ReportArtifact
from exposures import assessment, disclosure, inventory, services
from exposures.models import Asset, Exposure
from notifications.models import Notification
from tests.clearinghouse.conftest import case_world, cw, vet  # noqa: F401 (fixtures)
from tests.factories import OrganisationFactory, UserFactory

pytestmark = pytest.mark.django_db

K = Notification.Kind
POC_FILENAME = "libfoo-overflow-poc.py"


def sbom(*components: tuple[str, str]) -> SimpleUploadedFile:
    bom = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "components": [{"type": "library", "name": name, "version": version,
                           "purl": f"pkg:pypi/{name}@{version}"} for name, version in components]}
    return SimpleUploadedFile("bom.cdx.json", json.dumps(bom).encode(),
                              content_type="application/json")


@pytest.fixture
def e2e(case_world, django_capture_on_commit_callbacks):  # noqa: F811
    """Water Works runs libfoo 1.2.0 (affected, < 1.4.2) on an open, mission-critical system;
    Prairie Savings runs libfoo 1.5.0 (outside the range). Both are vetted operators that
    accepted the terms. The case is under a 20-day embargo with the vendor's statement known
    affected and no fix yet."""
    ew = case_world
    ReportArtifact.objects.create(report=ew.report, kind=ReportArtifact.Kind.POC,
                                  filename=POC_FILENAME, content_type="text/x-python",
                                  size_bytes=10, sha256="b" * 64,
                                  storage_path="reports/poc-e2e", uploaded_by=ew.finder)
    savings = OrganisationFactory(name="Prairie Savings", kind=Organisation.Kind.OPERATOR)
    banker = UserFactory(username="banker", organisation=savings)
    vet(ew.coordinator, banker)
    run = django_capture_on_commit_callbacks
    with run(execute=True):
        inventory.inventory_create(actor=ew.operator, name="Plant", uploaded_file=sbom(
            ("libfoo", "1.2.0"), ("requests", "2.32.3")), default_exposure="open",
            default_mission_impact="mission_failure", default_safety_impact="marginal")
        inventory.inventory_create(actor=banker, name="Core banking",
                                   uploaded_file=sbom(("libfoo", "1.5.0")))
    proposal = embargo.embargo_propose(case=ew.case, actor=ew.coordinator)
    for acceptance in proposal.acceptances.all():
        member = acceptance.organisation.memberships.first().user
        embargo.embargo_answer(embargo=proposal, actor=member, accept=True)
    Embargo.objects.filter(pk=proposal.pk).update(ends_at=timezone.now() + timedelta(days=20))
    for user in (ew.operator, banker):
        services.terms_accept(actor=user)
    with run(execute=True):
        cases.statement_update(statement=ew.statement, actor=ew.vendor, status="known_affected")
    ew.banker, ew.savings, ew.run = banker, savings, run
    return ew


def open_window(ew, days_left: int = 3) -> None:
    Embargo.objects.filter(case=ew.case).update(ends_at=timezone.now() + timedelta(
        days=days_left))


def add_fix(ew) -> None:
    with ew.run(execute=True):
        cases.remediation_add(statement=ew.statement, actor=ew.vendor, category="vendor_fix",
                              details="Upgrade to 1.4.2.", fixed_range="vers:pypi/>=1.4.2",
                              url="https://vendor-a.example/libfoo-1.4.2.tar.gz",
                              artifact_sha256="a" * 64)


def told(user):
    return Exposure.objects.filter(organisation_id=user.membership.organisation_id,
                                   released_at__isnull=False)


def test_the_affected_operator_is_told_before_publication_only_once_a_fix_exists_and_the_window_is_open(e2e):  # noqa: E501
    exposure = Exposure.objects.get(organisation=e2e.operator.membership.organisation)
    assert exposure.active and exposure.method == "purl"
    assert not Exposure.objects.filter(organisation=e2e.savings).exists()  # 1.5.0: no match

    disclosure.disclosure_sweep()
    assert not told(e2e.operator).exists()  # no fix, window closed
    open_window(e2e)
    disclosure.disclosure_sweep()
    assert not told(e2e.operator).exists()  # window open, still no fix
    add_fix(e2e)
    assert told(e2e.operator).get().pk == exposure.pk  # the fix's matching released it
    exposure.refresh_from_db()
    assert exposure.released_before_publication
    assert not told(e2e.banker).exists()

    disclosure.disclosure_sweep()
    assert told(e2e.operator).count() == 1
    assert not told(e2e.banker).exists()


def test_a_fix_with_the_window_still_closed_tells_no_one_until_the_window_opens(e2e):
    add_fix(e2e)
    disclosure.disclosure_sweep()
    assert not told(e2e.operator).exists()
    open_window(e2e)
    disclosure.disclosure_sweep()
    assert told(e2e.operator).count() == 1
    assert not told(e2e.banker).exists()


def test_an_operator_never_sees_another_operator_or_a_proof_of_concept(e2e, client):
    add_fix(e2e)
    open_window(e2e)
    disclosure.disclosure_sweep()
    mine = told(e2e.operator).get()
    client.force_login(e2e.operator)
    pages = [client.get(reverse("exposure_list")), client.get(reverse("exposure_detail",
                                                                      args=[mine.pk]))]
    for page in pages:
        assert page.status_code == 200
        html = page.content.decode()
        assert "Prairie Savings" not in html and "banker" not in html
        assert POC_FILENAME not in html
        assert e2e.report.trigger not in html and e2e.report.description not in html
    assert "Upgrade to 1.4.2." in pages[1].content.decode()  # the fix is what it gets

    # The other operator, even with the exposure's id, gets 404 on every door.
    client.force_login(e2e.banker)
    assert client.get(reverse("exposure_detail", args=[mine.pk])).status_code == 404
    assert client.post(reverse("exposure_status", args=[mine.pk]),
                       {"status": "acknowledged"}).status_code == 404
    theirs = client.get(reverse("exposure_list"))
    assert theirs.status_code == 200
    assert reverse("exposure_detail", args=[mine.pk]) not in theirs.content.decode()
    assert "Water Works" not in theirs.content.decode()
    mine.refresh_from_db()
    assert mine.status == "new"


def test_a_change_of_exploitation_re_notifies_exactly_once(e2e):
    add_fix(e2e)
    open_window(e2e)
    disclosure.disclosure_sweep()
    exposure = told(e2e.operator).get()
    # Exploitation none, not automatable, open, mission failure x marginal: not urgent, so it
    # waits for the daily digest and no urgent notice went out.
    assert exposure.priority not in disclosure.URGENT
    urgent = Notification.objects.filter(kind=K.EXPOSURE_URGENT,
                                         user__membership__organisation=e2e.operator
                                         .membership.organisation)
    assert urgent.count() == 0

    vulnerability = e2e.statement.vulnerability
    with e2e.run(execute=True):
        assessment.assessment_set(vulnerability=vulnerability, actor=e2e.coordinator,
                                  exploitation="active", automatable="yes",
                                  reason="Attacks reported by two sector ISACs.")
    exposure.refresh_from_db()
    assert exposure.priority == "immediate"
    assert urgent.count() == 1
    # The same assessment again, another matching refresh and the hourly sweep: nothing new.
    with e2e.run(execute=True):
        assessment.assessment_set(vulnerability=vulnerability, actor=e2e.coordinator,
                                  exploitation="active", automatable="yes",
                                  reason="Attacks reported by two sector ISACs.")
    from exposures import matching

    matching.refresh_vulnerability(vulnerability_id=vulnerability.pk, cause="test")
    disclosure.disclosure_sweep()
    assert urgent.count() == 1
    assert not Notification.objects.filter(kind=K.EXPOSURE_URGENT, user=e2e.banker).exists()


def test_re_importing_the_same_sbom_keeps_one_asset_and_one_exposure(e2e):
    plant = e2e.operator.membership.organisation.inventories.get()
    before = set(Asset.objects.filter(inventory=plant).values_list("pk", flat=True))
    with e2e.run(execute=True):
        inventory.inventory_import(actor=e2e.operator, inventory=plant, uploaded_file=sbom(
            ("libfoo", "1.2.0"), ("requests", "2.32.3")))
    assert set(Asset.objects.filter(inventory=plant).values_list("pk", flat=True)) == before
    assert Exposure.objects.filter(organisation=plant.organisation).count() == 1
