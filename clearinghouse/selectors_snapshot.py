"""The case as the exports see it: `case_snapshot` reads a case once (a fixed number of queries,
however many vulnerabilities, vendors and statements it has) into the frozen snapshot that
clearinghouse/exports/ turns into CSAF, OSV and CVE documents.

Two decisions live here:
- a vendor the case marks "no response" (Participant.no_response_at, after 21 days of silence)
  exports its statements that are still under investigation as no_response: the generators
  then never show them as not affected;
- credits come from the case's reports: the reporting organisation as finder and, when an AI
  model found the flaw, the model as a `tool` credit (CVE/OSV), never as the finder.
"""

from __future__ import annotations

from datetime import datetime

import csaf
from django.conf import settings
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from clearinghouse.exports import snapshot as s
from clearinghouse.models import (
    Advisory,
    Case,
    Participant,
    ProductStatement,
    Remediation,
    Report,
    Vulnerability,
)

# Reports whose finders are credited: valid work, including the later reporters of a duplicate
# (docs/clearinghouse.md 4.4 rule 3); never a fabricated, withdrawn or out-of-scope one.
CREDITED_CLOSE_REASONS = ("", Report.CloseReason.COORDINATED, Report.CloseReason.DUPLICATE)
CREDITED_STATES = (Report.Status.VALID, Report.Status.ACCEPTED, Report.Status.CLOSED)


# A report closed for one of these reasons never puts its vulnerability in an advisory: a
# vulnerability whose every report was closed so is left out of the snapshot.
DROPPED_CLOSE_REASONS = (Report.CloseReason.FABRICATED, Report.CloseReason.NOT_A_VULNERABILITY,
                         Report.CloseReason.WITHDRAWN, Report.CloseReason.OUT_OF_SCOPE)


def vulnerabilities_exported(case: Case) -> QuerySet[Vulnerability]:
    """The case's vulnerabilities an advisory may show: all but those whose every report was
    closed as fabricated, not a vulnerability, withdrawn or out of scope."""
    reports = Report.objects.filter(vulnerability_id=OuterRef("pk"))
    dropped = Q(status=Report.Status.CLOSED, close_reason__in=DROPPED_CLOSE_REASONS)
    return Vulnerability.objects.filter(~Exists(reports) | Exists(reports.exclude(dropped)),
                                        case=case)


def publisher() -> s.Publisher:
    base = settings.PORTAL_BASE_URL.rstrip("/")
    return s.Publisher(
        name=settings.CLEARINGHOUSE_PUBLISHER_NAME,
        namespace=settings.CLEARINGHOUSE_PUBLISHER_NAMESPACE or base,
        base_url=base,
        contact_details=settings.CLEARINGHOUSE_PUBLISHER_CONTACT,
        cve_org_id=settings.CLEARINGHOUSE_CVE_ORG_ID,
        cve_short_name=settings.CLEARINGHOUSE_CVE_SHORT_NAME,
    )


def cwe_name(cwe_id: str) -> str:
    """The CWE's name in the csaf package's bundled catalogue. An id it does not know keeps
    itself as its name, so CSAF test 6.1.11 names the unknown id (an empty name would only
    fail the schema's minLength)."""
    try:
        return csaf.cwe_entry(cwe_id).name
    except ValueError:
        return cwe_id


def _severity(text: str) -> str:
    return (text or "").strip().capitalize()


def _product_key(st: ProductStatement) -> tuple:
    return (st.vendor_id, st.product_name, st.version_range, st.purl, st.cpe)


def _dt(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def published_revisions(case: Case) -> list[s.Revision]:
    """The CSAF revisions already released: every advisory ever published (withdrawn ones too,
    they were out), numbered 1, 2, … in the order they were generated."""
    rows = (Advisory.objects.filter(case=case, status__in=(Advisory.Status.PUBLISHED,
                                                           Advisory.Status.WITHDRAWN))
            .order_by("revision").values_list("csaf", flat=True))
    out = []
    for doc in rows:
        tracking = doc["document"]["tracking"]
        out.append(s.Revision(number=str(len(out) + 1),
                              date=_dt(tracking["current_release_date"]),
                              summary=tracking["revision_history"][-1]["summary"]))
    return out


def case_snapshot(case: Case, *, release_date: datetime,
                  previous: list[s.Revision] | None = None) -> s.CaseSnapshot:
    """The case at `release_date` (which becomes the new revision's date). `previous` are the
    revisions already published (published_revisions(case) when not given)."""
    if previous is None:
        previous = published_revisions(case)
    vulns = list(
        vulnerabilities_exported(case).order_by("id").prefetch_related(
            Prefetch("statements",
                     queryset=ProductStatement.objects.select_related("vendor").order_by(
                         "vendor__name", "product_name", "id")),
            Prefetch("statements__remediations",
                     queryset=Remediation.objects.order_by("created_at", "id")),
        ))
    vendors = list(Participant.objects.filter(case=case, role=Participant.Role.VENDOR,
                                              confirmed=True)
                   .select_related("organisation").order_by("organisation__name"))
    reports = list(Report.objects.filter(case=case, status__in=CREDITED_STATES,
                                         close_reason__in=CREDITED_CLOSE_REASONS)
                   .select_related("organisation", "finder_model").order_by("created_at", "id"))
    silent = {p.organisation_id for p in vendors if p.no_response_at is not None}

    keys: dict[tuple, str] = {}
    out_vulns = []
    for index, vuln in enumerate(vulns, start=1):
        statements, remediations = [], []
        vendor_ids = set()
        for st in vuln.statements.all():
            key = keys.setdefault(_product_key(st), f"P{len(keys) + 1}")
            product = s.Product(key=key, vendor=st.vendor.name, name=st.product_name,
                                version_range=st.version_range, purl=st.purl, cpe=st.cpe)
            status = s.Status(st.status)
            if status == s.Status.UNDER_INVESTIGATION and st.vendor_id in silent:
                status = s.Status.NO_RESPONSE
            statements.append(s.Statement(
                product=product, status=status,
                justification=s.Justification(st.justification) if st.justification else None,
                reason=st.reason, text=st.statement, date=st.updated_at))
            vendor_ids.add(st.vendor_id)
            for rem in st.remediations.all():
                remediations.append(s.Remediation(
                    category=s.RemediationCategory(rem.category), details=rem.details,
                    product_keys=(key,), fixed_range=rem.fixed_range, url=rem.url,
                    sha256=rem.artifact_sha256, date=rem.created_at))
        parties = tuple(
            s.VendorParty(name=p.organisation.name, contacted_at=p.notified_at,
                          no_response=p.organisation_id in silent)
            for p in vendors if p.organisation_id in vendor_ids or p.organisation_id in silent)
        own_reports = [r for r in reports if r.vulnerability_id in (None, vuln.id)]
        out_vulns.append(s.Vulnerability(
            key=str(index), title=vuln.title, description=vuln.description,
            cwe_id=vuln.cwe, cwe_name=cwe_name(vuln.cwe), cve_id=vuln.cve_id,
            scores=(s.Cvss(version=vuln.cvss_version, vector=vuln.cvss_vector,
                           score=float(vuln.cvss_score),
                           severity=_severity(vuln.cvss_severity)),) if vuln.cvss_vector else (),
            statements=tuple(statements), remediations=tuple(remediations),
            credits=_credits(own_reports), vendors=parties,
            discovery_date=min((r.created_at for r in own_reports), default=None),
            exploitation=vuln.exploitation))

    release = release_date.replace(microsecond=0)
    number = str(len(previous) + 1)
    summary = "Initial public release" if not previous else \
        "Updated vendor statements, remediations or scores"
    revisions = (*previous, s.Revision(number=number, date=release, summary=summary))
    return s.CaseSnapshot(
        reference=case.reference, title=case.title, summary=case.summary,
        tlp=s.Tlp(settings.CLEARINGHOUSE_ADVISORY_TLP), publisher=publisher(),
        initial_release_date=revisions[0].date, current_release_date=release,
        revisions=revisions, vulnerabilities=tuple(out_vulns))


def _credits(reports: list[Report]) -> tuple[s.Credit, ...]:
    credits: list[s.Credit] = []
    for report in reports:
        if report.ai_found:
            model = report.finder_model
            name = f"{model.name} {model.version}" if model else " ".join(
                p for p in (report.finder_model_name, report.finder_model_version) if p)
            if name:
                credits.append(s.Credit(name=name, type=s.CreditType.TOOL,
                                        organisation=report.organisation.name))
        credits.append(s.Credit(name=report.organisation.name, type=s.CreditType.FINDER))
    seen, unique = set(), []
    for credit in credits:
        if (credit.name, credit.type) not in seen:
            seen.add((credit.name, credit.type))
            unique.append(credit)
    return tuple(unique)
