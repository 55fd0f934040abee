"""The coordinator's SSVC assessment of a vulnerability: Exploitation and Automatable, the
case-wide inputs of the deployer decision (exposures/ssvc.py).

- A vulnerability's assessment starts from what the report said (Vulnerability.exploitation:
  none / poc / active -> SSVC none / public_poc / active; automatable "no").
- The coordinator sets both, with a reason (`assessment_set`, audit `exposure.assessment_set`);
  each change bumps the version once.
- Recording a case state raises exploitation: a public exploit (exploit_public_at) to at least
  public PoC, attacks observed (attacks_observed_at) to active (`exploitation_raise`, called by
  clearinghouse/cases.case_state_set; audit `exposure.assessment_raised`). It never lowers it.
- A change re-computes the priorities of the vulnerability's exposures (matching, after the
  commit), which hands each changed exposure once to disclosure.exposures_changed; disclosure
  re-notifies by comparing Exposure.notified_version with Exposure.assessment_version.
"""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from audit.models import AuditEvent
from audit.services import audit_record
from clearinghouse import access
from clearinghouse.models import Case, Vulnerability
from exposures import matching
from exposures.models import SSVC, VulnerabilityAssessment
from review_portal.errors import ApplicationError

E = SSVC.Exploitation
VE = Vulnerability.Exploitation
FROM_REPORT = {VE.NONE: E.NONE, VE.POC: E.PUBLIC_POC, VE.ACTIVE: E.ACTIVE}
ORDER = {E.NONE: 0, E.PUBLIC_POC: 1, E.ACTIVE: 2}
# The case states that raise exploitation, and to what.
RAISED_BY = {"exploit_public_at": E.PUBLIC_POC, "attacks_observed_at": E.ACTIVE}


def assessment_for(vulnerability: Vulnerability) -> VulnerabilityAssessment:
    """The vulnerability's assessment, created from its report's exploitation the first time."""
    assessment = VulnerabilityAssessment.objects.filter(vulnerability=vulnerability).first()
    if assessment is not None:
        return assessment
    with transaction.atomic():
        assessment, _ = VulnerabilityAssessment.objects.get_or_create(
            vulnerability=vulnerability,
            defaults={"exploitation": FROM_REPORT.get(vulnerability.exploitation, E.NONE),
                      "automatable": SSVC.Automatable.NO})
    return assessment


ACTIONS = ("exposure.assessment_set", "exposure.assessment_raised")


def assessment_history(assessment: VulnerabilityAssessment) -> list[dict]:
    """Each change of the assessment, oldest first, from its audit trail: when, who, which
    action (set by the coordinator, raised by a case state), the version and values it gave,
    and the reason (a raise: the case state that raised it)."""
    events = AuditEvent.objects.filter(
        object_type=VulnerabilityAssessment._meta.label_lower, object_id=str(assessment.pk),
        action__in=ACTIONS).order_by("created_at", "id")
    changes = []
    for event in events:
        to = event.data.get("to")
        if not isinstance(to, dict):  # a raise records only the new exploitation
            to = {"exploitation": to or ""}
        changes.append({
            "at": event.created_at, "actor": event.actor_label, "action": event.action,
            "version": event.data.get("version"), "exploitation": to.get("exploitation", ""),
            "automatable": to.get("automatable", ""),
            "reason": event.data.get("reason") or event.data.get("field", "")})
    return changes


def assessment_view(vulnerability: Vulnerability) -> VulnerabilityAssessment:
    """The assessment with what its readers show: `history` (assessment_history), `source`
    (report: as the report said, never changed; coordinator; case_state) and the `reason` of
    the newest change."""
    current = assessment_for(vulnerability)
    current.history = assessment_history(current)
    newest = current.history[-1] if current.history else None
    current.source = ("report" if newest is None else
                      "coordinator" if newest["action"] == ACTIONS[0] else "case_state")
    current.reason = newest["reason"] if newest else "As the report said."
    return current


def assessments_of(vulnerabilities) -> dict[int, VulnerabilityAssessment]:
    """Each vulnerability's assessment in one query, for a page: one never set yet is shown as
    assessment_for would create it (unsaved here: a page read writes nothing)."""
    vulnerabilities = list(vulnerabilities)
    found = {a.vulnerability_id: a for a in VulnerabilityAssessment.objects.filter(
        vulnerability__in=vulnerabilities)}
    for v in vulnerabilities:
        found.setdefault(v.pk, VulnerabilityAssessment(
            vulnerability=v, exploitation=FROM_REPORT.get(v.exploitation, E.NONE),
            automatable=SSVC.Automatable.NO))
    return found


def may_assess(user, case: Case) -> bool:
    return access.may_coordinate(user, case)


def _locked(vulnerability: Vulnerability) -> VulnerabilityAssessment:
    assessment_for(vulnerability)
    return VulnerabilityAssessment.objects.select_for_update().get(vulnerability=vulnerability)


@transaction.atomic
def assessment_set(*, vulnerability: Vulnerability, actor, exploitation: str, automatable: str,
                   reason: str) -> VulnerabilityAssessment:
    """The coordinator sets exploitation and automatability. Unchanged values change nothing
    (no new version, no event); a change bumps the version once and re-computes."""
    vulnerability = Vulnerability.objects.select_related("case").get(pk=vulnerability.pk)
    if not may_assess(actor, vulnerability.case):
        raise PermissionDenied("Only the clearinghouse's coordinator assesses a vulnerability.")
    if exploitation not in E.values:
        raise ApplicationError("Choose none, public PoC or active.", field="exploitation")
    if automatable not in SSVC.Automatable.values:
        raise ApplicationError("Choose yes or no.", field="automatable")
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("Say why (the evidence for the assessment).", field="reason")
    assessment = _locked(vulnerability)
    before = {"exploitation": assessment.exploitation, "automatable": assessment.automatable}
    after = {"exploitation": exploitation, "automatable": automatable}
    if before == after:
        return assessment
    assessment.exploitation, assessment.automatable = exploitation, automatable
    assessment.version += 1
    assessment.updated_by = actor
    assessment.save()
    audit_record(actor=actor, action="exposure.assessment_set", obj=assessment,
                 data={"case": vulnerability.case.reference, "vulnerability": vulnerability.pk,
                       "from": before, "to": after, "version": assessment.version,
                       "reason": reason})
    matching.vulnerability_changed(vulnerability_id=vulnerability.pk, cause="assessment_changed")
    return assessment


def exploitation_raise(*, case: Case, field: str, actor=None) -> list[int]:
    """A case state was recorded: raise the exploitation of the case's vulnerabilities where it
    says more than they do (never lower). Returns the vulnerabilities raised. Called inside
    case_state_set's transaction."""
    target = RAISED_BY.get(field)
    if target is None:
        return []
    raised = []
    for vulnerability in case.vulnerabilities.order_by("pk"):
        assessment = _locked(vulnerability)
        if ORDER[assessment.exploitation] >= ORDER[target]:
            continue
        before = assessment.exploitation
        assessment.exploitation = target
        assessment.version += 1
        assessment.updated_by = actor if getattr(actor, "is_authenticated", False) else None
        assessment.save()
        audit_record(actor=actor, action="exposure.assessment_raised", obj=assessment,
                     data={"case": case.reference, "vulnerability": vulnerability.pk,
                           "field": field, "from": before, "to": target,
                           "version": assessment.version})
        matching.vulnerability_changed(vulnerability_id=vulnerability.pk,
                                       cause="assessment_changed")
        raised.append(vulnerability.pk)
    return raised
