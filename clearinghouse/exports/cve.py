"""CVE 5.1 CNA containers (`containers.cna` of a CVE record), one per vulnerability, what CVE
Services takes when a CNA publishes. The cve id itself lives in cveMetadata, outside the
container; a vulnerability without one still gets its container (for when the id is reserved).

Statuses: known_affected and fixed → versions `affected` (fixed: the fixed range's first
version starts an `unaffected` change); known_not_affected → `unaffected`; under
investigation, disputed and no response → `unknown` ("a vendor has not disclosed the status",
the schema's own words), never `unaffected`. A dispute also tags the container `disputed` and
is told in the description ("NOTE: <vendor> disputes …"), the CVE program's convention.
"""

from __future__ import annotations

from typing import Any

from clearinghouse.exports import naming, versions
from clearinghouse.exports.osv import package_of
from clearinghouse.exports.snapshot import (
    CaseSnapshot,
    Product,
    RemediationCategory,
    Statement,
    Status,
    Vulnerability,
)

# Package registries by OSV ecosystem: CVE's packageName only means something with its
# collectionURL (examples from the CVE 5.1 schema).
COLLECTIONS = {
    "PyPI": "https://pypi.org", "npm": "https://www.npmjs.com",
    "Maven": "https://repo.maven.apache.org/maven2", "Go": "https://pkg.go.dev",
    "crates.io": "https://crates.io", "RubyGems": "https://rubygems.org",
    "NuGet": "https://www.nuget.org", "Packagist": "https://packagist.org",
    "Hex": "https://hex.pm", "Pub": "https://pub.dev",
}

CVE_STATUS = {
    Status.KNOWN_AFFECTED: "affected", Status.FIXED: "affected",
    Status.KNOWN_NOT_AFFECTED: "unaffected", Status.UNDER_INVESTIGATION: "unknown",
    Status.DISPUTED: "unknown", Status.NO_RESPONSE: "unknown",
}


def _fixed_ranges(vuln: Vulnerability, product: Product) -> list[versions.Range]:
    out = []
    for rem in vuln.remediations:
        if rem.category == RemediationCategory.VENDOR_FIX and product.key in rem.product_keys:
            rng = versions.parse(rem.fixed_range)
            if rng is not None:
                out.append(rng)
    return out


def _entries(rng: versions.Range, status: str) -> list[dict[str, Any]]:
    kind = rng.scheme or "custom"
    out: list[dict[str, Any]] = []
    for interval in rng.intervals:
        entry: dict[str, Any] = {"version": interval.lower or "0", "status": status,
                                 "versionType": kind}
        if interval.upper is None:
            entry["lessThan"] = "*"
        elif interval.upper_inclusive:
            entry["lessThanOrEqual"] = interval.upper
        else:
            entry["lessThan"] = interval.upper
        out.append(entry)
    return out + [{"version": v, "status": status} for v in rng.exact]


def _versions(vuln: Vulnerability, st: Statement) -> tuple[list[dict[str, Any]], str]:
    """(versions, defaultStatus) for one statement."""
    status = CVE_STATUS[st.status]
    rng = versions.parse(st.product.version_range)
    if rng is None:
        # No range, or one that cannot be said exactly: the status holds for the product.
        return [], status
    out = _entries(rng, status)
    if st.status == Status.FIXED:
        # The versions that carry the fix, from the vendor_fix remediation's fixed range.
        for fixed in _fixed_ranges(vuln, st.product):
            out += _entries(fixed, "unaffected")
    # Outside the stated ranges the vendor said nothing: unknown, not unaffected.
    return out, "unknown"


def cna_container(snapshot: CaseSnapshot, vuln: Vulnerability) -> dict[str, Any]:
    affected = []
    disputes = []
    for st in vuln.statements:
        product: dict[str, Any] = {"vendor": st.product.vendor, "product": st.product.name}
        package = package_of(st.product)
        if package is not None and package["ecosystem"] in COLLECTIONS:
            product["collectionURL"] = COLLECTIONS[package["ecosystem"]]
            product["packageName"] = package["name"]
        if st.product.cpe:
            product["cpes"] = [st.product.cpe]
        entries, default = _versions(vuln, st)
        if entries:
            product["versions"] = entries
        product["defaultStatus"] = default
        affected.append(product)
        if st.status == Status.DISPUTED:
            disputes.append(f"{st.product.vendor} disputes that {st.product.label} is "
                            f"affected: {st.reason}")

    description = vuln.description
    if disputes:
        description += " NOTE: " + " ".join(disputes)
    container: dict[str, Any] = {
        "providerMetadata": {"orgId": snapshot.publisher.cve_org_id},
        "title": vuln.title,
        "descriptions": [{"lang": snapshot.lang, "value": description}],
        "affected": affected,
        "references": [{"url": naming.document_url(snapshot, snapshot.reference),
                        "name": f"{snapshot.reference} (CSAF advisory)",
                        "tags": ["vendor-advisory"]}],
        "datePublic": naming.iso(snapshot.initial_release_date),
    }
    if snapshot.publisher.cve_short_name:
        container["providerMetadata"]["shortName"] = snapshot.publisher.cve_short_name
    container["references"] += [{"url": r.url, "tags": ["patch"]}
                                for r in vuln.remediations if r.url]
    container["references"] += [{"url": r.url, "name": r.summary} for r in vuln.references]
    if vuln.cwe_id:
        container["problemTypes"] = [{"descriptions": [{
            "lang": snapshot.lang, "type": "CWE", "cweId": vuln.cwe_id,
            "description": f"{vuln.cwe_id} {vuln.cwe_name}".strip()}]}]
    metrics = []
    for s in vuln.scores:
        key = {"3.1": "cvssV3_1", "3.0": "cvssV3_0", "4.0": "cvssV4_0"}.get(s.version)
        if key is None:
            continue
        metrics.append({"format": "CVSS", key: {
            "version": s.version, "vectorString": s.vector, "baseScore": float(s.score),
            "baseSeverity": s.severity.upper()}})
    if metrics:
        container["metrics"] = metrics
    credits = []
    for c in vuln.credits:
        credits.append({"lang": snapshot.lang, "type": str(c.type), "value": c.name})
    if credits:
        container["credits"] = credits
    solutions = [{"lang": snapshot.lang, "value": r.details} for r in vuln.remediations
                 if r.category == RemediationCategory.VENDOR_FIX]
    workarounds = [{"lang": snapshot.lang, "value": r.details} for r in vuln.remediations
                   if r.category in (RemediationCategory.WORKAROUND,
                                     RemediationCategory.MITIGATION)]
    if solutions:
        container["solutions"] = solutions
    if workarounds:
        container["workarounds"] = workarounds
    if disputes:
        container["tags"] = ["disputed"]
    return container


def cna_containers(snapshot: CaseSnapshot) -> list[dict[str, Any]]:
    """One container per vulnerability, in the snapshot's order, with its cve id beside it."""
    return [{"cve_id": v.cve_id or None, "container": cna_container(snapshot, v)}
            for v in snapshot.vulnerabilities]
