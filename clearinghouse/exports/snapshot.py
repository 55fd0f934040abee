"""What a case looks like at the moment it is published: frozen dataclasses, built once from the
database (clearinghouse/selectors_snapshot.py) and turned into every export by pure functions
(csaf_documents, osv, cve). Nothing in this package reads the ORM, so the generators are tested
without a database and the same snapshot always gives the same bytes.

A product's `version_range` is the range of versions the vendor's statement is about, written as
a `vers:` range (vers:pypi/>=1.0|<1.4.2) or a single version (1.4.1). A remediation's
`fixed_range` names the versions that carry the fix (vers:pypi/>=1.4.2): CSAF's `fixed` list
names those, never the affected range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Status(StrEnum):
    """A vendor's status for one product and one vulnerability, as exported."""

    UNDER_INVESTIGATION = "under_investigation"
    KNOWN_AFFECTED = "known_affected"
    FIXED = "fixed"
    KNOWN_NOT_AFFECTED = "known_not_affected"
    DISPUTED = "disputed"
    # The vendor was notified and said nothing for 21 days (docs/clearinghouse.md 4.4 rule 5).
    # Silence is never "not affected": see csaf_documents.py for how each format shows it.
    NO_RESPONSE = "no_response"


class Justification(StrEnum):
    """CSAF 2.0 VEX flags (3.2.3.5), required with known_not_affected."""

    COMPONENT_NOT_PRESENT = "component_not_present"
    VULNERABLE_CODE_NOT_PRESENT = "vulnerable_code_not_present"
    VULNERABLE_CODE_NOT_IN_EXECUTE_PATH = "vulnerable_code_not_in_execute_path"
    VULNERABLE_CODE_CANNOT_BE_CONTROLLED_BY_ADVERSARY = (
        "vulnerable_code_cannot_be_controlled_by_adversary")
    INLINE_MITIGATIONS_ALREADY_EXIST = "inline_mitigations_already_exist"


class RemediationCategory(StrEnum):
    VENDOR_FIX = "vendor_fix"
    WORKAROUND = "workaround"
    MITIGATION = "mitigation"
    NONE_AVAILABLE = "none_available"
    NO_FIX_PLANNED = "no_fix_planned"


class Tlp(StrEnum):
    """TLP 2.0 labels. CSAF 2.0 knows TLP 1.0 (WHITE/GREEN/AMBER/RED): csaf_documents maps them."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class CreditType(StrEnum):
    """CVE 5 credit types (OSV and CSAF get their own spelling in their generators)."""

    FINDER = "finder"
    REPORTER = "reporter"
    ANALYST = "analyst"
    COORDINATOR = "coordinator"
    REMEDIATION_DEVELOPER = "remediation developer"
    REMEDIATION_REVIEWER = "remediation reviewer"
    REMEDIATION_VERIFIER = "remediation verifier"
    # A frontier model that found the flaw is credited as a tool, the AI company as finder.
    TOOL = "tool"
    SPONSOR = "sponsor"
    OTHER = "other"


@dataclass(frozen=True)
class Publisher:
    name: str
    namespace: str  # the publisher's web address (CSAF /document/publisher/namespace)
    base_url: str  # where the portal is served; advisory URLs are built from it
    contact_details: str = ""
    category: str = "coordinator"
    # CVE Services organisation UUID and short name, for the CNA container's providerMetadata.
    cve_org_id: str = "00000000-0000-4000-8000-000000000000"
    cve_short_name: str = ""


@dataclass(frozen=True)
class Revision:
    number: str  # integer versioning: "1", "2", …
    date: datetime
    summary: str


@dataclass(frozen=True)
class Product:
    """One vendor product (and the versions a statement covers)."""

    key: str  # unique within the snapshot; the CSAF product id is derived from it
    vendor: str
    name: str
    version_range: str = ""
    purl: str = ""
    cpe: str = ""

    @property
    def label(self) -> str:
        name = self.name if self.name.startswith(self.vendor) else f"{self.vendor} {self.name}"
        return f"{name} {self.version_range}".strip()


@dataclass(frozen=True)
class Remediation:
    category: RemediationCategory
    details: str
    product_keys: tuple[str, ...]
    fixed_range: str = ""
    url: str = ""
    sha256: str = ""
    date: datetime | None = None


@dataclass(frozen=True)
class Statement:
    """One vendor's status for one product."""

    product: Product
    status: Status
    justification: Justification | None = None
    reason: str = ""  # why a vendor disputes; required when disputed
    text: str = ""  # the vendor's own words, shown as a note
    date: datetime | None = None


@dataclass(frozen=True)
class VendorParty:
    """A vendor taking part in the case, for CSAF involvements and the no-response notes."""

    name: str
    contacted_at: datetime | None = None
    no_response: bool = False


@dataclass(frozen=True)
class Credit:
    name: str
    type: CreditType
    organisation: str = ""


@dataclass(frozen=True)
class Cvss:
    version: str  # "3.1" or "4.0"
    vector: str
    score: float
    severity: str  # Critical/High/Medium/Low/None as cvss computes it


@dataclass(frozen=True)
class Reference:
    url: str
    summary: str
    category: str = "external"  # CSAF: external or self


@dataclass(frozen=True)
class Vulnerability:
    key: str  # unique within the case: "1", "2", …
    title: str
    description: str
    cwe_id: str
    cwe_name: str
    cve_id: str = ""
    scores: tuple[Cvss, ...] = ()
    statements: tuple[Statement, ...] = ()
    remediations: tuple[Remediation, ...] = ()
    credits: tuple[Credit, ...] = ()
    vendors: tuple[VendorParty, ...] = ()
    references: tuple[Reference, ...] = ()
    discovery_date: datetime | None = None
    exploitation: str = "none"  # none / poc / active


@dataclass(frozen=True)
class CaseSnapshot:
    reference: str  # CH-YYYY-NNNN
    title: str
    summary: str
    tlp: Tlp
    publisher: Publisher
    initial_release_date: datetime
    current_release_date: datetime
    revisions: tuple[Revision, ...]
    vulnerabilities: tuple[Vulnerability, ...]
    lang: str = "en"
    generator: str = "Frontier Review Portal clearinghouse"
    generator_version: str = "1"
    extra: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def version(self) -> str:
        return self.revisions[-1].number

    @property
    def vex_tracking_id(self) -> str:
        return f"{self.reference}-VEX"

    def products(self) -> list[Product]:
        """Every product any statement is about, once, in first-seen order."""
        seen: dict[str, Product] = {}
        for vuln in self.vulnerabilities:
            for st in vuln.statements:
                seen.setdefault(st.product.key, st.product)
        return list(seen.values())
