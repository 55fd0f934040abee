"""Server-rendered case pages. Same selectors and services as the API; whatever the user may
not see answers 404, whatever they may not do answers 403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from clearinghouse import access, case_selectors, cases, embargo
from clearinghouse.forms_cases import (
    AssessmentForm,
    CaseOpenForm,
    CaseStateForm,
    EmbargoExitForm,
    EmbargoForm,
    MessageForm,
    RemediationForm,
    StatementForm,
    VendorAddForm,
)
from clearinghouse.models import Participant
from clearinghouse.workflow import STATEMENT_TRANSITIONS
from exposures import access as exposure_access
from exposures import assessment
from review_portal.pages import call_service, call_service_confirmed
from review_portal.pagination import paginate


def _back(case, anchor: str = ""):
    return redirect(reverse("case_detail", args=[case.pk]) + anchor)


def _require_coordinator(request, case=None):
    if not access.may_coordinate(request.user, case):
        raise PermissionDenied


@login_required
def case_list(request):
    return render(request, "clearinghouse/case_list.html", {
        "cases": paginate(request, case_selectors.cases_for_list(request.user)),
        "coordinates": access.may_coordinate(request.user)})


@login_required
def case_open_view(request):
    _require_coordinator(request)
    form = CaseOpenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = call_service(request, form, lambda: cases.case_open_from_ids(
            actor=request.user, report_ids=form.cleaned_data["reports"],
            title=form.cleaned_data["title"], summary=form.cleaned_data["summary"]))
        if case:
            messages.success(request, f"Case {case.reference} opened.")
            return _back(case)
    return render(request, "clearinghouse/case_form.html", {
        "title": "Open a case", "form": form, "button": "Open the case",
        "back_url": reverse("case_list")})


@login_required
def case_detail(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    page = case_selectors.case_page(user=request.user, case=case)
    thread = paginate(request, case_selectors.messages_of(case).select_related(
        "author__membership"), param="thread_page", fragment="thread")
    cases.thread_label(request.user, case, thread)
    # A vendor sees only its own statements (access.statements_visible_to): it may change each
    # one the transition table lets move, and add remediations to each.
    own = access.is_case_vendor(request.user, case)
    for group in page.vendor_groups:
        for statement in group.statements:
            statement.remediable = own
            statement.editable = own and bool(STATEMENT_TRANSITIONS[statement.status])
    # The coordinator assesses each vulnerability (SSVC exploitation, automatable).
    if page.coordinates:
        current = assessment.assessments_of(page.vulnerabilities)
        for v in page.vulnerabilities:
            v.assessment = current[v.pk]
            v.assessment_form = AssessmentForm(prefix=f"v{v.pk}", initial={
                "exploitation": v.assessment.exploitation,
                "automatable": v.assessment.automatable})
    # Only the coordinator sees who answered the embargo; others get their own and the counts.
    answers = [a.status for a in page.embargo.acceptances.all()] if page.embargo else []
    return render(request, "clearinghouse/case_detail.html", {
        "case": case, "page": page, "thread": thread,
        "acceptance_counts": {"total": len(answers),
                              "accepted": answers.count("accepted")},
        "may_post": cases.may_post(request.user, case),
        "message_form": MessageForm(), "state_form": CaseStateForm(),
        "vendor_form": VendorAddForm() if page.coordinates else None,
        "exit_form": EmbargoExitForm(),
        "ceiling": embargo.embargo_ceiling(case),
        "default_end": embargo.embargo_default_end(case) if page.coordinates else None})


@login_required
@require_POST
def vendor_confirm_view(request, pk, participant_pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    _require_coordinator(request, case)
    participant = get_object_or_404(Participant, pk=participant_pk, case=case)
    if call_service(request, None, lambda: cases.participant_confirm(
            participant=participant, actor=request.user)):
        messages.success(request, "Vendor confirmed and notified.")
    return _back(case, "#participants")


@login_required
@require_POST
def vendors_suggest_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    _require_coordinator(request, case)
    added = call_service(request, None, lambda: cases.vendors_suggest(case=case,
                                                                      actor=request.user))
    messages.success(request, f"{len(added or [])} new vendor(s) suggested.")
    return _back(case, "#participants")


@login_required
@require_POST
def vendor_add_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    _require_coordinator(request, case)
    form = VendorAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a vendor organisation.")
    elif call_service(request, None, lambda: cases.vendor_add(
            case=case, organisation=form.cleaned_data["organisation"], actor=request.user)):
        messages.success(request, "Vendor added and notified.")
    return _back(case, "#participants")


@login_required
@require_POST
def case_state_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    _require_coordinator(request, case)
    form = CaseStateForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a case state.")
        return _back(case, "#states")
    field, reason = form.cleaned_data["field"], form.cleaned_data["reason"]
    label = dict(form.fields["field"].choices)[field]
    consequence = (f"{label} is recorded for {case.reference} as of now, once: it is never "
                   "changed or cleared.")
    if field in ("public_at", "exploit_public_at"):
        consequence += " An embargo in force ends at once, and every participant is told."
    done = call_service_confirmed(request, None, lambda: cases.case_state_set(
        case=case, actor=request.user, field=field, reason=reason), confirmation=dict(
            title=f"Record \"{label}\" on {case.reference}", consequence=consequence,
            button="Record it", details=[("Note", reason)],
            back_url=reverse("case_detail", args=[case.pk])))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, "Case state recorded.")
    return _back(case, "#states")


@login_required
@require_POST
def assessment_set_view(request, pk):
    """The coordinator sets a vulnerability's SSVC exploitation and automatability (the form on
    the case page). Anyone else: 404."""
    vulnerability = exposure_access.assessable_vulnerability_get(user=request.user, pk=pk)
    case = vulnerability.case
    form = AssessmentForm(request.POST, prefix=f"v{vulnerability.pk}")
    if not form.is_valid():
        messages.error(request, "Choose exploitation and automatable, and give the evidence.")
        return _back(case, "#vulns")
    before = assessment.assessment_for(vulnerability).version
    done = call_service(request, None, lambda: assessment.assessment_set(
        vulnerability=vulnerability, actor=request.user, **form.cleaned_data))
    if done is not None:
        messages.success(request, f"Assessment recorded (version {done.version})."
                         if done.version != before else "The assessment is unchanged.")
    return _back(case, "#vulns")


@login_required
@require_POST
def message_post_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    if not cases.may_post(request.user, case):
        raise PermissionDenied
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a message.")
    elif call_service(request, None, lambda: cases.message_post(
            case=case, actor=request.user, body=form.cleaned_data["body"])):
        messages.success(request, "Message posted.")
    return _back(case, "#thread")


@login_required
def statement_edit_view(request, pk):
    statement = case_selectors.statement_get_for_user(user=request.user, pk=pk)
    case = statement.vulnerability.case
    if not (access.is_case_vendor(request.user, case)
            and policy.is_member_of(request.user, statement.vendor_id)):
        raise PermissionDenied
    form = StatementForm(request.POST or None, initial={
        "status": statement.status, "justification": statement.justification,
        "statement": statement.statement})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if call_service(request, form, lambda: cases.statement_update(
                statement=statement, actor=request.user, status=data["status"],
                justification=data["justification"], reason=data["reason"],
                statement_text=data["statement"])):
            messages.success(request, "Statement saved.")
            return _back(case, "#statements")
    return render(request, "clearinghouse/case_statement_form.html", {
        "case": case, "statement": statement, "form": form,
        "allowed": sorted(STATEMENT_TRANSITIONS[statement.status])})


@login_required
def remediation_add_view(request, pk):
    statement = case_selectors.statement_get_for_user(user=request.user, pk=pk)
    case = statement.vulnerability.case
    if not (access.is_case_vendor(request.user, case)
            and policy.is_member_of(request.user, statement.vendor_id)):
        raise PermissionDenied
    form = RemediationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if call_service(request, form, lambda: cases.remediation_add(
                statement=statement, actor=request.user, **form.cleaned_data)):
            messages.success(request, "Remediation recorded.")
            return _back(case, "#statements")
    return render(request, "clearinghouse/case_form.html", {
        "title": f"Remediation for {statement.product_name} ({case.reference})", "form": form,
        "button": "Record the remediation", "back_url": reverse("case_detail", args=[case.pk])})


@login_required
def embargo_propose_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    _require_coordinator(request, case)
    current = case_selectors.embargo_of(case)
    form = EmbargoForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = call_service(request, form, lambda: embargo.embargo_propose(
            case=case, actor=request.user, ends_at=data["ends_at"],
            time_zone=data["timezone"], reason=data["reason"]))
        if done:
            messages.success(request, "Embargo proposed; the participants are asked to accept.")
            return _back(case, "#embargo")
    return render(request, "clearinghouse/embargo_form.html", {
        "case": case, "form": form, "current": current,
        "ceiling": embargo.embargo_ceiling(case),
        "default_end": embargo.embargo_default_end(case)})


@login_required
@require_POST
def embargo_answer_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    current = case_selectors.embargo_of(case)
    if current is None:
        raise PermissionDenied
    accept = request.POST.get("answer") == "accept"
    if call_service(request, None, lambda: embargo.embargo_answer(
            embargo=current, actor=request.user, accept=accept)):
        messages.success(request, "Your answer is recorded.")
    return _back(case, "#embargo")


@login_required
@require_POST
def embargo_exit_view(request, pk):
    case = case_selectors.case_get_for_user(user=request.user, pk=pk)
    _require_coordinator(request, case)
    current = case_selectors.embargo_of(case)
    form = EmbargoExitForm(request.POST)
    if current is None or not form.is_valid():
        messages.error(request, "Say why the embargo ends.")
        return _back(case, "#embargo")
    reason = form.cleaned_data["reason"]
    done = call_service_confirmed(request, None, lambda: embargo.embargo_exit(
        embargo=current, actor=request.user, reason=reason), confirmation=dict(
            title=f"End the embargo of {case.reference} now",
            consequence="The embargo ends for good and every participant is told; it cannot "
                        "be put back.", button="End the embargo", details=[("Reason", reason)],
            back_url=reverse("case_detail", args=[case.pk]) + "#embargo"))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, "Embargo ended.")
    return _back(case, "#embargo")
