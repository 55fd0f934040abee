"""Advisories: generated from the case (never written by hand), validated, published behind the
publication gate, and served as a CSAF provider directory (docs/clearinghouse.md 4.4 rule 9).

- advisory_generate stores a draft: CSAF 2.0 advisory and VEX, OSV records and CVE 5 CNA
  containers, with the SHA-256 of the bytes that will be served and every validator's report.
  A draft that fails validation is still stored, so the coordinator sees why.
- advisory_publish refuses, writing nothing, unless: no embargo is in force (proposed, active
  or under revision), every confirmed vendor has a statement on each of its products or is "no
  response", the draft still says what the case says now (it is generated again and compared
  byte for byte), and every export passes its validator. Then it marks the advisory published,
  audits, notifies the case's participants (a link, no vulnerability detail) and asks a worker
  (through the jobs outbox) to write the provider directory again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from audit.services import audit_record
from clearinghouse import access
from clearinghouse.exports import provider
from clearinghouse.exports.generate import exports_build
from clearinghouse.exports.naming import document_path
from clearinghouse.exports.validate import problems, validate_exports
from clearinghouse.models import (
    Advisory,
    Case,
    Embargo,
    Participant,
    ProductStatement,
    Report,
)
from clearinghouse.selectors_snapshot import (
    case_snapshot,
    published_revisions,
    publisher,
    vulnerabilities_exported,
)
from clearinghouse.workflow import ADVISORY_TRANSITIONS, EMBARGO_STATES_IN_FORCE
from exposures import disclosure
from jobs.services import job_enqueue
from notifications import clearinghouse_events as events
from review_portal.errors import ApplicationError, TransitionNotAllowed


class PublicationRefused(ApplicationError):
    """The publication gate said no; `reasons` lists every rule that failed."""

    def __init__(self, reasons: list[str]):
        super().__init__("The advisory cannot be published: " + " ".join(reasons), status=409,
                         code="publication_refused")
        self.reasons = reasons


def _exports_fields(exports: dict) -> dict:
    return {"csaf": exports["csaf"], "vex": exports["vex"], "osv": exports["osv"],
            "cve": exports["cve"], "hashes": exports["hashes"]}


def _release_date(advisory: Advisory) -> datetime:
    text = advisory.csaf["document"]["tracking"]["current_release_date"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def advisory_generate(*, case: Case, by) -> Advisory:
    """A new draft revision of the case's advisory, generated from the case as it is now."""
    if not access.may_coordinate(by, case):
        raise PermissionDenied("Only the coordinator generates advisories.")
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not case.vulnerabilities.exists():
            raise ApplicationError("The case has no vulnerability to publish.")
        snapshot = case_snapshot(case, release_date=timezone.now())
        exports = exports_build(snapshot)
        reports = validate_exports(exports)
        revision = (case.advisories.aggregate(m=Max("revision"))["m"] or 0) + 1
        advisory = Advisory.objects.create(
            case=case, revision=revision, status=Advisory.Status.DRAFT,
            tracking_id=snapshot.reference, validation=reports, generated_by=by,
            **_exports_fields(exports))
        audit_record(actor=by, action="clearinghouse.advisory_generated", obj=advisory,
                     data={"revision": revision, "version": snapshot.version,
                           "valid": reports["ok"], "problems": len(problems(reports)),
                           "hash": exports["hashes"]["csaf"]})
    return advisory


def publication_blockers(case: Case, *, advisory: Advisory | None = None) -> list[str]:
    """Why the case's advisory may not be published now ([] when it may)."""
    reasons = []
    embargo = Embargo.objects.filter(case=case, status__in=EMBARGO_STATES_IN_FORCE).first()
    if embargo is not None:
        ends = embargo.ends_at.astimezone(UTC)
        reasons.append(f"The embargo is {embargo.get_status_display().lower()} (ends "
                       f"{ends:%Y-%m-%d %H:%M} UTC); publish once it has exited.")
    # An unvalidated AI finding is never published: every vulnerability the advisory shows
    # needs a report that reaches vendors and is valid, accepted or closed as coordinated.
    validated = Report.objects.filter(
        access.reports_reaching_vendors_q(),
        Q(status__in=(Report.Status.VALID, Report.Status.ACCEPTED))
        | Q(status=Report.Status.CLOSED, close_reason=Report.CloseReason.COORDINATED),
        vulnerability_id=OuterRef("pk"))
    for vuln in vulnerabilities_exported(case).filter(~Exists(validated)).order_by("id"):
        reasons.append(f"Vulnerability \u201c{vuln.title}\u201d has no report that a person "
                       "validated and that is valid, accepted or closed as coordinated (an AI "
                       "finding no person validated is never published); validate its report "
                       "first.")
    vendors = (Participant.objects.filter(case=case, role=Participant.Role.VENDOR,
                                          confirmed=True, no_response_at__isnull=True)
               .select_related("organisation").order_by("organisation__name"))
    statements = ProductStatement.objects.filter(vulnerability__case=case)
    stated: dict[int, list[ProductStatement]] = {}
    for st in statements:
        stated.setdefault(st.vendor_id, []).append(st)
    for vendor in vendors:
        own = stated.get(vendor.organisation_id, [])
        open_ = sorted({st.product_name for st in own
                        if st.status == ProductStatement.Status.UNDER_INVESTIGATION})
        if not own:
            reasons.append(f"{vendor.organisation.name} has made no statement and is not yet "
                           "marked as no response.")
        elif open_:
            reasons.append(f"{vendor.organisation.name} has not yet stated the status of "
                           f"{', '.join(open_)}.")
    if advisory is not None:
        current = exports_build(case_snapshot(case, release_date=_release_date(advisory),
                                              previous=published_revisions(case)))
        if current["hashes"] != advisory.hashes:
            reasons.append("The case changed after this draft was generated; generate the "
                           "advisory again.")
        else:
            stored = {"csaf": advisory.csaf, "vex": advisory.vex, "osv": advisory.osv,
                      "cve": advisory.cve}
            found = problems(validate_exports(stored))
            if found:
                reasons.append(f"The exports do not validate ({len(found)} problem(s)): "
                               + "; ".join(found[:5]))
    return reasons


def advisory_publish(*, advisory: Advisory, by) -> Advisory:
    """Publish a draft behind the gate (see the module docstring)."""
    if not access.may_coordinate(by, advisory.case):
        raise PermissionDenied("Only the coordinator publishes advisories.")
    allowed_from, target = ADVISORY_TRANSITIONS["publish"]
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=advisory.case_id)
        advisory = Advisory.objects.select_for_update().select_related("case").get(
            pk=advisory.pk)
        if advisory.status not in allowed_from:
            raise TransitionNotAllowed(
                f"An advisory that is {advisory.get_status_display().lower()} cannot be "
                "published.")
        reasons = publication_blockers(case, advisory=advisory)
        if reasons:
            raise PublicationRefused(reasons)
        now = timezone.now()
        advisory.status, advisory.published_by, advisory.published_at = target, by, now
        advisory.save(update_fields=["status", "published_by", "published_at"])
        fields = ["status"]
        case.status = Case.Status.PUBLISHED
        if case.public_at is None:
            case.public_at = now
            fields.append("public_at")
        case.save(update_fields=fields)
        audit_record(actor=by, action="clearinghouse.advisory_published", obj=advisory,
                     data={"revision": advisory.revision,
                           "version": advisory.csaf["document"]["tracking"]["version"],
                           "hash": advisory.hashes.get("csaf", "")})
        _notify_published(advisory)
        _directory_write_later(advisory)
        # Operators whose inventories match hear of it now (those told before publication
        # already were): a worker releases the case's exposures (exposures/disclosure.py).
        disclosure.case_published_later(case)
    return advisory


def _notify_published(advisory: Advisory) -> None:
    """Every member of every confirmed participant organisation and the program office. Only
    the case reference and a link: e-mail carries no vulnerability detail (rule 11)."""
    path = document_path(settings.CLEARINGHOUSE_ADVISORY_TLP, _release_date_initial(advisory),
                         advisory.tracking_id)
    events.advisory_published(advisory, link=reverse("csaf_file", kwargs={"path": path}))


def advisory_withdraw(*, advisory: Advisory, by, reason: str) -> Advisory:
    """Withdraw a published revision (a reason is required). The case's advisory then leaves
    the public provider directory: a withdrawn newest revision is not replaced there by an
    older, superseded one."""
    if not access.may_coordinate(by, advisory.case):
        raise PermissionDenied("Only the coordinator withdraws advisories.")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why the advisory is withdrawn.", field="reason")
    allowed_from, target = ADVISORY_TRANSITIONS["withdraw"]
    with transaction.atomic():
        advisory = Advisory.objects.select_for_update().select_related("case").get(
            pk=advisory.pk)
        if advisory.status not in allowed_from:
            raise TransitionNotAllowed(
                f"An advisory that is {advisory.get_status_display().lower()} cannot be "
                "withdrawn.")
        advisory.status, advisory.withdrawn_reason = target, reason
        advisory.save(update_fields=["status", "withdrawn_reason"])
        audit_record(actor=by, action="clearinghouse.advisory_withdrawn", obj=advisory,
                     data={"revision": advisory.revision, "reason": reason})
        events.advisory_withdrawn(advisory)
        _directory_write_later(advisory)
    return advisory


def _release_date_initial(advisory: Advisory) -> datetime:
    text = advisory.csaf["document"]["tracking"]["initial_release_date"]
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the provider directory -----------------------------------------------------------------

def _directory_write_later(advisory: Advisory) -> None:
    """Ask a worker, in this transaction (an outbox row published after the commit and retried
    until the broker takes it), to write the public directory again: a failed write is retried,
    never lost, and never fails the publication that was already committed."""
    job_enqueue(task="clearinghouse.provider_directory_write", kwargs={},
                ref=f"clearinghouse.advisory:{advisory.pk}")


def provider_root() -> Path:
    return Path(settings.CLEARINGHOUSE_CSAF_ROOT)


def provider_directory_files() -> dict[str, bytes]:
    """The public directory: each case's newest released revision, if it is still published
    (withdrawn: the case is left out)."""
    latest: dict[int, Advisory] = {}
    for advisory in (Advisory.objects.filter(status__in=(Advisory.Status.PUBLISHED,
                                                         Advisory.Status.WITHDRAWN))
                     .only("case_id", "revision", "status", "csaf", "vex")
                     .order_by("case_id", "revision")):
        latest[advisory.case_id] = advisory
    latest = {k: a for k, a in latest.items() if a.status == Advisory.Status.PUBLISHED}
    docs = [doc for a in latest.values() for doc in (a.csaf, a.vex)]
    return provider.build_directory(docs, publisher=publisher(), last_updated=max(
        (_release_date(a) for a in latest.values()), default=timezone.now()))


def provider_directory_write() -> Path:
    """Write /.well-known/csaf/ again from the published advisories (after each publication;
    `manage.py csaf_provider_write` does the same on a new host)."""
    root = provider_root()
    provider.write_directory(root, provider_directory_files())
    return root
