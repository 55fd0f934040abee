"""Who may see what of the clearinghouse: one access helper per entity, in one module.

Visibility follows the case's participants (the `Participant` rows are the access list) and
the report's organisation; the role checks themselves are accounts.policy's. Rules (issue 11,
point 7):
- coordinators (the program office) see everything;
- a reporter's organisation sees its reports and the summary of the cases they joined;
- a vendor sees only the cases it takes part in (confirmed by the coordinator), and there only
  its own products' statements and remediations, and only reports that may reach vendors;
- proofs of concept go only to coordinators and the affected vendors; every read is audited
  (the views call the audited service, never storage directly);
- operators, partners and anonymous users see nothing here (issue 12 connects operators).
Whatever a user may not see answers 404 (the `*_get_for_user` helpers).
"""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts import policy
from clearinghouse.models import (
    Advisory,
    Case,
    MemberProfile,
    Participant,
    ProductStatement,
    Report,
    ReportArtifact,
    Vulnerability,
)
from clearinghouse.workflow import REPORT_STATES_SHOWN_TO_VENDORS

P = Participant.Role


def report_reaches_vendors(report: Report) -> bool:
    """A report reaches vendors once it is valid (or later) and, when an AI found it, a named
    person validated it. The twin of `reports_reaching_vendors_q`."""
    return report.status in REPORT_STATES_SHOWN_TO_VENDORS and (
        not report.ai_found or report.human_validated_by_id is not None)


def reports_reaching_vendors_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status__in": REPORT_STATES_SHOWN_TO_VENDORS}) & (
        Q(**{f"{prefix}ai_found": False})
        | Q(**{f"{prefix}human_validated_by__isnull": False}))


def _participations(user, *roles) -> QuerySet[Participant]:
    qs = Participant.objects.filter(organisation_id=policy.organisation_id_of(user),
                                    confirmed=True)
    return qs.filter(role__in=roles) if roles else qs


def is_active_member(user) -> bool:
    """Vendors and operators take part only while the program office has them vetted; other
    organisations (AI developers, agencies, the program office) need no clearinghouse vetting.
    One query for vendors and operators, remembered on the user object for the rest of the
    request (as Django remembers permissions in `user._perm_cache`): a page asks it for its
    content, its access checks and its navigation. Code that changes the vetting and asks again
    loads the user anew, as the next request does."""
    if not (policy.is_vendor(user) or policy.is_operator(user)):
        return policy.may_file_report(user)
    org_id = policy.organisation_id_of(user)
    remembered = getattr(user, "_clearinghouse_vetted", None)
    if remembered is not None and remembered[0] == org_id:
        return remembered[1]
    vetted = MemberProfile.objects.filter(organisation_id=org_id,
                                          status=MemberProfile.Status.VETTED).exists()
    user._clearinghouse_vetted = (org_id, vetted)
    return vetted


def members_visible_to(user) -> QuerySet[MemberProfile]:
    """Coordinators see every member; a vendor or operator its own organisation's profile."""
    qs = MemberProfile.objects.select_related("organisation")
    if policy.is_clearinghouse_coordinator(user):
        return qs
    if policy.is_vendor(user) or policy.is_operator(user):
        return qs.filter(organisation_id=policy.organisation_id_of(user))
    return qs.none()


def member_get_for_user(*, user, pk) -> MemberProfile:
    return get_object_or_404(members_visible_to(user), pk=pk)


# --- reports --------------------------------------------------------------------------------

def reports_visible_to(user) -> QuerySet[Report]:
    qs = Report.objects.all()
    # The coordinator triages every report; agency reviewers verify them (a read of the report,
    # not of its proofs of concept: may_download_artifact).
    if policy.is_clearinghouse_coordinator(user) or policy.may_verify_report(user):
        return qs
    org_id = policy.organisation_id_of(user)
    if org_id is None or not is_active_member(user):
        return qs.none()
    own = Q(organisation_id=org_id)
    if policy.is_vendor(user):
        # Only the affected vendor: one taking part in the case that has a statement on the
        # report's vulnerability (other vendors of the case never see it).
        vendor_cases = _participations(user, P.VENDOR).filter(case_id=OuterRef("case_id"))
        affected = ProductStatement.objects.filter(vulnerability_id=OuterRef("vulnerability_id"),
                                                   vendor_id=org_id)
        return qs.filter(own | (Exists(vendor_cases) & Exists(affected)
                                & reports_reaching_vendors_q()))
    return qs.filter(own)


def report_get_for_user(*, user, pk) -> Report:
    return get_object_or_404(reports_visible_to(user), pk=pk)


def is_reporter_of(user, report: Report) -> bool:
    """A member of the organisation that filed `report`."""
    return policy.is_member_of(user, report.organisation_id)


def may_download_artifact(user, artifact: ReportArtifact) -> bool:
    """Coordinators, and the affected vendors of the report's case (a statement on the report's
    vulnerability) once the report may reach vendors."""
    if policy.is_clearinghouse_coordinator(user):
        return True
    report = artifact.report
    if not policy.is_vendor(user) or report.case_id is None or not report_reaches_vendors(report):
        return False
    if report.vulnerability_id is None or not is_active_member(user):
        return False
    org_id = policy.organisation_id_of(user)
    return (_participations(user, P.VENDOR).filter(case_id=report.case_id).exists()
            and ProductStatement.objects.filter(vulnerability_id=report.vulnerability_id,
                                                vendor_id=org_id).exists())


def artifact_get_for_user(*, user, pk) -> ReportArtifact:
    """A proof of concept the user may download, or 404 (its existence stays hidden)."""
    artifact = get_object_or_404(ReportArtifact.objects.select_related("report"), pk=pk)
    if not may_download_artifact(user, artifact):
        from django.http import Http404

        raise Http404
    return artifact


# --- cases ----------------------------------------------------------------------------------

def cases_visible_to(user) -> QuerySet[Case]:
    qs = Case.objects.all()
    if policy.is_clearinghouse_coordinator(user):
        return qs
    if policy.organisation_id_of(user) is None or not is_active_member(user):
        return qs.none()
    return qs.filter(Exists(_participations(user).filter(case_id=OuterRef("pk"))))


def case_get_for_user(*, user, pk) -> Case:
    return get_object_or_404(cases_visible_to(user), pk=pk)


def case_roles_of(user, case: Case) -> frozenset[str]:
    """The user's organisation's confirmed roles in `case` (reads case.participants: prefetch
    it on lists)."""
    org_id = policy.organisation_id_of(user)
    if org_id is None:
        return frozenset()
    return frozenset(p.role for p in case.participants.all()
                     if p.organisation_id == org_id and p.confirmed)


def is_case_vendor(user, case: Case) -> bool:
    return policy.is_vendor(user) and P.VENDOR in case_roles_of(user, case)


def statements_visible_to(user, case: Case) -> QuerySet[ProductStatement]:
    """Coordinators see every statement; a vendor its own; reporters none before publication
    (they see the case summary)."""
    qs = ProductStatement.objects.filter(vulnerability__case=case)
    if policy.is_clearinghouse_coordinator(user):
        return qs
    if is_case_vendor(user, case):
        return qs.filter(vendor_id=policy.organisation_id_of(user))
    if case.status == Case.Status.PUBLISHED and case_roles_of(user, case):
        return qs
    return qs.none()


def product_claims_visible_to(user, report: Report):
    """The products of `report` the user may see. A vendor (that is not the reporter) sees only
    its own: claims matching its catalogue's package URL or CPE keys, or named by one of its
    statements on the report's vulnerability; the other claims would say which other vendors
    are involved. Everyone else who may see the report sees every claim."""
    from clearinghouse.models import ProductClaim, VendorProduct

    qs = ProductClaim.objects.filter(report=report).order_by("id")
    if not policy.is_vendor(user) or is_reporter_of(user, report):
        return qs
    org_id = policy.organisation_id_of(user)
    catalogue = VendorProduct.objects.filter(vendor_id=org_id)
    mine = (Q(purl_key__in=catalogue.exclude(purl_key="").values("purl_key"))
            | Q(cpe_key__in=catalogue.exclude(cpe_key="").values("cpe_key")))
    if report.vulnerability_id is not None:
        mine |= Q(product_name__in=ProductStatement.objects.filter(
            vulnerability_id=report.vulnerability_id, vendor_id=org_id).values("product_name"))
    return qs.filter(mine)


def vulnerabilities_visible_to(user, case: Case) -> QuerySet[Vulnerability]:
    """Coordinators see every vulnerability of the case; a confirmed vendor those it is affected
    by (a statement of its own) that have a report reaching vendors (never an AI finding no
    person validated); a finder or reporter organisation those of its own reports."""
    qs = Vulnerability.objects.filter(case=case).order_by("id")
    if policy.is_clearinghouse_coordinator(user):
        return qs
    org_id = policy.organisation_id_of(user)
    roles = case_roles_of(user, case)
    if org_id is None or not roles:
        return qs.none()
    visible = Q(pk__in=[])
    if is_case_vendor(user, case):
        reaching = Report.objects.filter(reports_reaching_vendors_q(),
                                         vulnerability_id=OuterRef("pk"))
        affected = ProductStatement.objects.filter(vulnerability_id=OuterRef("pk"),
                                                   vendor_id=org_id)
        visible |= Exists(reaching) & Exists(affected)
    if roles & {P.FINDER, P.REPORTER}:
        visible |= Exists(Report.objects.filter(vulnerability_id=OuterRef("pk"),
                                                organisation_id=org_id))
    return qs.filter(visible)


def may_coordinate(user, case: Case | None = None) -> bool:
    """Triage, cases, vendors, embargoes and publication: the coordinator only."""
    return policy.is_clearinghouse_coordinator(user)


# --- advisories -----------------------------------------------------------------------------

def advisories_visible_to(user) -> QuerySet[Advisory]:
    """Coordinators see every advisory, drafts too; a participant sees the published and
    withdrawn revisions of its cases (published ones are public anyway, at /.well-known/csaf/);
    a draft is the coordinator's until it passes the publication gate."""
    qs = Advisory.objects.all()
    if policy.is_clearinghouse_coordinator(user):
        return qs
    return qs.filter(case__in=cases_visible_to(user),
                     status__in=(Advisory.Status.PUBLISHED, Advisory.Status.WITHDRAWN))


def advisory_get_for_user(*, user, pk) -> Advisory:
    return get_object_or_404(advisories_visible_to(user).select_related("case"), pk=pk)
