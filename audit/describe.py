"""Audit events in plain words: one sentence per event ("Dana Lee submitted review request #12"),
a label for every action code, the event's data as labelled fields. The trail stores codes; every
page that shows events (the audit trail, a request's history) reads them through here.

A new action code needs a row in ACTIONS (tests/audit/test_describe.py finds every code the
code base records and fails on one without a label)."""

from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst

from accounts import policy

# code -> (label in the action list, what the actor did: the verb before the object)
ACTIONS: dict[str, tuple[str, str]] = {
    # models
    "model.registered": ("Registered a model", "registered"),
    "model.updated": ("Changed a model", "changed"),
    # review requests
    "review_request.created": ("Started a draft review request", "started the draft"),
    "review_request.submit": ("Submitted a review request", "submitted"),
    "review_request.start_review": ("Started the review of a request", "started the review of"),
    "review_request.request_information": ("Asked the developer for information",
                                           "asked the developer a question on"),
    "review_request.provide_information": ("Answered the reviewers' question",
                                           "answered the reviewers' question on"),
    "review_request.determine": ("Determined a review request", "recorded the determination of"),
    "review_request.withdraw": ("Withdrew a review request", "withdrew"),
    "review_request.request_reconsideration": ("Asked for reconsideration",
                                               "asked for reconsideration of"),
    "review_request.viewed": ("Viewed a review request", "viewed"),
    "message.posted": ("Posted a message", "posted"),
    "determination.recorded": ("Recorded a determination", "recorded"),
    "artifact.uploaded": ("Uploaded an artifact", "uploaded"),
    "artifact.downloaded": ("Downloaded an artifact", "downloaded"),
    "artifact.shared": ("Shared an artifact with partners", "shared with granted partners"),
    "artifact.unshared": ("Stopped sharing an artifact", "stopped sharing"),
    # reviewers
    "reviewer.assigned": ("Assigned a reviewer", "assigned a reviewer to"),
    "reviewer.unassigned": ("Removed a reviewer", "removed a reviewer from"),
    "reviewer.lead_set": ("Named the lead reviewer", "named the lead reviewer of"),
    "reviewer.recused": ("Recused from a request", "recorded"),
    "conflict.declared": ("Declared a conflict of interest", "declared"),
    "review.drafted": ("Started a review", "started"),
    "review.draft_saved": ("Saved a review draft", "saved a draft of"),
    "review.submitted": ("Submitted a review", "submitted"),
    # rubrics and threshold policies
    "rubric.created": ("Created a rubric version", "created"),
    "rubric.updated": ("Changed a rubric version", "changed"),
    "rubric.activated": ("Activated a rubric version", "activated"),
    "policy.created": ("Created a threshold policy version", "created"),
    "policy.updated": ("Changed a threshold policy version", "changed"),
    "policy.activated": ("Activated a threshold policy version", "activated"),
    # evaluations
    "suite.version_created": ("Created a benchmark suite version", "created"),
    "endpoint.set": ("Set a model's evaluation endpoint", "set"),
    "run.started": ("Started an evaluation run", "started"),
    "run.cancel_requested": ("Asked to cancel an evaluation run", "asked to cancel"),
    "run.succeeded": ("Evaluation run succeeded", "finished"),
    "run.failed": ("Evaluation run failed", "recorded the failure of"),
    "run.cancelled": ("Evaluation run cancelled", "cancelled"),
    "run.handed_back": ("Evaluation run handed back to the queue", "handed back to the queue"),
    "run.reconciled": ("Evaluation run reconciled", "reconciled"),
    "run.log_downloaded": ("Downloaded an evaluation log", "downloaded the log of"),
    # government access windows
    "window.scheduled": ("Scheduled a government access window", "scheduled"),
    "window.changed": ("Changed a government access window", "changed"),
    "window.cancelled": ("Cancelled a government access window", "cancelled"),
    "window.flagged": ("Flagged a window against the release plans", "flagged"),
    "window.unflagged": ("Cleared a window's flag", "cleared the flag on"),
    "window.token_issued": ("Issued a window's gateway token", "issued a gateway token for"),
    "calendar_feed.created": ("Created a calendar feed", "created"),
    "calendar_feed.revoked": ("Revoked a calendar feed", "revoked"),
    # trusted partners
    # clearinghouse cases (issue 11)
    "case.opened": ("Opened a clearinghouse case", "opened"),
    "case.vendors_suggested": ("Suggested a case's vendors", "suggested vendors for"),
    "case.state_set": ("Recorded a case state", "recorded a case state of"),
    "case.message_posted": ("Posted in a case's thread", "posted"),
    "case_vendor.confirmed": ("Confirmed a vendor of a case", "confirmed"),
    "case_vendor.reminded": ("Reminded a silent vendor", "reminded"),
    "case_vendor.no_response": ("Marked a vendor as not responding", "marked as not responding"),
    "statement.updated": ("Changed a product statement", "changed"),
    "remediation.added": ("Added a remediation", "added"),
    "embargo.proposed": ("Proposed an embargo", "proposed"),
    "embargo.revision_proposed": ("Proposed a new embargo end", "proposed a new end for"),
    "embargo.accepted": ("Accepted an embargo", "accepted"),
    "embargo.declined": ("Declined an embargo", "declined"),
    "embargo.activated": ("An embargo took effect", "put in force"),
    "embargo.revised": ("An embargo's new end took effect", "revised"),
    "embargo.rejected": ("An embargo proposal was rejected", "recorded the rejection of"),
    "embargo.revision_dropped": ("An embargo revision was dropped", "dropped the revision of"),
    "embargo.exited": ("Ended an embargo", "ended"),
    "partner.applied": ("Applied as a trusted partner", "applied with"),
    "partner.vetted": ("Vetted a partner organisation", "vetted"),
    "partner.suspended": ("Suspended a partner organisation", "suspended"),
    "partner.revoked": ("Revoked a partner organisation", "revoked"),
    # clearinghouse members
    "clearinghouse.member_applied": ("Applied to join the clearinghouse", "applied with"),
    "clearinghouse.member_vetted": ("Vetted a clearinghouse member", "vetted"),
    "clearinghouse.member_suspended": ("Suspended a clearinghouse member", "suspended"),
    "clearinghouse.member_revoked": ("Revoked a clearinghouse member", "revoked"),
    "clearinghouse.vendor_product_added": ("Added a product to a vendor's catalogue", "added"),
    # clearinghouse advisories (clearinghouse/publication.py)
    "clearinghouse.advisory_generated": ("Generated an advisory draft", "generated"),
    "clearinghouse.advisory_published": ("Published an advisory", "published"),
    "clearinghouse.advisory_withdrawn": ("Withdrew an advisory", "withdrew"),
    "access_request.created": ("Requested early access", "requested early access with"),
    "access_request.invited": ("Invited a partner to early access", "sent the invitation"),
    "access_request.approved": ("Approved early access", "approved"),
    "access_request.denied": ("Denied early access", "denied"),
    "access_request.reconsideration_requested": ("Asked to reconsider early access",
                                                 "asked to reconsider"),
    "access_request.withdrawn": ("Withdrew an early-access request", "withdrew"),
    "terms.published": ("Published access terms", "published"),
    "terms.accepted": ("Accepted access terms", "recorded"),
    "access_grant.created": ("Granted early access", "opened"),
    "access_grant.revoked": ("Revoked early access", "revoked"),
    "access_grant.ended": ("Early access ended", "ended"),
    "access_grant.token_issued": ("Issued a partner gateway token", "issued a gateway token for"),
    "gateway_client.created": ("Registered a model gateway", "registered"),
    "gateway_client.rotated": ("Rotated a model gateway's secret", "rotated the secret of"),
    "gateway_client.revoked": ("Revoked a model gateway", "revoked"),
    "model.gateway_published": ("Published a model's gateway address",
                                "published the gateway address of"),
    "model.gateway_withdrawn": ("Withdrew a model's gateway address",
                                "withdrew the gateway address of"),
    # clearinghouse: reports, their verification and proofs of concept
    "report.filed": ("Filed a vulnerability report", "filed"),
    "report.validate": ("Found a report valid", "found valid"),
    "report.invalidate": ("Found a report invalid", "found invalid"),
    "report.accept": ("Accepted a report for coordination", "accepted for coordination"),
    "report.defer": ("Deferred a report", "deferred"),
    "report.close": ("Closed a report", "closed"),
    "report.withdraw": ("Withdrew a report", "withdrew"),
    "report.human_validated": ("Validated an AI-found report as a person",
                               "recorded a person's validation of"),
    "verification.recorded": ("Recorded a verification of a report", "recorded"),
    "report_artifact.uploaded": ("Uploaded a proof of concept", "uploaded"),
    "report_artifact.downloaded": ("Downloaded a proof of concept", "downloaded"),
    # operators' exposures: targeted pre-disclosure and the operator's status (issue 12)
    "exposure.released": ("Released exposures to an operator", "released exposures of"),
    "exposure.terms_accepted": ("Accepted the clearinghouse's pre-disclosure terms",
                                "accepted"),
    "exposure.status_changed": ("Changed an exposure's status", "changed the status of"),
    "exposure.match_confirmed": ("Confirmed a vendor and product match", "confirmed"),
    "exposure.match_rejected": ("Rejected a vendor and product match", "rejected"),
    "exposure.reopened": ("Reopened an exposure (the case changed)", "reopened"),
    # accounts
    "organisation.created": ("Created an organisation", "created"),
    "membership.created": ("Added a member", "created"),
    "api_token.created": ("Created an API token", "created"),
    "api_token.revoked": ("Revoked an API token", "revoked"),
    "mfa.key_added": ("Added a security key", "added a security key to"),
    "mfa.key_removed": ("Removed a security key", "removed a security key from"),
    "mfa.totp_added": ("Set up an authenticator app", "set up an authenticator app on"),
    "mfa.totp_removed": ("Removed an authenticator app", "removed the authenticator app from"),
    "mfa.recovery_codes_added": ("Created recovery codes", "created recovery codes for"),
    "mfa.recovery_codes_removed": ("Removed recovery codes", "removed the recovery codes of"),
    "encryption.rotated": ("Rotated the encryption keys", "re-encrypted"),
    # Operators' exposures (issue 12): the coordinator's SSVC assessment of a vulnerability.
    "exposure.assessment_set": ("Set a vulnerability's SSVC assessment", "assessed"),
    "exposure.assessment_raised": ("Raised a vulnerability's exploitation from a case state",
                                   "raised the exploitation of"),
    # operators' inventories (exposures/inventory.py)
    "inventory.created": ("Created an inventory", "created"),
    "inventory.imported": ("Imported into an inventory", "imported"),
    "inventory.asset_inputs_changed": ("Changed an asset's SSVC inputs", "changed the inputs of"),
    "inventory.inputs_changed": ("Changed an inventory's SSVC inputs", "changed the inputs of"),
    "inventory.reindexed": ("Rebuilt an inventory's indexes", "re-indexed"),
}

# The headings of the action list, by the code's first part.
GROUPS = {
    "model": "Models", "review_request": "Review requests", "message": "Review requests",
    "determination": "Review requests", "artifact": "Review requests",
    "reviewer": "Reviewers", "conflict": "Reviewers", "review": "Reviewers",
    "rubric": "Rubrics and policies", "policy": "Rubrics and policies",
    "suite": "Evaluations", "endpoint": "Evaluations", "run": "Evaluations",
    "window": "Access windows", "calendar_feed": "Access windows",
    "partner": "Trusted partners", "access_request": "Trusted partners",
    "terms": "Trusted partners", "access_grant": "Trusted partners",
    "gateway_client": "Trusted partners",
    "report": "Clearinghouse reports", "verification": "Clearinghouse reports",
    "report_artifact": "Clearinghouse reports",
    "organisation": "Accounts", "membership": "Accounts", "api_token": "Accounts",
    "mfa": "Accounts", "encryption": "Accounts",
    "clearinghouse": "Clearinghouse",
    "case": "Clearinghouse cases", "case_vendor": "Clearinghouse cases",
    "statement": "Clearinghouse cases", "remediation": "Clearinghouse cases",
    "embargo": "Clearinghouse cases",
    "exposure": "Operators' exposures",
    "inventory": "Operator inventories",
}

# object_type -> (noun, how it is named: "id" for "noun #12", "label" for "noun <label>",
# "self" for the label alone, which already says what it is: "Rubric v2: Default")
OBJECTS: dict[str, tuple[str, str]] = {
    "submissions.frontiermodel": ("model", "label"),
    "submissions.reviewrequest": ("review request", "id"),
    "submissions.message": ("a message on", "request"),
    "submissions.determination": ("a determination for", "request"),
    "submissions.artifact": ("artifact", "label"),
    "submissions.accesswindow": ("government access window", "id"),
    "reviews.review": ("review", "id"),
    "reviews.recusal": ("a recusal from", "request"),
    "reviews.conflictofinterest": ("a conflict of interest", "none"),
    "reviews.rubricversion": ("rubric", "self"),
    "reviews.policyversion": ("threshold policy", "self"),
    "evaluations.suiteversion": ("benchmark suite", "label"),
    "evaluations.evaluationendpoint": ("the evaluation endpoint:", "label"),
    "evaluations.evaluationrun": ("evaluation run", "id"),
    "partners.partnerprofile": ("partner profile", "id"),
    "partners.accessrequest": ("early-access request", "id"),
    "partners.termsversion": ("terms", "self"),
    "partners.termsacceptance": ("the terms", "none"),
    "partners.accessgrant": ("early-access grant", "id"),
    "partners.calendarfeed": ("a calendar feed", "none"),
    "partners.gatewayclient": ("model gateway", "label"),
    "clearinghouse.memberprofile": ("clearinghouse member", "id"),
    "clearinghouse.vendorproduct": ("vendor product", "label"),
    "clearinghouse.report": ("vulnerability report", "id"),
    "clearinghouse.reportartifact": ("report artifact", "id"),
    "clearinghouse.verification": ("verification", "id"),
    "clearinghouse.case": ("case", "label"),
    "clearinghouse.participant": ("case participant", "id"),
    "clearinghouse.productstatement": ("product statement", "id"),
    "exposures.inventory": ("inventory", "id"),
    "exposures.inventoryimport": ("inventory import", "id"),
    "exposures.asset": ("asset", "id"),
    "clearinghouse.remediation": ("remediation", "id"),
    "clearinghouse.casemessage": ("a message on a case", "none"),
    "clearinghouse.embargo": ("embargo", "id"),
    "clearinghouse.advisory": ("advisory", "label"),
    "exposures.vulnerabilityassessment": ("SSVC assessment", "id"),
    "exposures.exposure": ("exposure", "id"),
    "exposures.termsacceptance": ("the clearinghouse's pre-disclosure terms", "none"),
    "accounts.organisation": ("organisation", "label"),
    "accounts.membership": ("the membership of", "label"),
    "accounts.apitoken": ("API token", "label"),
    "accounts.user": ("account", "label"),
}

# data key -> the field's name on the page
FIELDS = {
    "from": "From status", "to": "To status", "reason": "Reason", "request": "Review request",
    "sha256": "SHA-256", "size": "Size (bytes)", "reviewer": "Reviewer", "lead": "Lead reviewer",
    "name": "Name", "version": "Version", "changed": "Changed", "number": "Version number",
    "rules": "Rules", "dimensions": "Dimensions", "outcome": "Outcome", "policy": "Policy version",
    "kind": "Kind", "model_name": "Model name", "base_url": "Base URL",
    "api_key_changed": "API key changed", "suite": "Benchmark suite", "hash": "Content hash",
    "error": "Error", "overall": "Overall score", "worker": "Worker", "attempts": "Attempts",
    "partner": "Partner", "starts_at": "Starts", "ends_at": "Ends", "before": "Before",
    "after": "After", "side": "Approved by", "both": "Both sides approved", "hint": "Token hint",
    "sector": "Sector", "type": "Type", "authenticator_id": "Authenticator", "passkey": "Passkey",
    "organisation": "Organisation", "previous": "Previous lead", "was_lead": "Was the lead",
    "scores": "Scores", "recommendation": "Recommendation", "confidence": "Confidence",
    "overridden": "Overridden", "recommended": "Recommended", "role": "Role",
    "revision": "Revision", "valid": "Passed validation", "problems": "Validation problems",
    "report": "Report", "ai_found": "AI-found", "needs_more_info": "Needs more information",
    "basis": "Valid because", "close_reason": "Close reason", "duplicate_of": "Duplicate of",
    "candidates": "Possible duplicates", "cvss": "CVSS vector", "method": "Method",
    "result": "Result", "runs": "Runs", "successes": "Successes", "channel": "Channel",
    "products": "Products",
}


def action_label(code: str) -> str:
    """The action's name in lists: "Submitted a review request" for review_request.submit."""
    known = ACTIONS.get(code)
    return known[0] if known else capfirst(code.replace("_", " ").replace(".", ": "))


def action_choices() -> list:
    """The action list of the audit trail's filter: per group, "Any …" (the code prefix, e.g.
    "review_request.") and then each action by its label (the code)."""
    groups: dict[str, list] = {}
    for code, (label, _verb) in ACTIONS.items():
        groups.setdefault(GROUPS.get(code.split(".")[0], "Other"), []).append((code, label))
    prefixes: dict[str, set[str]] = {}
    for code in ACTIONS:
        prefixes.setdefault(GROUPS.get(code.split(".")[0], "Other"), set()).add(
            code.split(".")[0] + ".")
    choices = []
    for group, options in groups.items():
        any_of = [(p, f"Any {p[:-1].replace('_', ' ')} event") for p in sorted(prefixes[group])]
        choices.append((group, any_of + sorted(options, key=lambda o: o[1])))
    return choices


def object_type_choices() -> list[tuple[str, str]]:
    return sorted(((t, capfirst(_noun(t))) for t in OBJECTS), key=lambda c: c[1])


def _noun(object_type: str) -> str:
    noun, _how = OBJECTS.get(object_type, (None, "id"))
    if noun is None:
        try:
            noun = str(apps.get_model(object_type)._meta.verbose_name)
        except (LookupError, ValueError):
            noun = object_type
    for article in ("a ", "the "):
        noun = noun.removeprefix(article)
    for preposition in (" on", " for", " from", " of", ":"):
        noun = noun.removesuffix(preposition)
    return noun


def object_phrase(event) -> str:
    """The object as the sentence names it: "review request #12", "model Atlas 1.0"."""
    noun, how = OBJECTS.get(event.object_type, (_noun(event.object_type), "id"))
    if how == "label" and event.object_label:
        return f"{noun} {event.object_label}"
    label = event.object_label
    if how == "self" and label:
        # "Rubric v2: Default" -> "rubric v2: Default"; an acronym ("API ...") stays.
        return label if label[1:2].isupper() else label[:1].lower() + label[1:]
    request = (event.data or {}).get("request")
    if how == "request" and request:
        return f"{noun} review request #{request}"
    if how == "none":
        return noun
    return f"{_noun(event.object_type)} #{event.object_id}"


def actor_name(event, *, hide_government: bool = False) -> str:
    """Who did it: the person's name (their username when they have none), "The portal" for
    the system. With `hide_government`, anyone in the government is "The agency": developers
    and partners never learn who reviewed (the reviewer-anonymity rule)."""
    if event.actor_id is None:
        return "The portal" if event.actor_label == "system" else event.actor_label
    actor = event.actor
    if hide_government:
        if policy.is_government_member(actor):
            return "The agency"
    return actor.get_full_name() or event.actor_label


def sentence(event, *, hide_government: bool = False) -> str:
    """"Dana Lee submitted review request #12"."""
    known = ACTIONS.get(event.action)
    verb = known[1] if known else f"did {event.action} on"
    return f"{actor_name(event, hide_government=hide_government)} {verb} " \
           f"{object_phrase(event)}."


def _status_label(event, value):
    try:
        field = apps.get_model(event.object_type)._meta.get_field("status")
    except (LookupError, ValueError, FieldDoesNotExist):
        return value
    return dict(field.choices or ()).get(value, value)


def _value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, dict):
        return "; ".join(f"{FIELDS.get(k, capfirst(str(k).replace('_', ' ')))}: {_value(v)}"
                         for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return "; ".join(_value(v) for v in value) or "—"
    return str(value)


@dataclass(frozen=True)
class Field:
    label: str
    value: str


def details(event) -> list[Field]:
    """The event's data as labelled fields, in the order recorded, plus its organisation."""
    fields = []
    for key, value in (event.data or {}).items():
        if key in ("from", "to") and isinstance(value, str):
            value = _status_label(event, value)
        fields.append(Field(FIELDS.get(key, capfirst(key.replace("_", " "))), _value(value)))
    if event.organisation_id is not None:
        fields.append(Field("Organisation", str(event.organisation)))
    return fields
