"""Reads for cases: lists and the case page's parts, filtered for the user through
clearinghouse/access.py, in a fixed number of queries however many vendors a case has."""

from dataclasses import dataclass, field
from itertools import groupby

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts import policy
from clearinghouse import access
from clearinghouse.models import (
    Case,
    Embargo,
    EmbargoAcceptance,
    Participant,
    ProductStatement,
    Remediation,
)
from clearinghouse.workflow import EMBARGO_STATES_IN_FORCE

P = Participant.Role
SS = ProductStatement.Status


def cases_for_list(user) -> QuerySet[Case]:
    return access.cases_visible_to(user).only(
        "id", "reference", "title", "status", "created_at", "vendor_aware_at", "public_at")


def case_get_for_user(*, user, pk) -> Case:
    """The case with its participants (and their organisations) prefetched, or 404."""
    qs = access.cases_visible_to(user).prefetch_related(
        Prefetch("participants", queryset=Participant.objects.select_related("organisation")))
    return get_object_or_404(qs, pk=pk)


def participants_visible_to(user, case: Case) -> list[Participant]:
    """Coordinators see every participant, suggested vendors too. Others see the confirmed
    non-vendor participants and their own organisation's rows: which other vendors are in a
    case says which products are affected (least privilege). Reads the prefetched rows."""
    rows = list(case.participants.all())
    if access.may_coordinate(user, case):
        return rows
    org_id = policy.organisation_id_of(user)
    return [p for p in rows if p.confirmed and (p.role != P.VENDOR or p.organisation_id == org_id)]


def statements_for(user, case: Case) -> QuerySet[ProductStatement]:
    return (access.statements_visible_to(user, case)
            .select_related("vendor", "vulnerability")
            .prefetch_related(Prefetch("remediations",
                                       queryset=Remediation.objects.order_by("created_at", "id")))
            .order_by("vendor__name", "vendor_id", "vulnerability_id", "product_name", "id"))


def statement_get_for_user(*, user, pk) -> ProductStatement:
    """A statement the user may see (its case visible, and the statement among those the user
    sees there), or 404."""
    statement = get_object_or_404(
        ProductStatement.objects.select_related("vulnerability", "vendor"), pk=pk)
    case = case_get_for_user(user=user, pk=statement.vulnerability.case_id)
    if not access.statements_visible_to(user, case).filter(pk=pk).exists():
        raise Http404
    statement.vulnerability.case = case
    return statement


def embargo_of(case: Case) -> Embargo | None:
    return (Embargo.objects.filter(case=case)
            .prefetch_related(Prefetch("acceptances",
                                       queryset=EmbargoAcceptance.objects.select_related(
                                           "organisation")))
            .first())


@dataclass
class VendorGroup:
    vendor: object
    statements: list
    participant: Participant | None = None

    @property
    def no_response(self) -> bool:
        """Marked after 21 days and still nothing stated: shown as "no response"."""
        return bool(self.participant and self.participant.no_response_at) and all(
            s.status == SS.UNDER_INVESTIGATION for s in self.statements)


@dataclass
class CasePage:
    case: Case
    roles: frozenset
    coordinates: bool
    participants: list
    vulnerabilities: list
    vendor_groups: list[VendorGroup] = field(default_factory=list)
    embargo: Embargo | None = None
    my_acceptance: EmbargoAcceptance | None = None
    prompt_exit: bool = False

    @property
    def embargo_in_force(self) -> bool:
        return self.embargo is not None and self.embargo.status in EMBARGO_STATES_IN_FORCE


def case_page(*, user, case: Case) -> CasePage:
    """Everything the case page shows the user: a fixed number of queries (participants come
    prefetched with the case; vulnerabilities, statements with their remediations, and the
    embargo with its acceptances are one or two queries each)."""
    coordinates = access.may_coordinate(user, case)
    participants = participants_visible_to(user, case)
    by_org = {p.organisation_id: p for p in case.participants.all() if p.role == P.VENDOR}
    groups = [VendorGroup(vendor=rows[0].vendor, statements=rows,
                          participant=by_org.get(vendor_id))
              for vendor_id, rows in ((k, list(g)) for k, g in groupby(
                  statements_for(user, case), key=lambda s: s.vendor_id))]
    embargo = embargo_of(case)
    org_id = policy.organisation_id_of(user)
    mine = None
    if embargo is not None:
        mine = next((a for a in embargo.acceptances.all() if a.organisation_id == org_id), None)
    prompt = (coordinates and case.attacks_observed_at is not None and embargo is not None
              and embargo.status in EMBARGO_STATES_IN_FORCE)
    vulnerabilities = list(access.vulnerabilities_visible_to(user, case))
    return CasePage(case=case, roles=access.case_roles_of(user, case), coordinates=coordinates,
                    participants=participants, vulnerabilities=vulnerabilities,
                    vendor_groups=groups, embargo=embargo, my_acceptance=mine,
                    prompt_exit=prompt)


def messages_of(case: Case):
    return case.messages.select_related("author").order_by("created_at", "id")


# --- the calendar feed ----------------------------------------------------------------------

def embargoes_for_calendar(*, user, since, until) -> QuerySet[Embargo]:
    """The embargoes in force, ending within [since, until), of the cases the user may see: what
    the calendar feed (partners/tracking.py) shows next to the access windows."""
    return (Embargo.objects.filter(case__in=access.cases_visible_to(user).values("pk"),
                                   status__in=EMBARGO_STATES_IN_FORCE, ends_at__gte=since,
                                   ends_at__lt=until)
            .select_related("case").only("id", "status", "ends_at", "status_changed_at",
                                         "case__reference")
            .order_by("ends_at", "id"))


# --- a vendor's home --------------------------------------------------------------------------

def statements_to_give(user) -> QuerySet[ProductStatement]:
    """The vendor's own statements still under investigation in the open cases it takes part
    in, oldest case first: what the coordinator and the operators wait for."""
    if not policy.is_vendor(user):
        return ProductStatement.objects.none()
    return (ProductStatement.objects
            .filter(vendor_id=policy.organisation_id_of(user), status=SS.UNDER_INVESTIGATION,
                    vulnerability__case__status=Case.Status.OPEN,
                    vulnerability__case__in=access.cases_visible_to(user))
            .select_related("vulnerability__case")
            .order_by("vulnerability__case__created_at", "vulnerability__case_id", "id"))


def embargoes_to_answer(user) -> QuerySet[EmbargoAcceptance]:
    """The vendor's invitations to an embargo proposal (or revision) that awaits its answer."""
    if not policy.is_vendor(user):
        return EmbargoAcceptance.objects.none()
    return (EmbargoAcceptance.objects
            .filter(organisation_id=policy.organisation_id_of(user),
                    status=EmbargoAcceptance.Status.INVITED,
                    embargo__status__in=(Embargo.Status.PROPOSED, Embargo.Status.REVISE),
                    embargo__case__in=access.cases_visible_to(user))
            .select_related("embargo__case")
            .order_by("embargo__status_changed_at", "id"))


def own_member_profile(user):
    """A vendor's or operator's own organisation's clearinghouse profile (None before it
    applied, or for anyone else)."""
    if not (policy.is_vendor(user) or policy.is_operator(user)):
        return None
    return access.members_visible_to(user).first()
