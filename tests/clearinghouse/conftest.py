"""The clearinghouse world, on top of `world` (tests/conftest.py):

- finder: world.owner, of Acme AI (an AI developer), who filed `report` (valid, human
  validated) claiming pkg:pypi/libfoo
- vendor: a member of Vendor A, whose catalogue holds pkg:pypi/libfoo; other_vendor: a member of
  Vendor B (pkg:npm/barjs), in no case
- coordinator: world.admin (program office); operator: a member of an infrastructure operator;
  partner: world.partner
`case_world` also opens the case from the report and confirms Vendor A.

For the intake's tests (`iw`, built without a report): colleague and outsider from `world`,
reviewer: world.reviewer (agency, verifies); `report_payload()` is a complete report (threat
model, product, CWE, CVSS 3.1); `vendor_case(iw, report)` puts a report in a case where Vendor A
is a confirmed vendor participant (rows created directly).
"""

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import Organisation
from clearinghouse import cases, intake, members
from clearinghouse.models import (
    Case,
    Participant,
    ProductClaim,
    ProductStatement,
    Report,
    VendorProduct,
    Vulnerability,
)
from tests.factories import OrganisationFactory, UserFactory

K = Organisation.Kind


def make_report(org, user, *, purl_key="pkg:pypi/libfoo", product="libfoo", status="valid",
                ai_found=False, validated_by=None, **fields) -> Report:
    """A report as intake leaves it (intake's services own its states; here it is set)."""
    report = Report.objects.create(
        organisation=org, reported_by=user, title=fields.pop("title", "Heap overflow in libfoo"),
        description="A crafted header overflows a heap buffer.", attacker="remote",
        capability="network access", trigger="crafted header", impact="code execution",
        cwe="CWE-787", cvss_vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        cvss_version="3.1", cvss_score=Decimal("9.8"), cvss_severity="CRITICAL",
        status=status, ai_found=ai_found, human_validated_by=validated_by,
        human_validated_at=timezone.now() if validated_by else None, **fields)
    ProductClaim.objects.create(report=report, purl=f"{purl_key}@1.2.0", purl_key=purl_key,
                                product_name=product, version_range="vers:pypi/<1.4.2")
    return report


def vet(admin, user):
    """The vendor's or operator's organisation applies and the program office vets it: until
    then it sees nothing of the clearinghouse (access.is_active_member)."""
    profile = members.member_apply(actor=user, description="What we make.",
                                   security_contact="security@example.org")
    return members.member_transition(profile=profile, actor=admin, action="vet",
                                     reason="Checked.")


def build_cw(w) -> SimpleNamespace:
    vendor_org = OrganisationFactory(name="Vendor A", kind=K.VENDOR)
    other_vendor_org = OrganisationFactory(name="Vendor B", kind=K.VENDOR)
    operator_org = OrganisationFactory(name="Water Works", kind=K.OPERATOR)
    vendor = UserFactory(username="vendor", organisation=vendor_org)
    vendor_colleague = UserFactory(username="vendor2", organisation=vendor_org)
    other_vendor = UserFactory(username="othervendor", organisation=other_vendor_org)
    operator = UserFactory(username="operator", organisation=operator_org)
    for user in (vendor, other_vendor, operator):
        vet(w.admin, user)
    VendorProduct.objects.create(vendor=vendor_org, name="libfoo", purl_key="pkg:pypi/libfoo")
    VendorProduct.objects.create(vendor=other_vendor_org, name="barjs",
                                 purl_key="pkg:npm/barjs")
    report = make_report(w.acme, w.owner, validated_by=w.owner)
    return SimpleNamespace(w=w, finder=w.owner, coordinator=w.admin, partner=w.partner,
                           vendor=vendor, vendor_colleague=vendor_colleague,
                           other_vendor=other_vendor, operator=operator, vendor_org=vendor_org,
                           other_vendor_org=other_vendor_org, report=report)


@pytest.fixture
def cw(world) -> SimpleNamespace:
    return build_cw(world)


def open_case(cw):
    case = cases.case_open(actor=cw.coordinator, reports=[cw.report])
    participant = case.participants.get(role="vendor", organisation=cw.vendor_org)
    cases.participant_confirm(participant=participant, actor=cw.coordinator)
    case.refresh_from_db()
    cw.case, cw.participant = case, participant
    cw.statement = case.vulnerabilities.get().statements.get()
    return cw


@pytest.fixture
def case_world(cw) -> SimpleNamespace:
    return open_case(cw)


def actors(cw) -> dict:
    """Who tries every page and endpoint."""
    return {"finder": cw.finder, "vendor": cw.vendor, "other_vendor": cw.other_vendor,
            "coordinator": cw.coordinator, "operator": cw.operator, "partner": cw.partner,
            "anonymous": None}


# --- the intake's world ---------------------------------------------------------------------

CVSS31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
CVSS40 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"


def report_payload(**overrides) -> dict:
    payload = {
        "title": "Heap overflow in libfoo's header parser",
        "description": "A crafted Content-Range header overflows a heap buffer in "
                       "libfoo.parse_header, giving remote code execution.",
        "attacker": "An unauthenticated remote client.",
        "capability": "Can send HTTP requests to a server that uses libfoo.",
        "trigger": "A Content-Range header longer than 4096 bytes.",
        "impact": "Code execution as the server process.",
        "products": [{"purl": "pkg:pypi/LibFoo@1.2.0", "version_range": "vers:pypi/<1.4.2"}],
        "cwe": "CWE-787",
        "cvss_vector": CVSS31,
        "exploitation": "poc",
    }
    payload.update(overrides)
    return payload


def file_report(user, **overrides) -> Report:
    return intake.report_file(actor=user, **report_payload(**overrides))


def build_iw(w) -> SimpleNamespace:
    vendor_org = OrganisationFactory(name="Vendor A", kind=K.VENDOR)
    other_vendor_org = OrganisationFactory(name="Vendor B", kind=K.VENDOR)
    operator_org = OrganisationFactory(name="Water Works", kind=K.OPERATOR)
    vendor = UserFactory(username="vendor", organisation=vendor_org)
    other_vendor = UserFactory(username="othervendor", organisation=other_vendor_org)
    operator = UserFactory(username="operator", organisation=operator_org)
    for user in (vendor, other_vendor, operator):
        vet(w.admin, user)
    return SimpleNamespace(
        w=w, finder=w.owner, colleague=w.colleague, outsider=w.outsider,
        coordinator=w.admin, reviewer=w.reviewer, partner=w.partner, vendor=vendor,
        other_vendor=other_vendor, operator=operator, vendor_org=vendor_org,
        other_vendor_org=other_vendor_org)


@pytest.fixture
def iw(world) -> SimpleNamespace:
    return build_iw(world)


def intake_actors(iw) -> dict:
    return {"finder": iw.finder, "colleague": iw.colleague, "outsider": iw.outsider,
            "vendor": iw.vendor, "other_vendor": iw.other_vendor,
            "coordinator": iw.coordinator, "reviewer": iw.reviewer, "operator": iw.operator,
            "partner": iw.partner, "anonymous": None}


def vendor_case(iw, report: Report, *, number: int = 1) -> Case:
    case = Case.objects.create(reference=f"CH-2026-{number:04d}", year=2026, number=number,
                               title="Case", summary="Summary", created_by=iw.coordinator)
    Participant.objects.create(case=case, organisation=iw.vendor_org,
                               role=Participant.Role.VENDOR, confirmed=True)
    Participant.objects.create(case=case, organisation=report.organisation,
                               role=Participant.Role.REPORTER, confirmed=True)
    # Vendor A is the affected vendor: a statement on the report's vulnerability (only the
    # affected vendors see a report and its proofs of concept).
    vulnerability = Vulnerability.objects.create(
        case=case, title=report.title, description=report.description, cwe=report.cwe,
        cvss_vector=report.cvss_vector, cvss_version=report.cvss_version,
        cvss_score=report.cvss_score, cvss_severity=report.cvss_severity)
    ProductStatement.objects.create(vulnerability=vulnerability, vendor=iw.vendor_org,
                                    product_name="libfoo")
    Report.objects.filter(pk=report.pk).update(case=case, vulnerability=vulnerability)
    report.refresh_from_db()
    return case


def reproduce(iw, report: Report, **kw):
    return intake.verification_record(
        report=report, actor=kw.pop("actor", iw.reviewer), method=kw.pop("method", "sandbox"),
        environment="python:3.11-slim, libfoo 1.2.0", runs=kw.pop("runs", 5),
        successes=kw.pop("successes", 5), result=kw.pop("result", "reproduced"), **kw)
