"""A case to publish, as the exports see it: two vulnerabilities, four vendors (one fixed, one not
affected, one disputing, one silent), an AI model credited as a tool."""

from dataclasses import replace
from datetime import UTC, datetime

from clearinghouse.exports.snapshot import (
    CaseSnapshot,
    Credit,
    CreditType,
    Cvss,
    Justification,
    Product,
    Publisher,
    Remediation,
    RemediationCategory,
    Revision,
    Statement,
    Status,
    Tlp,
    VendorParty,
    Vulnerability,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T1 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

PARSER = Product(key="1", vendor="Example Soft", name="fastparse",
                 version_range="vers:pypi/>=1.0.0|<1.4.2", purl="pkg:pypi/fastparse")
APPLIANCE = Product(key="2", vendor="Gridline", name="Gridline RTU 500",
                    version_range="3.2.1", cpe="cpe:2.3:h:gridline:rtu_500:3.2.1:*:*:*:*:*:*:*")
LIB = Product(key="3", vendor="Acme Libs", name="acme-xml",
              version_range="vers:npm/<2.0.0", purl="pkg:npm/acme-xml")
SILENT = Product(key="4", vendor="Quiet Corp", name="quietd",
                 version_range="vers:golang/<0.9.0", purl="pkg:golang/example.com/quietd")

VENDORS = (
    VendorParty(name="Example Soft", contacted_at=T0),
    VendorParty(name="Gridline", contacted_at=T0),
    VendorParty(name="Acme Libs", contacted_at=T0),
    VendorParty(name="Quiet Corp", contacted_at=T0, no_response=True),
)

CREDITS = (
    Credit(name="Frontier Model X 2.1", type=CreditType.TOOL, organisation="Acme AI"),
    Credit(name="Acme AI", type=CreditType.FINDER),
)


def sample_snapshot(**changes) -> CaseSnapshot:
    v1 = Vulnerability(
        key="1", title="Heap overflow in fastparse's header parser",
        description="A crafted header makes fastparse write past the end of a heap buffer.",
        cwe_id="CWE-787", cwe_name="Out-of-bounds Write", cve_id="CVE-2026-12345",
        scores=(Cvss(version="3.1", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                     score=9.8, severity="Critical"),
                Cvss(version="4.0",
                     vector="CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                     score=9.3, severity="Critical")),
        statements=(
            Statement(product=PARSER, status=Status.FIXED, date=T1),
            Statement(product=APPLIANCE, status=Status.KNOWN_NOT_AFFECTED,
                      justification=Justification.VULNERABLE_CODE_NOT_IN_EXECUTE_PATH,
                      text="The RTU never parses untrusted headers."),
            Statement(product=LIB, status=Status.DISPUTED,
                      reason="acme-xml copies the header before parsing, so it cannot overflow."),
            Statement(product=SILENT, status=Status.NO_RESPONSE),
        ),
        remediations=(
            Remediation(category=RemediationCategory.VENDOR_FIX,
                        details="Upgrade fastparse to 1.4.2.", product_keys=("1",),
                        fixed_range="vers:pypi/>=1.4.2",
                        url="https://example.com/fastparse/1.4.2",
                        sha256="a" * 64, date=T1),
        ),
        credits=CREDITS, vendors=VENDORS, discovery_date=T0,
    )
    v2 = Vulnerability(
        key="2", title="Prompt injection in fastparse's summariser",
        description="Untrusted text steers the summariser's model.",
        cwe_id="CWE-1427", cwe_name="Improper Neutralization of Input Used for LLM Prompting",
        scores=(Cvss(version="3.1", vector="CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N",
                     score=5.4, severity="Medium"),),
        statements=(Statement(product=PARSER, status=Status.KNOWN_AFFECTED),),
        credits=CREDITS, vendors=VENDORS[:1],
    )
    snap = CaseSnapshot(
        reference="CH-2026-0001", title="Flaws in fastparse and products that embed it",
        summary="Two flaws found by an AI model in fastparse.", tlp=Tlp.CLEAR,
        publisher=Publisher(name="Frontier Review Portal Clearinghouse",
                            namespace="https://portal.example.gov",
                            base_url="https://portal.example.gov",
                            contact_details="clearinghouse@portal.example.gov"),
        initial_release_date=T1, current_release_date=T1,
        revisions=(Revision(number="1", date=T1, summary="Initial release"),),
        vulnerabilities=(v1, v2),
    )
    return replace(snap, **changes)
