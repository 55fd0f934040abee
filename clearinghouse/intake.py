"""Writes for the clearinghouse's intake: filing a report, its products, duplicate candidates,
triage (Vultron's report-management moves), verification and the human validator of an
AI-found report (its proofs of concept: clearinghouse/intake_artifacts.py).

Every rule lives here, so the pages, the API and any admin action hold the same: a report
without a threat model or a product may be filed but never becomes valid (fp-check); an
AI-found report reaches no vendor until a named person validated it (access.py); "valid" needs
a reproduction, a vendor's confirmation or the coordinator's written override; nothing is closed
automatically. Every change is audited and tells the reporter's organisation, with "Report #N"
and a link only: a title is already vulnerability detail (docs/clearinghouse.md 4.4, rule 11).
"""

import re
from dataclasses import dataclass
from decimal import Decimal

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rapidfuzz import fuzz

from accounts import policy
from accounts.models import User
from audit.services import audit_record
from clearinghouse import access
from clearinghouse.models import (
    DuplicateCandidate,
    ProductClaim,
    ProductStatement,
    Report,
    Verification,
)
from clearinghouse.products import cpe_normalise, purl_normalise
from clearinghouse.workflow import REPORT_TRANSITIONS
from notifications import report_events
from review_portal.errors import ApplicationError, TransitionNotAllowed, save_or_refuse

RS = Report.Status
CR = Report.CloseReason

# rapidfuzz token_set_ratio (0-100) on title + description between two reports that already
# share a product key and a CWE. 70 catches a reworded report of the same flaw (measured on
# the tests' pairs: reworded 80-100, a different flaw in the same product 30-55).
DUPLICATE_SIMILARITY_THRESHOLD = 70

CWE_RE = re.compile(r"^CWE-[1-9][0-9]{0,5}$")
# vers (https://github.com/package-url/purl-spec VERSION-RANGE-SPEC): "vers:<scheme>/" then
# "*" or constraints joined by "|", each an optional comparator and a version.
VERS_RE = re.compile(r"^vers:[a-z0-9][a-z0-9.+-]*/(\*|[^|]+(\|[^|]+)*)$")
VERS_CONSTRAINT_RE = re.compile(r"^(<=|>=|!=|<|>|=)?[^<>=!|*\s][^<>=!|\s]*$")
# Package URL types whose names are case-insensitive (purl-spec PURL-TYPES): lower-cased in
# the key so "pkg:npm/Foo" and "pkg:npm/foo" are one product.

PRODUCT_FIELDS = ("purl", "cpe", "vendor_name", "product_name", "version_range")


# --- parsing and normalising ----------------------------------------------------------------

@dataclass(frozen=True)
class Cvss:
    vector: str
    version: str
    score: Decimal
    severity: str


def cvss_parse(vector: str) -> Cvss:
    """A CVSS v3.1 or v4.0 base vector, checked and scored by the `cvss` library."""
    vector = (vector or "").strip()
    if not vector:
        raise ApplicationError("Give a CVSS vector (v3.1 or v4.0), e.g. "
                               "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H.", field="cvss_vector")
    try:
        if vector.startswith("CVSS:3.1/"):
            parsed = CVSS3(vector)
            return Cvss(parsed.clean_vector(), "3.1", Decimal(str(parsed.scores()[0])),
                        parsed.severities()[0])
        if vector.startswith("CVSS:4.0/"):
            parsed4 = CVSS4(vector)
            return Cvss(parsed4.clean_vector(), "4.0", Decimal(str(parsed4.base_score)),
                        parsed4.severity)
    except CVSSError as exc:
        raise ApplicationError(f"The CVSS vector is not valid: {exc}.",
                               field="cvss_vector") from exc
    raise ApplicationError("The CVSS vector must start with CVSS:3.1/ or CVSS:4.0/.",
                           field="cvss_vector")


def cwe_normalise(cwe: str) -> str:
    value = (cwe or "").strip().upper()
    if value.isdigit():
        value = f"CWE-{value}"
    if not CWE_RE.match(value):
        raise ApplicationError("Give the weakness as CWE-<number>, e.g. CWE-787.", field="cwe")
    return value


def vers_check(value: str) -> str:
    value = (value or "").strip()
    if not value:
        return ""
    match = VERS_RE.match(value)
    constraints = match.group(1).split("|") if match else []
    if not match or (constraints != ["*"] and not all(
            VERS_CONSTRAINT_RE.match(c.strip()) for c in constraints)):
        raise ApplicationError("Give the version range as a vers string, e.g. "
                               "vers:pypi/>=1.0|<1.4.2 (or leave it empty).",
                               field="version_range")
    return value


def product_claim_build(*, purl: str = "", cpe: str = "", vendor_name: str = "",
                        product_name: str = "", version_range: str = "") -> ProductClaim:
    """One affected product, parsed and keyed (unsaved): a package URL, a CPE, or at least a
    product name with its vendor."""
    claim = ProductClaim(vendor_name=(vendor_name or "").strip(),
                         product_name=(product_name or "").strip(),
                         version_range=vers_check(version_range))
    if (purl or "").strip():
        claim.purl, claim.purl_key, parsed = purl_normalise(purl)
        claim.product_name = claim.product_name or parsed.name
        claim.vendor_name = claim.vendor_name or (parsed.namespace or "")
    if (cpe or "").strip():
        claim.cpe, claim.cpe_key, parts = cpe_normalise(cpe)
        claim.vendor_name = claim.vendor_name or parts[3]
        claim.product_name = claim.product_name or parts[4]
    if not claim.purl and not claim.cpe and not (claim.vendor_name and claim.product_name):
        raise ApplicationError("Name each affected product by a package URL, a CPE, or its "
                               "vendor and product name.", field="products")
    return claim


# --- filing -----------------------------------------------------------------------------------

def _finder_model_check(actor: User, finder_model):
    if finder_model is None:
        return None
    from submissions.selectors import models_visible_to

    if not models_visible_to(actor).filter(pk=finder_model.pk).exists():
        raise ApplicationError("There is no such model.", field="finder_model")
    return finder_model


def _evaluation_run_check(actor: User, evaluation_run):
    if evaluation_run is None:
        return None
    from evaluations.selectors import runs_visible_to

    if not runs_visible_to(actor).filter(pk=evaluation_run.pk).exists():
        raise ApplicationError("There is no such evaluation run.", field="evaluation_run")
    return evaluation_run


def harness_of_run(run) -> str:
    return f"Inspect {run.inspect_version or '?'} / suite {run.suite_version.suite.name} " \
           f"v{run.suite_version.number}"


def report_initial_from_run(*, actor: User, run) -> dict:
    """The provenance a report filed from an evaluation run starts with (the run must be one
    the actor may see: the caller got it through evaluations.selectors)."""
    _evaluation_run_check(actor, run)
    model = run.request.model
    return {"finder_model": model, "finder_model_name": model.name,
            "finder_model_version": model.version, "evaluation_run": run,
            "harness": harness_of_run(run), "channel": Report.Channel.EVALUATION}


def report_file(*, actor: User, title: str, description: str, cwe: str, cvss_vector: str,
                products: list[dict], attacker: str = "", capability: str = "",
                trigger: str = "", impact: str = "", exploitation: str = "none",
                already_public: bool = False, reporter_deadline=None, finder_model=None,
                finder_model_name: str = "", finder_model_version: str = "",
                evaluation_run=None, harness: str = "",
                channel: str = Report.Channel.WEB) -> Report:
    """File a report for the actor's organisation. Checks every field (CVSS, CWE, products,
    vers ranges, provenance) before writing anything; a report without a threat model or a
    product is filed as received + needs more info. Finds duplicate candidates at once."""
    if not policy.may_file_report(actor):
        raise PermissionDenied("Only AI developers, vendors, operators and agencies file reports.")
    title, description = (title or "").strip(), (description or "").strip()
    if not title:
        raise ApplicationError("Give the report a title.", field="title")
    if not description:
        raise ApplicationError("Describe the vulnerability.", field="description")
    score = cvss_parse(cvss_vector)
    cwe = cwe_normalise(cwe)
    claims = []
    rows = [p for p in products or [] if any((p.get(k) or "").strip() for k in PRODUCT_FIELDS)]
    for number, row in enumerate(rows, start=1):
        try:
            claims.append(product_claim_build(**{k: row.get(k) or "" for k in PRODUCT_FIELDS}))
        except ApplicationError as exc:
            raise ApplicationError(f"Product {number}: {exc.message}", field="products") from exc
    if reporter_deadline is not None and timezone.is_naive(reporter_deadline):
        raise ApplicationError("Give the deadline with its time zone.",
                               field="reporter_deadline")
    if channel == Report.Channel.EVALUATION and evaluation_run is None:
        raise ApplicationError("A report from an evaluation names its run.",
                               field="evaluation_run")
    finder_model = _finder_model_check(actor, finder_model)
    evaluation_run = _evaluation_run_check(actor, evaluation_run)
    if evaluation_run is not None and finder_model is None:
        finder_model = evaluation_run.request.model
    if finder_model is not None:
        finder_model_name = finder_model_name or finder_model.name
        finder_model_version = finder_model_version or finder_model.version
    organisation = actor.membership.organisation
    # AI-found: filed by an AI developer, or its provenance names a model (an agency filing
    # what an evaluation run found). Either way a named person must validate it before any
    # vendor sees it.
    ai_found = (policy.is_ai_developer_organisation(organisation) or finder_model is not None
                or bool((finder_model_name or "").strip()) or evaluation_run is not None)
    with transaction.atomic():
        report = Report(
            organisation=organisation, reported_by=actor, channel=channel, title=title,
            description=description, attacker=(attacker or "").strip(),
            capability=(capability or "").strip(), trigger=(trigger or "").strip(),
            impact=(impact or "").strip(), cwe=cwe, cvss_vector=score.vector,
            cvss_version=score.version, cvss_score=score.score, cvss_severity=score.severity,
            exploitation=exploitation, already_public=already_public,
            reporter_deadline=reporter_deadline, ai_found=ai_found, finder_model=finder_model,
            finder_model_name=(finder_model_name or "").strip(),
            finder_model_version=(finder_model_version or "").strip(),
            evaluation_run=evaluation_run, harness=(harness or "").strip())
        report.needs_more_info = not (report.has_threat_model and claims)
        save_or_refuse(report)
        for claim in claims:
            claim.report = report
            save_or_refuse(claim)
        candidates = duplicate_candidates_find(report=report)
        audit_record(actor=actor, action="report.filed", obj=report, organisation=organisation,
                     data={"channel": channel, "ai_found": ai_found,
                           "needs_more_info": report.needs_more_info,
                           "products": len(claims), "cvss": score.vector,
                           "candidates": [c.candidate_id for c in candidates]})
        report_events.report_filed(report)
    return report


# --- duplicates -------------------------------------------------------------------------------

def _text(report: Report) -> str:
    return f"{report.title} {report.description}"


def _is_fixed(candidate: Report) -> bool:
    """The candidate's flaw was fixed: a vendor stated a product fixed in its case (or for its
    vulnerability), or the case records a fix deployed."""
    if candidate.case_id is None and candidate.vulnerability_id is None:
        return False
    fixed = ProductStatement.objects.filter(status=ProductStatement.Status.FIXED)
    where = Q()
    if candidate.vulnerability_id is not None:
        where |= Q(vulnerability_id=candidate.vulnerability_id)
    if candidate.case_id is not None:
        where |= Q(vulnerability__case_id=candidate.case_id)
        if candidate.case.fix_deployed_at is not None:
            return True
    return fixed.filter(where).exists()


def duplicate_candidates_find(*, report: Report) -> list[DuplicateCandidate]:
    """Earlier reports of the same flaw: the same normalised product (purl key or CPE
    vendor:product) and the same CWE, then text similarity at or above the threshold. A match
    whose flaw was fixed is a possible regression. Only recorded: a coordinator decides."""
    claims = list(report.products.all())
    keys = Q(pk__in=[])
    purl_keys = {c.purl_key for c in claims if c.purl_key}
    cpe_keys = {c.cpe_key for c in claims if c.cpe_key}
    if purl_keys:
        keys |= Q(products__purl_key__in=purl_keys)
    if cpe_keys:
        keys |= Q(products__cpe_key__in=cpe_keys)
    if not purl_keys and not cpe_keys:
        return []
    # The original is the earlier report (a lower id is created earlier: one sequence).
    earlier = (Report.objects.filter(keys, cwe=report.cwe, pk__lt=report.pk)
               .select_related("case").distinct())
    found = []
    for candidate in earlier:
        score = round(fuzz.token_set_ratio(_text(report), _text(candidate)))
        if score < DUPLICATE_SIMILARITY_THRESHOLD:
            continue
        kind = (DuplicateCandidate.Kind.REGRESSION if _is_fixed(candidate)
                else DuplicateCandidate.Kind.DUPLICATE)
        row, _ = DuplicateCandidate.objects.get_or_create(
            report=report, candidate=candidate, defaults={"kind": kind, "score": score})
        found.append(row)
    return found


# --- triage -----------------------------------------------------------------------------------

def _reason(reason: str, what: str = "Give a reason.") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(what, field="reason")
    return reason


def _valid_basis(report: Report, override_reason: str) -> tuple[str, str]:
    if not report.has_threat_model:
        raise ApplicationError("The report has no complete threat model (attacker, capability, "
                               "trigger and impact), so it cannot become valid. Ask the "
                               "reporter for it.", status=409, code="needs_threat_model")
    if not report.products.exists():
        raise ApplicationError("The report names no affected product, so it cannot become "
                               "valid.", status=409, code="needs_product")
    reproduced = report.verifications.filter(result=Verification.Result.REPRODUCED)
    if reproduced.exclude(method=Verification.Method.VENDOR_CONFIRMED).exists():
        return Report.ValidBasis.REPRODUCTION, ""
    if reproduced.filter(method=Verification.Method.VENDOR_CONFIRMED).exists():
        return Report.ValidBasis.VENDOR_CONFIRMATION, ""
    if (override_reason or "").strip():
        return Report.ValidBasis.COORDINATOR_OVERRIDE, override_reason.strip()
    raise ApplicationError("A report becomes valid with a reproduced verification, the "
                           "vendor's confirmation, or your written override reason.",
                           status=409, code="needs_verification")


ACTION_LABELS = {"validate": "found valid", "invalidate": "found invalid",
                 "accept": "accepted for coordination", "defer": "deferred",
                 "close": "closed", "withdraw": "withdrawn by the reporter"}


@transaction.atomic
def report_transition(*, report: Report, actor: User, action: str, reason: str = "",
                      close_reason: str = "", duplicate_of: Report | None = None,
                      override_reason: str = "") -> Report:
    """Move a report through Vultron's RM states (workflow.REPORT_TRANSITIONS). The
    coordinator triages; the reporter's organisation may withdraw its own report
    (`action="withdraw"`, a close with reason withdrawn)."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    withdrawing = action == "withdraw" or (action == "close" and close_reason == CR.WITHDRAWN)
    if withdrawing:
        action, close_reason = "close", CR.WITHDRAWN
        if not (policy.is_clearinghouse_coordinator(actor)
                or access.is_reporter_of(actor, report)):
            raise PermissionDenied("Only the reporter's organisation or the coordinator "
                                   "withdraws a report.")
    elif not policy.is_clearinghouse_coordinator(actor):
        raise PermissionDenied("Only the clearinghouse coordinator triages reports.")
    if action not in REPORT_TRANSITIONS:
        raise ApplicationError(f"Unknown action {action!r}.", field="action")
    allowed_from, target = REPORT_TRANSITIONS[action]
    if report.status not in allowed_from:
        raise TransitionNotAllowed(f"A {report.get_status_display().lower()} report cannot be "
                                   f"{ACTION_LABELS['withdraw' if withdrawing else action]}.")
    before = report.status
    data: dict = {"from": before, "to": target}
    report.status_reason = (reason or "").strip()
    if action == "validate":
        report.valid_basis, override = _valid_basis(report, override_reason)
        report.status_reason = override or report.status_reason
        report.needs_more_info = False
        data["basis"] = report.valid_basis
    elif action == "invalidate":
        report.status_reason = _reason(reason, "Say why the report is not valid.")
    elif action == "close":
        if close_reason not in CR.values:
            raise ApplicationError("Choose why the report is closed.", field="close_reason")
        report.close_reason = close_reason
        data["close_reason"] = close_reason
        if close_reason == CR.DUPLICATE:
            if duplicate_of is None:
                raise ApplicationError("Say which report this one duplicates.",
                                       field="duplicate_of")
            if duplicate_of.pk == report.pk or duplicate_of.duplicate_of_id == report.pk:
                raise ApplicationError("A report cannot duplicate itself or its own duplicate.",
                                       field="duplicate_of")
            report.duplicate_of = duplicate_of
            data["duplicate_of"] = duplicate_of.pk
        elif close_reason != CR.WITHDRAWN:
            report.status_reason = _reason(reason, "Say why the report is closed.")
    report.status = target
    report.status_changed_at = timezone.now()
    save_or_refuse(report)
    step = "withdraw" if withdrawing else action
    label = ACTION_LABELS[step]
    audit_record(actor=actor, action=f"report.{step}",
                 obj=report, organisation=report.organisation, data=data)
    report_events.report_changed(report, label=label,
                                 occasion=f"{target}@{report.status_changed_at.timestamp():.0f}")
    return report


@transaction.atomic
def report_human_validate(*, report: Report, actor: User) -> Report:
    """A named person of the reporter's organisation (or the coordinator) vouches that they
    checked the AI-found report themselves. Without it the report never reaches a vendor. The
    account that filed it (often an automated pipeline) may not vouch for its own report."""
    if not (access.is_reporter_of(actor, report) or policy.is_clearinghouse_coordinator(actor)):
        raise PermissionDenied("Only a member of the reporter's organisation or the coordinator "
                               "validates a report.")
    report = Report.objects.select_for_update().get(pk=report.pk)
    if report.human_validated_by_id is not None:
        raise ApplicationError("A person has validated this report already.", status=409)
    if report.ai_found and actor.pk == report.reported_by_id:
        raise ApplicationError("The account that filed an AI-found report cannot also validate "
                               "it: another person of the organisation (or the coordinator) "
                               "checks it.", status=409)
    if report.status == RS.CLOSED:
        raise TransitionNotAllowed("A closed report is not validated any more.")
    report.human_validated_by = actor
    report.human_validated_at = timezone.now()
    report.save(update_fields=["human_validated_by", "human_validated_at"])
    audit_record(actor=actor, action="report.human_validated", obj=report,
                 organisation=report.organisation, data={"ai_found": report.ai_found})
    report_events.report_changed(report, label="validated by a person", occasion="human")
    return report


# --- verification -----------------------------------------------------------------------------

@transaction.atomic
def verification_record(*, report: Report, actor: User, method: str, environment: str,
                        runs: int, successes: int, result: str, signature: str = "",
                        notes: str = "") -> Verification:
    """One attempt to reproduce the report, by the coordinator or an agency reviewer."""
    if not policy.may_verify_report(actor):
        raise PermissionDenied("Only the coordinator and agency reviewers record verifications.")
    if report.status == RS.CLOSED:
        raise TransitionNotAllowed("A closed report takes no more verifications.")
    if method not in Verification.Method.values:
        raise ApplicationError("Choose how it was verified.", field="method")
    if result not in Verification.Result.values:
        raise ApplicationError("Choose the result.", field="result")
    if not (environment or "").strip():
        raise ApplicationError("Describe the environment (image digest or build recipe, the "
                               "affected version).", field="environment")
    if runs is None or runs < 1:
        raise ApplicationError("Give the number of runs (at least 1).", field="runs")
    if successes is None or not 0 <= successes <= runs:
        raise ApplicationError("Successes must be between 0 and the number of runs.",
                               field="successes")
    if result == Verification.Result.REPRODUCED and successes == 0:
        raise ApplicationError("A reproduced result needs at least one successful run.",
                               field="successes")
    if result == Verification.Result.NOT_REPRODUCED and successes > 0:
        raise ApplicationError("A run succeeded, so the result is not \"not reproduced\".",
                               field="result")
    verification = Verification(report=report, method=method, environment=environment.strip(),
                                runs=runs, successes=successes, result=result,
                                signature=(signature or "").strip(),
                                notes=(notes or "").strip(), verified_by=actor)
    save_or_refuse(verification)
    audit_record(actor=actor, action="verification.recorded", obj=verification,
                 organisation=report.organisation,
                 data={"report": report.pk, "method": method, "result": result, "runs": runs,
                       "successes": successes})
    report_events.report_changed(report, label="verification recorded",
                                 occasion=f"verification-{verification.pk}")
    return verification
