"""Writes for cases: opening a case from reports, its participants and vendors, the vendors'
product statements and remediations, the case's thread and its Vultron case-state timestamps.

Every change is audited and notifies (notifications/clearinghouse_events.py). The same rules
hold for the pages, the API and the admin: they call these functions and nothing else.

Reports that may not reach vendors (access.report_reaches_vendors: not valid/accepted, or found
by an AI without a named human validator) never put anything in front of a vendor: a case may
hold them (the coordinator works on them), but vendors are suggested only from the products of
reports that reach vendors, statements are created only for those products, and no vendor can
be confirmed on a case none of whose reports reaches vendors.
"""

from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import DateTimeField, Exists, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts import policy
from accounts.models import Organisation, User
from audit.services import audit_record
from clearinghouse import access
from clearinghouse.models import (
    Case,
    CaseMessage,
    EmbargoAcceptance,
    MemberProfile,
    Participant,
    ProductClaim,
    ProductStatement,
    Remediation,
    Report,
    VendorProduct,
    Vulnerability,
)
from clearinghouse.workflow import EMBARGO_STATES_IN_FORCE, STATEMENT_TRANSITIONS
from exposures import assessment, matching
from notifications import clearinghouse_events as events
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse

P = Participant.Role
SS = ProductStatement.Status
RS = Report.Status

# Reports a case may be opened from (Vultron: a report is coordinated once valid/accepted).
CASE_REPORT_STATES = frozenset({RS.VALID, RS.ACCEPTED})

# The case-state timestamps a coordinator sets (Vultron CS); each is set once, never cleared.
# vendor_aware_at is also set when the first vendor is confirmed, fix_ready_at when the first
# vendor fix is recorded.
CASE_STATE_FIELDS = ("vendor_aware_at", "fix_ready_at", "fix_deployed_at", "public_at",
                     "exploit_public_at", "attacks_observed_at")

DATETIME = DateTimeField()
REMINDER_DAYS = (7, 14)
NO_RESPONSE_DAYS = 21


def _require_coordinator(actor, case=None) -> None:
    if not access.may_coordinate(actor, case):
        raise PermissionDenied("Only the clearinghouse's coordinator does this.")


def _clean(text: str) -> str:
    return (text or "").strip()


# --- opening a case -------------------------------------------------------------------------

def _next_number(year: int) -> int:
    """The next case number of `year`. Called under a transaction-scoped advisory lock on the
    year, so two coordinators opening cases at once get consecutive numbers, never the same
    one (the unique (year, number) constraint is the second net). SQLite (the embedded
    default) has no advisory locks and one writer at a time; there the constraint is the net."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x43480000, year])
    last = Case.objects.filter(year=year).order_by("-number").values_list(
        "number", flat=True).first()
    return (last or 0) + 1


NEUTRAL_SUMMARY = "Details follow once a report is validated."


def _vulnerability_from(report: Report, case: Case) -> Vulnerability:
    vulnerability = Vulnerability(
        case=case, title=report.title, description=report.description, cwe=report.cwe,
        cvss_vector=report.cvss_vector, cvss_version=report.cvss_version,
        cvss_score=report.cvss_score, cvss_severity=report.cvss_severity,
        exploitation=report.exploitation)
    save_or_refuse(vulnerability)
    return vulnerability


def _participant_ensure(*, case: Case, organisation_id: int, role: str,
                        confirmed: bool = True) -> tuple[Participant, bool]:
    return Participant.objects.get_or_create(case=case, organisation_id=organisation_id,
                                             role=role, defaults={"confirmed": confirmed})


@transaction.atomic
def case_open(*, actor: User, reports: list[Report], title: str = "",
              summary: str = "") -> Case:
    """The coordinator opens a case from one or more valid or accepted reports not yet in a
    case: one vulnerability per report (its CWE, CVSS and description), the reports' organisations
    as finder and reporter, the coordinator's organisation as coordinator, and the vendors
    suggested from the products claimed (unconfirmed: they see nothing until confirmed)."""
    _require_coordinator(actor)
    if not reports:
        raise ApplicationError("Choose at least one report.", field="reports")
    locked = list(Report.objects.select_for_update().filter(
        pk__in=[r.pk for r in reports]).order_by("pk"))
    for report in locked:
        if report.status not in CASE_REPORT_STATES:
            raise ApplicationError(
                f"Report #{report.pk} is {report.get_status_display().lower()}: a case is "
                "opened from valid or accepted reports only.", field="reports", status=409)
        if report.case_id is not None:
            raise ApplicationError(f"Report #{report.pk} is in a case already.",
                                   field="reports", status=409)
    # Every participant reads the case's title and summary: they default only from a report
    # that may reach vendors (never an AI finding no person validated), else a neutral text.
    shown = next((r for r in locked if access.report_reaches_vendors(r)), None)
    now = timezone.now()
    year = now.year
    number = _next_number(year)
    title = _clean(title) or (shown.title if shown else f"Case CH-{year}-{number:04d}")
    summary = _clean(summary) or (shown.description if shown else NEUTRAL_SUMMARY)
    case = Case(reference=f"CH-{year}-{number:04d}", year=year, number=number, title=title,
                summary=summary, created_by=actor)
    save_or_refuse(case)
    for report in locked:
        vulnerability = _vulnerability_from(report, case)
        Report.objects.filter(pk=report.pk).update(case=case, vulnerability=vulnerability)
        report.case, report.vulnerability = case, vulnerability
        _participant_ensure(case=case, organisation_id=report.organisation_id, role=P.FINDER)
        _participant_ensure(case=case, organisation_id=report.organisation_id, role=P.REPORTER)
    _participant_ensure(case=case, organisation_id=policy.organisation_id_of(actor),
                        role=P.COORDINATOR)
    suggested = _vendors_suggest(case=case)
    audit_record(actor=actor, action="case.opened", obj=case,
                 data={"reference": case.reference, "reports": [r.pk for r in locked],
                       "suggested_vendors": suggested})
    return case


def case_open_from_ids(*, actor: User, report_ids: list[int], title: str = "",
                       summary: str = "") -> Case:
    """`case_open` from report numbers, as the API and the form send them: a number the actor
    may not see is refused like one that does not exist."""
    _require_coordinator(actor)
    visible = list(access.reports_visible_to(actor).filter(pk__in=report_ids))
    missing = set(report_ids) - {r.pk for r in visible}
    if missing:
        raise ApplicationError(f"No such report: #{min(missing)}.", field="reports")
    return case_open(actor=actor, reports=visible, title=title, summary=summary)


def _reaching_claims(case: Case):
    """The product claims of the case's reports that may reach vendors."""
    return ProductClaim.objects.filter(
        access.reports_reaching_vendors_q("report__"), report__case=case,
    ).select_related("report")


def _claims_of_vendor(claims, catalogue: list[VendorProduct]) -> list[ProductClaim]:
    purls = {p.purl_key for p in catalogue if p.purl_key}
    cpes = {p.cpe_key for p in catalogue if p.cpe_key}
    return [c for c in claims if (c.purl_key and c.purl_key in purls)
            or (c.cpe_key and c.cpe_key in cpes)]


def _vendors_suggest(*, case: Case) -> list[int]:
    """Suggest (unconfirmed) every vendor whose catalogue holds a product claimed by a report
    of the case that may reach vendors. Returns the organisations suggested now."""
    claims = list(_reaching_claims(case))
    purls = {c.purl_key for c in claims if c.purl_key}
    cpes = {c.cpe_key for c in claims if c.cpe_key}
    if not purls and not cpes:
        return []
    vendor_ids = set(VendorProduct.objects.filter(
        Q(purl_key__in=purls) | Q(cpe_key__in=cpes),
        vendor__kind=Organisation.Kind.VENDOR).values_list("vendor_id", flat=True))
    added = []
    for vendor_id in sorted(vendor_ids):
        _, created = _participant_ensure(case=case, organisation_id=vendor_id, role=P.VENDOR,
                                         confirmed=False)
        if created:
            added.append(vendor_id)
    return added


@transaction.atomic
def vendors_suggest(*, case: Case, actor: User) -> list[int]:
    """Suggest vendors again (a report joined, a vendor's catalogue grew)."""
    _require_coordinator(actor, case)
    added = _vendors_suggest(case=case)
    if added:
        audit_record(actor=actor, action="case.vendors_suggested", obj=case,
                     data={"vendors": added})
    return added


def _statements_create(*, case: Case, vendor_id: int) -> int:
    """One statement per vulnerability and product of the vendor claimed by a report that may
    reach vendors, under investigation. A vendor added by hand, whose catalogue matches no claim,
    gets no statement about other vendors' claimed products (that would tell it which products,
    hence which vendors, are involved): it gets ONE statement per vulnerability, named
    "<vendor name> products (to be specified)", under investigation. The publication gate thus
    still waits for its answer (it states the placeholder, e.g. "not affected" with a
    justification, or the coordinator withdraws it from the case). Existing statements are
    kept."""
    claims = list(_reaching_claims(case))
    catalogue = list(VendorProduct.objects.filter(vendor_id=vendor_id))
    mine = _claims_of_vendor(claims, catalogue)
    if mine:
        rows = [ProductStatement(vulnerability_id=c.report.vulnerability_id, vendor_id=vendor_id,
                                 product_name=c.product_name, purl=c.purl, cpe=c.cpe,
                                 version_range=c.version_range)
                for c in mine if c.report.vulnerability_id]
    else:
        name = Organisation.objects.values_list("name", flat=True).get(pk=vendor_id)
        placeholder = f"{name} products (to be specified)"[:200]
        vulnerability_ids = sorted({c.report.vulnerability_id for c in claims
                                    if c.report.vulnerability_id})
        rows = [ProductStatement(vulnerability_id=v, vendor_id=vendor_id,
                                 product_name=placeholder) for v in vulnerability_ids]
    created = ProductStatement.objects.bulk_create(rows, ignore_conflicts=True)
    for vulnerability_id in sorted({row.vulnerability_id for row in rows}):
        matching.vulnerability_changed(vulnerability_id=vulnerability_id,
                                       cause="statement_created")
    return len(created)


@transaction.atomic
def participant_confirm(*, participant: Participant, actor: User) -> Participant:
    """The coordinator confirms a suggested vendor: it becomes a participant, is notified now
    (notified_at; the case's vendor_aware_at the first time), gets a statement under
    investigation for each of its claimed products and, if an embargo is in force, an
    invitation to accept it."""
    case = Case.objects.select_for_update().get(pk=participant.case_id)
    _require_coordinator(actor, case)
    participant = Participant.objects.select_for_update().select_related("organisation").get(
        pk=participant.pk)
    if participant.role != P.VENDOR:
        raise ApplicationError("Only vendors are confirmed.", status=409)
    if participant.confirmed and participant.notified_at is not None:
        raise ApplicationError("This vendor is confirmed already.", status=409)
    if not MemberProfile.objects.filter(organisation_id=participant.organisation_id,
                                        status=MemberProfile.Status.VETTED).exists():
        raise ApplicationError(
            f"{participant.organisation.name} is not a vetted clearinghouse member: it could "
            "not see the case.", status=409)
    if not case.reports.filter(access.reports_reaching_vendors_q()).exists():
        raise ApplicationError(
            "No report of this case may reach vendors yet (it must be valid or accepted and, "
            "when an AI found it, validated by a named person).", status=409)
    now = timezone.now()
    participant.confirmed, participant.notified_at = True, now
    participant.save(update_fields=["confirmed", "notified_at"])
    if case.vendor_aware_at is None:
        case.vendor_aware_at = now
        case.save(update_fields=["vendor_aware_at"])
    statements = _statements_create(case=case, vendor_id=participant.organisation_id)
    embargo = getattr(case, "embargo", None)
    if embargo is not None and embargo.status in EMBARGO_STATES_IN_FORCE:
        EmbargoAcceptance.objects.get_or_create(embargo=embargo,
                                                organisation_id=participant.organisation_id)
    audit_record(actor=actor, action="case_vendor.confirmed", obj=participant,
                 organisation=participant.organisation,
                 data={"case": case.reference, "vendor": participant.organisation.name,
                       "statements": statements})
    participant.case = case
    events.vendor_notified(participant)
    return participant


@transaction.atomic
def vendor_add(*, case: Case, organisation: Organisation, actor: User) -> Participant:
    """The coordinator adds a vendor no catalogue suggested, and confirms it at once."""
    _require_coordinator(actor, case)
    if organisation.kind != Organisation.Kind.VENDOR:
        raise ApplicationError("Only a vendor organisation can be added as a vendor.",
                               field="organisation")
    participant, _ = _participant_ensure(case=case, organisation_id=organisation.pk,
                                         role=P.VENDOR, confirmed=False)
    return participant_confirm(participant=participant, actor=actor)


# --- statements and remediations ------------------------------------------------------------

def _require_statement_vendor(actor, statement: ProductStatement) -> None:
    """A vendor changes only its own statements, on a case it takes part in."""
    if not (policy.is_vendor(actor) and policy.is_member_of(actor, statement.vendor_id)
            and access.is_active_member(actor)
            and Participant.objects.filter(case_id=statement.vulnerability.case_id,
                                           organisation_id=statement.vendor_id, role=P.VENDOR,
                                           confirmed=True).exists()):
        raise PermissionDenied("Only the vendor changes its own statements.")


@transaction.atomic
def statement_update(*, statement: ProductStatement, actor: User, status: str,
                     justification: str = "", reason: str = "",
                     statement_text: str = "") -> ProductStatement:
    """A vendor states a product's status (CSAF's, plus disputed). Not affected needs a VEX
    justification, disputed a reason, and leaving a settled status (fixed, not affected,
    disputed) a reason too (workflow.STATEMENT_TRANSITIONS). Each change bumps the version, is
    audited and tells the coordinator."""
    statement = ProductStatement.objects.select_for_update().select_related(
        "vulnerability__case", "vendor").get(pk=statement.pk)
    _require_statement_vendor(actor, statement)
    if status not in SS.values:
        raise ApplicationError("Unknown status.", field="status")
    before = statement.status
    if status not in STATEMENT_TRANSITIONS[before]:
        raise TransitionNotAllowed(
            f"A statement that is {SS(before).label.lower()} cannot become "
            f"{SS(status).label.lower()}.")
    reason, justification = _clean(reason), _clean(justification)
    if status == SS.KNOWN_NOT_AFFECTED:
        if justification not in ProductStatement.Justification.values:
            raise ApplicationError("Known not affected needs a VEX justification.",
                                   field="justification")
    else:
        justification = ""
    if status == SS.DISPUTED and not reason:
        raise ApplicationError("Say why you dispute the vulnerability.", field="reason")
    settled = (SS.FIXED, SS.KNOWN_NOT_AFFECTED, SS.DISPUTED)
    if before in settled and not reason and status != SS.KNOWN_NOT_AFFECTED:
        raise ApplicationError("Changing a settled status needs a reason.", field="reason")
    if before in settled and status == before == SS.KNOWN_NOT_AFFECTED and \
            justification == statement.justification and not reason:
        raise ApplicationError("Give a new justification or a reason.", field="reason")
    statement.status, statement.justification, statement.reason = status, justification, reason
    statement.statement = _clean(statement_text) or statement.statement
    statement.version += 1
    statement.updated_by = actor
    save_or_refuse(statement)
    case = statement.vulnerability.case
    Participant.objects.filter(case=case, organisation_id=statement.vendor_id, role=P.VENDOR,
                               acknowledged_at__isnull=True).update(acknowledged_at=timezone.now())
    audit_record(actor=actor, action="statement.updated", obj=statement,
                 organisation=statement.vendor,
                 data={"case": case.reference, "product": statement.product_name,
                       "from": before, "to": status, "version": statement.version,
                       "justification": justification, "reason": reason})
    events.statement_changed(statement, case)
    matching.vulnerability_changed(vulnerability_id=statement.vulnerability_id,
                                   cause="statement_updated")
    return statement


SHA256_HEX = frozenset("0123456789abcdef")


@transaction.atomic
def remediation_add(*, statement: ProductStatement, actor: User, category: str, details: str,
                    fixed_range: str = "", url: str = "",
                    artifact_sha256: str = "", signature: str = "") -> Remediation:
    """A vendor records a fix, workaround or mitigation (or that none is available or planned)
    on one of its own statements. The first vendor fix of a case sets its fix_ready_at."""
    statement = ProductStatement.objects.select_related("vulnerability__case", "vendor").get(
        pk=statement.pk)
    _require_statement_vendor(actor, statement)
    if category not in Remediation.Category.values:
        raise ApplicationError("Unknown category.", field="category")
    details = _clean(details)
    if not details:
        raise ApplicationError("Describe the remediation.", field="details")
    digest = _clean(artifact_sha256).lower()
    if digest and (len(digest) != 64 or not set(digest) <= SHA256_HEX):
        raise ApplicationError("A SHA-256 is 64 hexadecimal characters.",
                               field="artifact_sha256")
    remediation = Remediation(statement=statement, category=category, details=details,
                              fixed_range=_clean(fixed_range), url=_clean(url),
                              artifact_sha256=digest, signature=(signature or "").strip(),
                              created_by=actor)
    save_or_refuse(remediation)
    case = statement.vulnerability.case
    audit_record(actor=actor, action="remediation.added", obj=remediation,
                 organisation=statement.vendor,
                 data={"case": case.reference, "product": statement.product_name,
                       "category": category, "sha256": digest})
    if category == Remediation.Category.VENDOR_FIX:
        # Set once: a conditional update, so a second fix (or a race) changes nothing.
        if Case.objects.filter(pk=case.pk, fix_ready_at__isnull=True).update(
                fix_ready_at=remediation.created_at):
            audit_record(actor=actor, action="case.state_set", obj=case,
                         data={"field": "fix_ready_at", "at": remediation.created_at.isoformat(),
                               "automatic": True})
    events.remediation_added(remediation, case)
    matching.vulnerability_changed(vulnerability_id=statement.vulnerability_id,
                                   cause="remediation_added")
    return remediation


# --- the thread -----------------------------------------------------------------------------

def thread_author_label(viewer, author, *, case: Case, reporter_org_ids=None) -> str:
    """Who wrote a thread message, as the viewer may learn it: the coordinator sees names, and
    so does a member of the author's own organisation; anyone else sees only the author's part
    in the case ("The coordinator", "The reporter", "A vendor", ...), so vendors do not learn
    which other vendors take part, nor anyone the coordinator's or the agency's staff."""
    org_id = policy.organisation_id_of(author)
    if access.may_coordinate(viewer, case) or (
            org_id is not None and org_id == policy.organisation_id_of(viewer)):
        return author.get_username()
    if policy.is_clearinghouse_coordinator(author):
        return "The coordinator"
    if reporter_org_ids is None:
        reporter_org_ids = set(case.reports.values_list("organisation_id", flat=True))
    if org_id in reporter_org_ids:
        return "The reporter"
    if policy.is_vendor(author):
        return "A vendor"
    if policy.is_operator(author):
        return "An operator"
    if policy.is_government_member(author):
        return "The agency"
    return "A participant"


def thread_label(viewer, case: Case, messages) -> None:
    """Set `author_label` on each message of a page of the thread (one query for the case's
    reporters)."""
    reporter_org_ids = set(case.reports.values_list("organisation_id", flat=True))
    for message in messages:
        message.author_label = thread_author_label(viewer, message.author, case=case,
                                                   reporter_org_ids=reporter_org_ids)

def may_post(user, case: Case) -> bool:
    """The coordinator and every confirmed participant (case.participants is read) whose
    organisation is still vetted, where it needs vetting."""
    if access.may_coordinate(user, case):
        return True
    return bool(access.case_roles_of(user, case)) and access.is_active_member(user)


@transaction.atomic
def message_post(*, case: Case, actor: User, body: str) -> CaseMessage:
    if not may_post(actor, case):
        raise PermissionDenied("Only the case's participants write in its thread.")
    body = _clean(body)
    if not body:
        raise ApplicationError("Write a message.", field="body")
    message = CaseMessage(case=case, author=actor, body=body)
    save_or_refuse(message)
    audit_record(actor=actor, action="case.message_posted", obj=message,
                 data={"case": case.reference})
    events.message_posted(message)
    return message


# --- case-state timestamps ------------------------------------------------------------------

@transaction.atomic
def case_state_set(*, case: Case, actor: User, field: str, at: datetime | None = None,
                   reason: str = "") -> Case:
    """The coordinator records a case state (Vultron CS): set once, never cleared. A public
    vulnerability or a public exploit ends the embargo in this same transaction (Vultron: it
    SHALL end immediately); a public exploit also makes the vulnerability public. Attacks
    observed prompt the coordinator (the case page) to end the embargo early."""
    from clearinghouse import embargo as embargo_services

    _require_coordinator(actor, case)
    if field not in CASE_STATE_FIELDS:
        raise ApplicationError("Unknown case state.", field="field")
    now = timezone.now()
    at = now if at is None else at
    if timezone.is_naive(at):
        raise ApplicationError("Give the time with its time zone (an offset).", field="at")
    if at > now + timedelta(minutes=5):
        raise ApplicationError("A case state is recorded when it happened, not ahead.",
                               field="at")
    case = Case.objects.select_for_update().get(pk=case.pk)
    if getattr(case, field) is not None:
        raise ApplicationError("This case state is set already; it is never changed.",
                               field="field", status=409)
    fields = [field]
    setattr(case, field, at)
    if field == "exploit_public_at" and case.public_at is None:
        case.public_at = at
        fields.append("public_at")
    case.save(update_fields=fields)
    for name in fields:
        audit_record(actor=actor, action="case.state_set", obj=case,
                     data={"field": name, "at": at.isoformat(), "reason": _clean(reason)})
    # A public exploit raises the SSVC exploitation to public PoC, attacks observed to active.
    assessment.exploitation_raise(case=case, field=field, actor=actor)
    if field in ("public_at", "exploit_public_at"):
        what = "an exploit" if field == "exploit_public_at" else "the vulnerability"
        embargo_services.embargo_exit_if_in_force(
            case=case, actor=actor, reason=f"Automatic: {what} became public.")
    events.case_state_set(case, field=field)
    return case


# --- silent vendors (beat) ------------------------------------------------------------------

def vendors_sweep_silent(*, now: datetime | None = None) -> dict[str, list[int]]:
    """The beat job: vendors with a statement still under investigation are reminded 7 and 14
    days after they were notified, and marked "no response" after 21. Their statements stay
    under investigation: silence is never "not affected". Each step is claimed with a
    conditional update, so re-runs (or two workers) send each reminder once."""
    now = now or timezone.now()
    done: dict[str, list[int]] = {"day_7": [], "day_14": [], "no_response": []}
    pending = ProductStatement.objects.filter(
        vendor_id=OuterRef("organisation_id"),
        vulnerability__case_id=OuterRef("case_id"), status=SS.UNDER_INVESTIGATION)
    silent = (Participant.objects.filter(role=P.VENDOR, confirmed=True,
                                         notified_at__isnull=False, no_response_at__isnull=True)
              .filter(Exists(pending)).select_related("case"))
    for participant in silent.filter(notified_at__lte=now - timedelta(days=NO_RESPONSE_DAYS)):
        with transaction.atomic():
            if Participant.objects.filter(pk=participant.pk, no_response_at__isnull=True).update(
                    no_response_at=now):
                audit_record(actor=None, action="case_vendor.no_response", obj=participant,
                             data={"case": participant.case.reference,
                                   "notified_at": participant.notified_at.isoformat()})
                events.vendor_no_response(participant)
                done["no_response"].append(participant.pk)
    for participant in silent.filter(notified_at__lte=now - timedelta(days=14),
                                     notified_at__gt=now - timedelta(days=NO_RESPONSE_DAYS),
                                     reminded_14_at__isnull=True):
        with transaction.atomic():
            # A vendor first seen past day 14 gets the 14-day reminder only.
            if Participant.objects.filter(pk=participant.pk, reminded_14_at__isnull=True).update(
                    reminded_14_at=now,
                    reminded_7_at=Coalesce("reminded_7_at", Value(now, output_field=DATETIME))):
                _remind(participant, days=14)
                done["day_14"].append(participant.pk)
    for participant in silent.filter(notified_at__lte=now - timedelta(days=7),
                                     notified_at__gt=now - timedelta(days=14),
                                     reminded_7_at__isnull=True):
        with transaction.atomic():
            if Participant.objects.filter(pk=participant.pk, reminded_7_at__isnull=True).update(
                    reminded_7_at=now):
                _remind(participant, days=7)
                done["day_7"].append(participant.pk)
    return done


def _remind(participant: Participant, *, days: int) -> None:
    audit_record(actor=None, action="case_vendor.reminded", obj=participant,
                 data={"case": participant.case.reference, "days": days})
    events.vendor_reminded(participant, days=days)
