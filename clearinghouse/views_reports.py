"""The intake's pages: reports (list, file, detail with its actions), proofs of concept, the
coordinator's triage queue and the reporters' yields. Each view parses, asks access.py or
intake_selectors.py for what the user may see, calls one service from intake.py and renders.
A report the user may not see answers 404; an action they may not take, 403."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from clearinghouse import access, intake, intake_artifacts, intake_selectors
from clearinghouse.api_reports import report_artifact_response
from clearinghouse.forms_reports import (
    ProductFormSet,
    ReportArtifactForm,
    ReportForm,
    TransitionForm,
    VerificationForm,
)
from clearinghouse.models import Report
from clearinghouse.workflow import REPORT_TRANSITIONS
from review_portal.errors import ApplicationError
from review_portal.pages import call_service, call_service_confirmed, download_refused
from review_portal.pagination import paginate

TRIAGE_ACTIONS = ("validate", "invalidate", "accept", "defer", "close")
# action -> (title, consequence, button) of its confirmation page.
CONFIRMED_ACTIONS = {
    "invalidate": ("Find report #{pk} invalid?", "The reporter is told, and the report leaves "
                   "the triage queue. It may be found valid later. This is recorded in the "
                   "audit trail.", "Find it invalid"),
    "close": ("Close report #{pk}?", "A closed report takes no more verifications, files or "
              "moves, and the reporter is told. This is recorded in the audit trail.",
              "Close the report"),
    "withdraw": ("Withdraw report #{pk}?", "The clearinghouse stops working on it and the "
                 "report is closed as withdrawn; it cannot be reopened. This is recorded in "
                 "the audit trail.", "Withdraw the report"),
}


@login_required
def report_list(request):
    reports = intake_selectors.reports_for_list(request.user)
    status = request.GET.get("status", "")
    if status in Report.Status.values:
        reports = reports.filter(status=status)
    return render(request, "clearinghouse/report_list.html", {
        "reports": paginate(request, reports), "status": status,
        "statuses": Report.Status.choices,
        "may_file": policy.may_file_report(request.user),
        "is_coordinator": policy.is_clearinghouse_coordinator(request.user)})


def _run_for(user, pk):
    from evaluations.selectors import runs_visible_to

    return get_object_or_404(runs_visible_to(user), pk=pk)


@login_required
def report_create(request):
    """File a report; from an evaluation run (?run=N) the provenance comes pre-filled."""
    if not policy.may_file_report(request.user):
        raise PermissionDenied
    run_pk = request.POST.get("evaluation_run") or request.GET.get("run")
    plain = run_pk and re.fullmatch(r"[0-9]+", str(run_pk))
    run = _run_for(request.user, run_pk) if plain else None
    if run_pk and run is None:
        raise PermissionDenied
    provenance = intake.report_initial_from_run(actor=request.user, run=run) if run else {}
    initial = {k: provenance[k] for k in ("finder_model_name", "finder_model_version",
                                          "harness") if k in provenance}
    if run:
        initial["evaluation_run"] = run.pk
    form = ReportForm(request.POST or None, initial=initial)
    products = ProductFormSet(request.POST or None, prefix="products")
    if request.method == "POST" and form.is_valid() & products.is_valid():
        d = form.cleaned_data
        d.pop("timezone", None)
        d.pop("evaluation_run", None)
        rows = [p.cleaned_data for p in products if p.cleaned_data]
        report = call_service(request, form, lambda: intake.report_file(
            actor=request.user, products=rows,
            finder_model=provenance.get("finder_model"), evaluation_run=run,
            channel=Report.Channel.EVALUATION if run else Report.Channel.WEB, **d))
        if report:
            if report.needs_more_info:
                messages.warning(request, f"Report #{report.pk} is filed, but it needs a full "
                                          "threat model and an affected product before it "
                                          "can become valid.")
            else:
                messages.success(request, f"Report #{report.pk} is filed with the "
                                          "clearinghouse.")
            return redirect("report_detail", pk=report.pk)
    return render(request, "clearinghouse/report_form.html", {
        "form": form, "products": products, "run": run})


def person_label(viewer, person) -> str:
    """Who verified or validated, as the viewer may learn it: a government member is "The
    agency" to anyone outside the government (the reviewer-anonymity rule)."""
    if policy.is_government_member(person) and not policy.sees_agency_identities(viewer):
        return "The agency"
    return person.get_full_name() or person.username


def _offered_actions(user, report: Report) -> list[str]:
    """The triage moves the page offers this user now (the service decides again)."""
    if policy.is_clearinghouse_coordinator(user):
        return [a for a in TRIAGE_ACTIONS if report.status in REPORT_TRANSITIONS[a][0]]
    return []


def _may_withdraw(user, report: Report) -> bool:
    return (access.is_reporter_of(user, report)
            and report.status in REPORT_TRANSITIONS["close"][0])


@login_required
def report_detail(request, pk):
    report = access.report_get_for_user(user=request.user, pk=pk)
    user = request.user
    is_coordinator = policy.is_clearinghouse_coordinator(user)
    artifacts = list(report.artifacts.select_related("report"))
    return render(request, "clearinghouse/report_detail.html", {
        "report": report,
        "products": access.product_claims_visible_to(user, report),
        "verifications": [(v, person_label(user, v.verified_by))
                          for v in report.verifications.select_related("verified_by")],
        "validator_label": person_label(user, report.human_validated_by)
        if report.human_validated_by_id else "",
        "artifacts": [(a, access.may_download_artifact(user, a)) for a in artifacts],
        "candidates": intake_selectors.candidates_for(user, report),
        "reporter_yield": intake_selectors.yield_of(report.organisation_id)
        if is_coordinator else None,
        "is_coordinator": is_coordinator,
        "actions": _offered_actions(user, report),
        "may_withdraw": _may_withdraw(user, report),
        "may_validate_by_person": report.human_validated_by_id is None
        and report.status != Report.Status.CLOSED
        and (access.is_reporter_of(user, report) or is_coordinator),
        "may_verify": policy.may_verify_report(user) and report.status != Report.Status.CLOSED,
        "may_upload": report.status != Report.Status.CLOSED
        and (access.is_reporter_of(user, report) or is_coordinator),
        "reaches_vendors": access.report_reaches_vendors(report),
        "transition_form": TransitionForm(),
        "verification_form": VerificationForm(),
        "artifact_form": ReportArtifactForm(),
    })


@login_required
@require_POST
def report_action(request, pk, action):
    report = access.report_get_for_user(user=request.user, pk=pk)
    if action not in (*TRIAGE_ACTIONS, "withdraw"):
        raise PermissionDenied
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The action's fields are not valid.")
        return redirect("report_detail", pk=pk)
    d = form.cleaned_data
    duplicate_of = None
    if d.get("duplicate_of"):
        duplicate_of = access.reports_visible_to(request.user).filter(
            pk=d["duplicate_of"]).first()
        if duplicate_of is None:
            messages.error(request, f"There is no report #{d['duplicate_of']}.")
            return redirect("report_detail", pk=pk)
    def move():
        return intake.report_transition(
            report=report, actor=request.user, action=action, reason=d.get("reason", ""),
            close_reason=d.get("close_reason", ""), duplicate_of=duplicate_of,
            override_reason=d.get("override_reason", ""))

    if action in CONFIRMED_ACTIONS:
        # Ending a report's life is weighty: the confirmation page says what follows first.
        title, consequence, button = CONFIRMED_ACTIONS[action]
        done = call_service_confirmed(request, None, move, confirmation={
            "title": title.format(pk=report.pk), "consequence": consequence, "button": button,
            "back_url": reverse("report_detail", args=[report.pk]),
            "details": [("Close reason", Report.CloseReason(d["close_reason"]).label
                         if d.get("close_reason") in Report.CloseReason.values else ""),
                        ("Duplicate of", f"Report #{duplicate_of.pk}" if duplicate_of else ""),
                        ("Reason", d.get("reason", ""))]})
        if isinstance(done, HttpResponse):
            return done
    else:
        done = call_service(request, None, move)
    if done:
        messages.success(request, f"Report #{report.pk}: {intake.ACTION_LABELS[action]}.")
    return redirect("report_detail", pk=pk)


@login_required
@require_POST
def report_human_validate_view(request, pk):
    report = access.report_get_for_user(user=request.user, pk=pk)
    if call_service(request, None, lambda: intake.report_human_validate(
            report=report, actor=request.user)):
        messages.success(request, f"You are recorded as the person who validated report "
                                  f"#{report.pk}.")
    return redirect("report_detail", pk=pk)


@login_required
@require_POST
def verification_create(request, pk):
    report = access.report_get_for_user(user=request.user, pk=pk)
    if not policy.may_verify_report(request.user):
        raise PermissionDenied
    form = VerificationForm(request.POST)
    if form.is_valid() and call_service(request, None, lambda: intake.verification_record(
            report=report, actor=request.user, **form.cleaned_data)):
        messages.success(request, "The verification is recorded.")
    elif not form.is_valid():
        messages.error(request, "The verification is not recorded: " + "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()))
    return redirect("report_detail", pk=pk)


@login_required
@require_POST
def report_artifact_create(request, pk):
    report = access.report_get_for_user(user=request.user, pk=pk)
    form = ReportArtifactForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose what the file is and the file.")
    elif call_service(request, None, lambda: intake_artifacts.report_artifact_upload(
            report=report, actor=request.user, kind=form.cleaned_data["kind"],
            uploaded_file=form.cleaned_data["file"])):
        messages.success(request, "The file is stored, encrypted.")
    return redirect("report_detail", pk=pk)


@login_required
def report_artifact_download(request, pk):
    artifact = access.artifact_get_for_user(user=request.user, pk=pk)
    try:
        data = intake_artifacts.report_artifact_read(artifact=artifact, actor=request.user)
    except ApplicationError as exc:
        return download_refused(exc)
    return report_artifact_response(artifact, data)


@login_required
def triage_queue(request):
    if not policy.is_clearinghouse_coordinator(request.user):
        raise PermissionDenied
    page = paginate(request, intake_selectors.triage_queue(request.user))
    yields = intake_selectors.yields_by_organisation(r.organisation_id for r in page)
    return render(request, "clearinghouse/report_triage.html", {
        "reports": page, "rows": [(r, yields.get(r.organisation_id)) for r in page]})


@login_required
def reporter_list(request):
    if not policy.is_clearinghouse_coordinator(request.user):
        raise PermissionDenied
    return render(request, "clearinghouse/report_reporters.html", {
        "organisations": paginate(
            request, intake_selectors.reporter_organisations_with_yield(request.user))})
