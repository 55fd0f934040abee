"""CSAF 2.0 documents from a snapshot: the security advisory (csaf_security_advisory) and the
VEX document (csaf_vex). Both carry the same product tree and statuses; they differ in category,
title and tracking id (CH-2026-0001 and CH-2026-0001-VEX, so their filenames differ too).

How each clearinghouse status is said in CSAF 2.0 (docs: /work/helpers/docs/exports.md):

- known_affected: `known_affected`, with the vendor's remediations; a product with none gets a
  `none_available` remediation, because VEX requires an action statement (6.1.27.10) and "no
  remediation has been published" is what the data says.
- fixed: the versions that carry the fix (the remediation's fixed range) are listed as `fixed`
  and the statement's range stays `known_affected` with its `vendor_fix`: listing the affected
  range as fixed would tell a scanner that vulnerable versions are safe. A product without a
  fixed range (a hosted service, a product without versions) is itself `fixed`.
- known_not_affected: `known_not_affected` with its VEX justification as a flag (6.1.27.9);
  the vendor's words, when given, also as an `impact` threat.
- disputed: `under_investigation`, a vendor involvement with status `disputed` whose summary
  holds the vendor's reason, and a note. CSAF 2.0 has no per-product "disputed"; neither side's
  claim (affected / not affected) is asserted while they disagree.
- no_response: `under_investigation`, a vendor involvement `contact_attempted` dated when the
  vendor was contacted, and a note naming the vendors that did not answer. Silence is never
  `known_not_affected` (rule 5). `known_affected` would assert what the vendor never confirmed
  for every product in the statement's range; CSAF 2.0 has no `unknown` (2.1 adds it), and
  `under_investigation` ("not known yet whether affected") is the closest honest status, the
  involvement and the note saying why it is not known.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from clearinghouse.exports import naming
from clearinghouse.exports.snapshot import (
    CaseSnapshot,
    Product,
    RemediationCategory,
    Status,
    Vulnerability,
)

CSAF_VERSION = "2.0"
ADVISORY = "csaf_security_advisory"
VEX = "csaf_vex"


def product_id(key: str) -> str:
    return f"CSAFPID-{key}"


def fixed_product_id(vuln_key: str, key: str, index: int) -> str:
    return f"CSAFPID-{key}-V{vuln_key}-FIX{index}"


FixKey = tuple[str, str, int]


def _fixed_products(snapshot: CaseSnapshot) -> dict[FixKey, Product]:
    """The products a fix creates: same vendor and name, the remediation's fixed range, keyed by
    (vulnerability key, statement product key, remediation index within the vulnerability)."""
    out: dict[FixKey, Product] = {}
    by_key = {p.key: p for p in snapshot.products()}
    for vuln in snapshot.vulnerabilities:
        for index, rem in enumerate(vuln.remediations, start=1):
            if rem.category != RemediationCategory.VENDOR_FIX or not rem.fixed_range:
                continue
            for key in rem.product_keys:
                base = by_key.get(key)
                if base is None:
                    continue
                fixed_key = f"{key}-V{vuln.key}-FIX{index}"
                out[(vuln.key, key, index)] = Product(
                    key=fixed_key, vendor=base.vendor, name=base.name,
                    version_range=rem.fixed_range, purl=_purl_base(base.purl), cpe="")
    return out


def _purl_base(purl: str) -> str:
    """The purl without version (the fixed range, not one version, is what is named)."""
    if not purl:
        return ""
    head, _, tail = purl.partition("?")
    if "@" in head:
        head = head.rsplit("@", 1)[0]
    return head + (f"?{tail}" if tail else "")


def _leaf(product: Product, pid: str) -> dict[str, Any]:
    leaf: dict[str, Any] = {"name": product.label, "product_id": pid}
    helper = {k: v for k, v in (("cpe", product.cpe), ("purl", product.purl)) if v}
    if helper:
        leaf["product_identification_helper"] = helper
    return leaf


def _product_tree(snapshot: CaseSnapshot) -> dict[str, Any]:
    entries: list[tuple[Product, str]] = [(p, product_id(p.key)) for p in snapshot.products()]
    entries += [(p, fixed_product_id(v, key, i))
                for (v, key, i), p in _fixed_products(snapshot).items()]
    vendors: dict[str, dict[str, list[tuple[Product, str]]]] = {}
    for product, pid in entries:
        vendors.setdefault(product.vendor, {}).setdefault(product.name, []).append((product, pid))
    branches = []
    for vendor, products in vendors.items():
        name_branches = []
        for name, versions in products.items():
            version_branches = []
            leaf_here = None
            for product, pid in versions:
                if not product.version_range:
                    leaf_here = _leaf(product, pid)
                    continue
                category = ("product_version_range" if product.version_range.startswith("vers:")
                            else "product_version")
                version_branches.append({"category": category, "name": product.version_range,
                                         "product": _leaf(product, pid)})
            branch: dict[str, Any] = {"category": "product_name", "name": name}
            if version_branches:
                branch["branches"] = version_branches
                if leaf_here is not None:
                    # A product with no version next to versioned ones: its own branch.
                    name_branches.append({"category": "product_name", "name": name,
                                          "product": leaf_here})
            else:
                branch["product"] = leaf_here
            name_branches.append(branch)
        branches.append({"category": "vendor", "name": vendor, "branches": name_branches})
    return {"branches": branches}


def _cvss3(score) -> dict[str, Any]:
    return {"version": score.version, "vectorString": score.vector,
            "baseScore": float(score.score), "baseSeverity": score.severity.upper()}


def _vulnerability(snapshot: CaseSnapshot, vuln: Vulnerability,
                   fixed: dict[FixKey, Product]) -> dict[str, Any]:
    status: dict[str, list[str]] = {"known_affected": [], "fixed": [], "known_not_affected": [],
                                    "under_investigation": []}
    flags: list[dict[str, Any]] = []
    threats: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = [
        {"category": "description", "title": "Vulnerability description",
         "text": vuln.description}]
    disputes: dict[str, list[str]] = {}
    fixes_by_key: dict[str, list[int]] = {}
    for (vuln_key, key, index) in fixed:
        if vuln_key == vuln.key:
            fixes_by_key.setdefault(key, []).append(index)

    for st in vuln.statements:
        pid = product_id(st.product.key)
        if st.status == Status.KNOWN_AFFECTED:
            status["known_affected"].append(pid)
        elif st.status == Status.FIXED:
            indexes = fixes_by_key.get(st.product.key, [])
            if indexes:
                status["known_affected"].append(pid)
                status["fixed"] += [fixed_product_id(vuln.key, st.product.key, i)
                                    for i in indexes]
            else:
                status["fixed"].append(pid)
        elif st.status == Status.KNOWN_NOT_AFFECTED:
            status["known_not_affected"].append(pid)
            if st.justification:
                flags.append({"label": str(st.justification), "product_ids": [pid]})
            if st.text:
                threats.append({"category": "impact", "details": st.text, "product_ids": [pid]})
        elif st.status == Status.DISPUTED:
            status["under_investigation"].append(pid)
            disputes.setdefault(st.product.vendor, []).append(f"{st.product.label}: {st.reason}")
            notes.append({"category": "other", "title": f"Disputed by {st.product.vendor}",
                          "text": f"{st.product.vendor} disputes that {st.product.label} is "
                                  f"affected: {st.reason}"})
        else:  # under investigation, no response
            status["under_investigation"].append(pid)
        if st.text and st.status != Status.KNOWN_NOT_AFFECTED:
            notes.append({"category": "other",
                          "title": f"Statement of {st.product.vendor} on {st.product.name}",
                          "text": st.text})

    exploited = {"poc": "A proof of concept exists.",
                 "active": "Exploited in the wild."}.get(vuln.exploitation)
    if exploited:
        threats.append({"category": "exploit_status", "details": exploited})

    silent = [v for v in vuln.vendors if v.no_response]
    if silent:
        names = ", ".join(v.name for v in silent)
        notes.append({
            "category": "other", "title": "Vendors that did not respond",
            "text": f"{names} did not answer the clearinghouse's notification within 21 days. "
                    "Their products are listed as under investigation because whether they are "
                    "affected is not known: it has not been confirmed or ruled out."})

    remediations: list[dict[str, Any]] = []
    covered: set[str] = set()
    for rem in vuln.remediations:
        pids = [product_id(k) for k in rem.product_keys]
        details = rem.details
        if rem.fixed_range:
            details += f" Fixed in: {rem.fixed_range}."
        if rem.sha256:
            details += f" SHA-256 of the fix: {rem.sha256}."
        entry: dict[str, Any] = {"category": str(rem.category), "details": details,
                                 "product_ids": pids}
        if rem.url:
            entry["url"] = rem.url
        if rem.date:
            entry["date"] = naming.iso(rem.date)
        remediations.append(entry)
        covered.update(pids)
    uncovered = [pid for pid in status["known_affected"] if pid not in covered]
    if uncovered:
        remediations.append({
            "category": "none_available",
            "details": "The vendor has not published a fix, workaround or mitigation yet.",
            "product_ids": uncovered})
    # CSAF 2.0 recommended test 6.2.2 wants a remediation for products under investigation
    # too. What is true of them: no remediation is known, and why.
    unknown: dict[str, list[str]] = {}
    for st in vuln.statements:
        pid = product_id(st.product.key)
        if pid in covered or st.status not in (Status.NO_RESPONSE, Status.DISPUTED,
                                               Status.UNDER_INVESTIGATION):
            continue
        why = {Status.NO_RESPONSE: f"{st.product.vendor} did not respond to the clearinghouse",
               Status.DISPUTED: f"{st.product.vendor} disputes that the product is affected",
               }.get(st.status, f"{st.product.vendor} is still investigating")
        unknown.setdefault(why, []).append(pid)
    for why, pids in unknown.items():
        remediations.append({"category": "none_available",
                             "details": f"No remediation is known: {why}.",
                             "product_ids": sorted(pids)})

    involvements: list[dict[str, Any]] = []
    used_dates: set[str] = set()
    for vendor in vuln.vendors:
        vendor_statuses = {st.status for st in vuln.statements if st.product.vendor == vendor.name}
        if vendor.no_response:
            inv_status, summary = "contact_attempted", (
                f"{vendor.name} was notified and did not respond within 21 days.")
        elif vendor.name in disputes:
            inv_status = "disputed"
            summary = f"{vendor.name} disputes: " + "; ".join(disputes[vendor.name])
        elif not vendor_statuses or Status.UNDER_INVESTIGATION in vendor_statuses:
            inv_status, summary = "in_progress", f"{vendor.name} is investigating."
        else:
            inv_status, summary = "completed", f"{vendor.name} made its statements."
        involvement: dict[str, Any] = {"party": "vendor", "status": inv_status,
                                       "summary": summary}
        # The date is when the clearinghouse contacted the vendor. Test 6.1.24 refuses two
        # involvements of one party on one date: two vendors contacted in the same second are
        # told apart by a second.
        when = vendor.contacted_at or snapshot.initial_release_date
        while naming.iso(when) in used_dates:
            when += timedelta(seconds=1)
        used_dates.add(naming.iso(when))
        involvement["date"] = naming.iso(when)
        involvements.append(involvement)

    scores = []
    v3 = [s for s in vuln.scores if s.version.startswith("3")]
    scored = status["known_affected"] or status["under_investigation"] or status["fixed"]
    if v3 and scored:
        scores.append({"cvss_v3": _cvss3(v3[0]), "products": sorted(set(scored))})
    for s in vuln.scores:
        if s.version.startswith("4"):
            # CSAF 2.0 has no CVSS v4 field (2.1 adds metrics[].cvss_v4).
            notes.append({"category": "other", "title": "CVSS v4.0",
                          "text": f"{s.vector} (base score {s.score}, {s.severity})"})

    acknowledgments = []
    for credit in vuln.credits:
        ack: dict[str, Any] = {"summary": str(credit.type)}
        if credit.type == "tool":
            ack["names"] = [credit.name]
            ack["summary"] = "tool: the AI model that found the flaw"
            if credit.organisation:
                ack["organization"] = credit.organisation
        else:
            ack["organization"] = credit.organisation or credit.name
            if credit.organisation and credit.name != credit.organisation:
                ack["names"] = [credit.name]
        acknowledgments.append(ack)

    out: dict[str, Any] = {
        "title": vuln.title,
        "ids": [{"system_name": f"{snapshot.publisher.name} case",
                 "text": f"{snapshot.reference}-{vuln.key}"}],
        "notes": notes,
        "product_status": {k: sorted(set(v)) for k, v in status.items() if v},
    }
    if vuln.cve_id:
        out["cve"] = vuln.cve_id
    if vuln.cwe_id:
        out["cwe"] = {"id": vuln.cwe_id, "name": vuln.cwe_name}
    if vuln.discovery_date:
        out["discovery_date"] = naming.iso(vuln.discovery_date)
    for key, value in (("flags", flags), ("threats", threats), ("remediations", remediations),
                       ("scores", scores), ("involvements", involvements),
                       ("acknowledgments", acknowledgments)):
        if value:
            out[key] = value
    refs = [{"category": r.category, "summary": r.summary, "url": r.url}
            for r in vuln.references]
    if refs:
        out["references"] = refs
    return out


def csaf_document(snapshot: CaseSnapshot, *, category: str = ADVISORY) -> dict[str, Any]:
    """A CSAF 2.0 document of `category` (ADVISORY or VEX), status final."""
    tracking_id = snapshot.vex_tracking_id if category == VEX else snapshot.reference
    title = f"{snapshot.title} (VEX)" if category == VEX else snapshot.title
    pub = snapshot.publisher
    publisher: dict[str, Any] = {"category": pub.category, "name": pub.name,
                                 "namespace": pub.namespace}
    if pub.contact_details:
        publisher["contact_details"] = pub.contact_details
    tlp_text = f"TLP:{snapshot.tlp}"
    fixed = _fixed_products(snapshot)
    return {
        "document": {
            "category": category,
            "csaf_version": CSAF_VERSION,
            "lang": snapshot.lang,
            "title": title,
            "publisher": publisher,
            "distribution": {
                "text": tlp_text,
                "tlp": {"label": naming.CSAF_TLP[snapshot.tlp],
                        "url": "https://www.first.org/tlp/"},
            },
            "notes": [{"category": "summary", "title": "Summary", "text": snapshot.summary}],
            "references": [{"category": "self", "summary": "This document",
                            "url": naming.document_url(snapshot, tracking_id)}],
            "tracking": {
                "id": tracking_id,
                "status": "final",
                "version": snapshot.version,
                "initial_release_date": naming.iso(snapshot.initial_release_date),
                "current_release_date": naming.iso(snapshot.current_release_date),
                "revision_history": [
                    {"date": naming.iso(r.date), "number": r.number, "summary": r.summary}
                    for r in snapshot.revisions],
                "generator": {
                    "date": naming.iso(snapshot.current_release_date),
                    "engine": {"name": snapshot.generator,
                               "version": snapshot.generator_version}},
            },
        },
        "product_tree": _product_tree(snapshot),
        "vulnerabilities": [_vulnerability(snapshot, v, fixed)
                            for v in snapshot.vulnerabilities],
    }


def csaf_advisory(snapshot: CaseSnapshot) -> dict[str, Any]:
    return csaf_document(snapshot, category=ADVISORY)


def csaf_vex(snapshot: CaseSnapshot) -> dict[str, Any]:
    return csaf_document(snapshot, category=VEX)
