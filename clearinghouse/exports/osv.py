"""OSV records (schema 1.7), one per vulnerability.

OSV lists only affected packages, and only packages: a product without a package URL of an OSV
ecosystem (a closed appliance, a hosted service) cannot be said in OSV and is left out. What
each status becomes:

- known_affected, fixed: an `affected` entry with the statement's range as events (introduced /
  fixed / last_affected); for fixed, the first fixed version comes from the vendor_fix
  remediation's fixed range when the statement's range has no upper bound.
- known_not_affected: not listed (absent from `affected` is OSV's "not affected").
- under_investigation, disputed, no_response: not listed in `affected` either, since OSV would
  read that as "affected"; and because absence reads as "not affected" to an OSV scanner, they
  are named in `database_specific.unresolved` with their status, and the details say that
  their status is unresolved. A silent vendor is never shown as cleared.

The record id uses OSV's `x_` prefix for a database that is not aggregated by OSV.dev
("x_CH-2026-0001-1"); the CVE id, when there is one, is an alias.
"""

from __future__ import annotations

from typing import Any

from packageurl import PackageURL

from clearinghouse.exports import naming, versions
from clearinghouse.exports.snapshot import (
    CaseSnapshot,
    CreditType,
    Product,
    RemediationCategory,
    Status,
    Vulnerability,
)

SCHEMA_VERSION = "1.7.5"

# purl type -> OSV ecosystem (osv-schema docs/schema.md, "affected[].package").
ECOSYSTEMS = {
    "pypi": "PyPI", "npm": "npm", "maven": "Maven", "golang": "Go", "cargo": "crates.io",
    "gem": "RubyGems", "nuget": "NuGet", "composer": "Packagist", "hex": "Hex", "pub": "Pub",
    "hackage": "Hackage", "cran": "CRAN", "conan": "ConanCenter", "swift": "SwiftURL",
    "github": "GitHub Actions", "bitnami": "Bitnami",
}
# Ecosystems whose versions are SemVer 2.0 (OSV's SEMVER range type); the others use
# ECOSYSTEM, whose ordering is the ecosystem's own.
SEMVER_ECOSYSTEMS = {"npm", "Go", "crates.io", "Hex", "Pub", "SwiftURL"}

CREDIT_TYPES = {
    CreditType.FINDER: "FINDER", CreditType.REPORTER: "REPORTER", CreditType.ANALYST: "ANALYST",
    CreditType.COORDINATOR: "COORDINATOR",
    CreditType.REMEDIATION_DEVELOPER: "REMEDIATION_DEVELOPER",
    CreditType.REMEDIATION_REVIEWER: "REMEDIATION_REVIEWER",
    CreditType.REMEDIATION_VERIFIER: "REMEDIATION_VERIFIER", CreditType.TOOL: "TOOL",
    CreditType.SPONSOR: "SPONSOR", CreditType.OTHER: "OTHER",
}

UNRESOLVED = (Status.UNDER_INVESTIGATION, Status.DISPUTED, Status.NO_RESPONSE)


def osv_id(snapshot: CaseSnapshot, vuln: Vulnerability) -> str:
    return f"x_{snapshot.reference}-{vuln.key}"


def package_of(product: Product) -> dict[str, str] | None:
    """OSV's package (ecosystem, name, purl without version) or None if it has none."""
    if not product.purl:
        return None
    try:
        purl = PackageURL.from_string(product.purl)
    except ValueError:
        return None
    ecosystem = ECOSYSTEMS.get(purl.type)
    if ecosystem is None:
        return None
    if purl.type == "maven":
        name = f"{purl.namespace}:{purl.name}"
    elif purl.type in ("npm", "golang", "composer", "github", "swift") and purl.namespace:
        name = f"{purl.namespace}/{purl.name}"
    else:
        name = purl.name
    base = PackageURL(type=purl.type, namespace=purl.namespace, name=purl.name).to_string()
    return {"ecosystem": ecosystem, "name": name, "purl": base}


def _fixed_version(vuln: Vulnerability, product: Product) -> str | None:
    for rem in vuln.remediations:
        if rem.category == RemediationCategory.VENDOR_FIX and product.key in rem.product_keys:
            first = versions.lower_bound(rem.fixed_range)
            if first:
                return first
    return None


def _affected(vuln: Vulnerability, product: Product, status: Status,
              package: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {"package": package}
    rng = versions.parse(product.version_range)
    fixed_at = _fixed_version(vuln, product) if status == Status.FIXED else None
    if rng is None:
        if fixed_at:
            entry["ranges"] = [{"type": _range_type(package),
                                "events": [{"introduced": "0"}, {"fixed": fixed_at}]}]
        entry["database_specific"] = {"version_range": product.version_range or None,
                                      "status": str(status)}
        return entry
    ranges = []
    for interval in rng.intervals:
        events: list[dict[str, str]] = [{"introduced": interval.lower or "0"}]
        if interval.upper is not None:
            events.append({"last_affected" if interval.upper_inclusive else "fixed":
                           interval.upper})
        elif fixed_at:
            events.append({"fixed": fixed_at})
        ranges.append({"type": _range_type(package), "events": events})
    if ranges:
        entry["ranges"] = ranges
    if rng.exact:
        entry["versions"] = list(rng.exact)
    entry["database_specific"] = {"version_range": product.version_range,
                                  "status": str(status)}
    return entry


def _range_type(package: dict[str, str]) -> str:
    return "SEMVER" if package["ecosystem"] in SEMVER_ECOSYSTEMS else "ECOSYSTEM"


def osv_record(snapshot: CaseSnapshot, vuln: Vulnerability) -> dict[str, Any]:
    affected = []
    unresolved = []
    not_representable = []
    for st in vuln.statements:
        package = package_of(st.product)
        if st.status in UNRESOLVED:
            unresolved.append({"product": st.product.label, "vendor": st.product.vendor,
                               "status": str(st.status), **({"purl": st.product.purl}
                                                            if st.product.purl else {})})
            continue
        if st.status == Status.KNOWN_NOT_AFFECTED:
            continue
        if package is None:
            not_representable.append(st.product.label)
            continue
        affected.append(_affected(vuln, st.product, st.status, package))

    details = vuln.description
    if unresolved:
        details += ("\n\nNot yet resolved (no statement, still under investigation or disputed"
                    " by the vendor; not cleared): "
                    + "; ".join(f"{u['product']} ({u['status'].replace('_', ' ')})"
                                for u in unresolved) + ".")
    record: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "id": osv_id(snapshot, vuln),
        "modified": naming.iso(snapshot.current_release_date),
        "published": naming.iso(snapshot.initial_release_date),
        "summary": vuln.title,
        "details": details,
    }
    if vuln.cve_id:
        record["aliases"] = [vuln.cve_id]
    severity = [{"type": "CVSS_V4" if s.version.startswith("4") else "CVSS_V3",
                 "score": s.vector} for s in vuln.scores]
    if severity:
        record["severity"] = severity
    if affected:
        record["affected"] = affected
    references = [{"type": "ADVISORY", "url": naming.document_url(snapshot, snapshot.reference)}]
    references += [{"type": "FIX", "url": r.url} for r in vuln.remediations if r.url]
    references += [{"type": "WEB", "url": r.url} for r in vuln.references]
    record["references"] = references
    credits = [{"name": c.name, "type": CREDIT_TYPES[c.type]} for c in vuln.credits]
    if credits:
        record["credits"] = credits
    database_specific: dict[str, Any] = {"case": snapshot.reference, "cwe_ids": [vuln.cwe_id]}
    if unresolved:
        database_specific["unresolved"] = unresolved
    if not_representable:
        database_specific["affected_without_package"] = not_representable
    record["database_specific"] = database_specific
    return record


def osv_records(snapshot: CaseSnapshot) -> list[dict[str, Any]]:
    return [osv_record(snapshot, v) for v in snapshot.vulnerabilities]
