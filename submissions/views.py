"""Server-rendered pages for developers, reviewers and program admins."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts import policy
from audit.selectors import audit_events_for_object
from review_portal.errors import ApplicationError
from review_portal.pages import call_service, call_service_confirmed, download_refused
from review_portal.pagination import paginate
from reviews import selectors as review_selectors
from reviews.forms import DeterminationForm, LeadAssignForm, NoteForm
from submissions import selectors, services
from submissions.api import artifact_response
from submissions.artifact_services import artifact_read, artifact_upload
from submissions.forms import (
    ArtifactForm,
    FrontierModelForm,
    MessageForm,
    QuestionForm,
    ReasonForm,
    ReviewRequestForm,
    WindowForm,
)
from submissions.models import AccessWindow, Determination, FrontierModel, ReviewRequest
from submissions.window_services import (
    window_cancel,
    window_change,
    window_may_cancel,
    window_may_schedule,
    window_schedule,
)
from submissions.workflow import AGENCY, DEVELOPER


@login_required
def home(request):
    """Each role's status at a glance: what needs their action, with links to it."""
    from clearinghouse.case_selectors import own_member_profile
    from exposures.services import terms_acceptance_of
    from partners.selectors import own_partner_profile
    from review_portal.glance import home_glances

    operator, vendor = policy.is_operator(request.user), policy.is_vendor(request.user)
    return render(request, "submissions/home.html", {
        "glances": home_glances(request.user),
        "partner_profile": own_partner_profile(request.user),
        "member_profile": own_member_profile(request.user) if operator or vendor else None,
        "operator_terms": terms_acceptance_of(request.user) if operator else None})


# --- models ---------------------------------------------------------------------------------

@login_required
def model_list(request):
    models = selectors.models_visible_to(request.user).annotate(
        open_requests=Count("review_requests",
                            filter=~Q(review_requests__status=ReviewRequest.Status.WITHDRAWN))
    )
    return render(request, "submissions/model_list.html", {
        "models": paginate(request, models), "can_register": policy.is_developer(request.user)})


def _model_initial(model: FrontierModel) -> dict:
    initial = {f: getattr(model, f) for f in services.MODEL_FIELDS}
    # Shown in the zone the page is in (the user's own), and the form says so.
    for f in ("planned_partner_release_at", "planned_public_release_at"):
        initial[f] = timezone.localtime(initial[f]).strftime("%Y-%m-%dT%H:%M")
    initial["timezone"] = timezone.get_current_timezone_name()
    return initial


@login_required
def model_create(request):
    if not policy.is_developer(request.user):
        raise PermissionDenied
    form = FrontierModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "timezone"}
        model = call_service(request, form, lambda: services.model_register(
            actor=request.user, **data))
        if model:
            messages.success(request, f"{model} is registered.")
            return redirect("model_detail", pk=model.pk)
    return render(request, "submissions/model_form.html", {"form": form, "model": None})


@login_required
def model_detail(request, pk):
    model = selectors.model_get_for_user(user=request.user, pk=pk)
    is_dev = policy.is_developer_of(request.user, model)
    windows = paginate(request, model.windows.all(), param="windows_page", fragment="windows")
    for window in windows:
        window.model = model  # one model for the page: the rule reads its organisation
        window.cancellable = window_may_cancel(actor=request.user, window=window)
    return render(request, "submissions/model_detail.html", {
        "model": model,
        "is_developer": is_dev,
        "requests": paginate(request, selectors.requests_visible_to(request.user).filter(
            model=model), param="requests_page", fragment="requests"),
        "determination": selectors.model_current_determination(model=model),
        "is_covered": selectors.model_is_covered(model=model),
        "windows": windows,
        "frozen": selectors.model_has_determination(model=model),
        "request_form": ReviewRequestForm(),
    })


@login_required
def model_edit(request, pk):
    model = selectors.model_get_for_user(user=request.user, pk=pk)
    if not policy.is_developer_of(request.user, model):
        raise PermissionDenied
    form = FrontierModelForm(request.POST or None, initial=_model_initial(model))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "timezone"}
        updated = call_service(request, form, lambda: services.model_update(
            model=model, actor=request.user, **data))
        if updated:
            messages.success(request, "Saved.")
            return redirect("model_detail", pk=model.pk)
    return render(request, "submissions/model_form.html", {
        "form": form, "model": model,
        "frozen": selectors.model_has_determination(model=model)})


# --- requests -------------------------------------------------------------------------------

@login_required
def request_list(request):
    requests = selectors.with_queue_marks(selectors.with_latest_outcome(
        selectors.requests_visible_to(request.user)), user=request.user)
    status = request.GET.get("status")
    if status in ReviewRequest.Status.values:
        requests = requests.filter(status=status)
    page = paginate(request, requests)
    for row in page:
        row.is_my_lead, row.needs_my_action = selectors.queue_marks(user=request.user,
                                                                    review_request=row)
    return render(request, "submissions/request_list.html", {
        "requests": page, "statuses": ReviewRequest.Status.choices, "status": status})


@login_required
@require_POST
def request_create(request, model_pk):
    model = selectors.model_get_for_user(user=request.user, pk=model_pk)
    form = ReviewRequestForm(request.POST)
    if form.is_valid():
        review_request = call_service(request, None, lambda: services.request_create(
            model=model, actor=request.user, cover_note=form.cleaned_data["cover_note"]))
        if review_request:
            messages.success(request, "Draft request created. Add artifacts, then submit it.")
            return redirect("request_detail", pk=review_request.pk)
    return redirect("model_detail", pk=model.pk)


@login_required
def request_detail(request, pk):
    review_request = selectors.request_detail_for_user(user=request.user, pk=pk)
    services.request_view_record(review_request=review_request, actor=request.user)
    return _request_page(request, review_request)


def _request_page(request, review_request, **bound_forms):
    """The request page; `bound_forms` (e.g. artifact_form=...) replace the blank forms, so a
    refused post shows the page again with what was typed and its errors by that form."""
    side = selectors.request_side(user=request.user, review_request=review_request)
    government = side in (AGENCY, "admin")
    # determinations and assignments are prefetched: reading them costs no query.
    has_determination = bool(review_request.determinations.all())
    my_assignment = policy.assignment_of(request.user, review_request)
    # The same rules the services enforce: nothing is offered that would be refused.
    actions = services.request_actions_available(actor=request.user,
                                                 review_request=review_request)
    context = {
        "r": review_request,
        "side": side,
        "government": government,
        "actions": actions,
        "other_actions": [a for a in actions if a != "determine"],  # determine: below evidence
        "thread": _thread(request, review_request),
        "artifacts": paginate(request, selectors.artifacts_for_request(
            review_request=review_request), param="artifacts_page", fragment="artifacts"),
        "history": paginate(request, _history(review_request, government=government)
                            if side else [], param="history_page", fragment="history"),
        "message_form": MessageForm(),
        "question_form": QuestionForm(),
        "determine_form": DeterminationForm(),
        "reason_form": ReasonForm(),
        "artifact_form": ArtifactForm(),
    }
    if government:
        context.update(_review_context(request.user, review_request, my_assignment,
                                       admin=side == "admin"))
    elif side == DEVELOPER and has_determination:
        context["feedback"] = review_selectors.developer_feedback(review_request=review_request)
        # A covered model's next step: its government window.
        context["schedule_window"] = window_may_schedule(actor=request.user,
                                                         model=review_request.model)
    if side == "admin":
        context["assign_form"] = LeadAssignForm(
            reviewers=selectors.reviewers_assignable(review_request=review_request))
    context.update(bound_forms)
    return render(request, "submissions/request_detail.html", context)


def _review_context(user, review_request, my_assignment, *, admin: bool) -> dict:
    """The agency's part of the request page: reviews, the recommendation, recusals."""
    reviews = list(review_selectors.reviews_for_request(user=user, review_request=review_request))
    my_review = next((r for r in reviews if r.reviewer_id == user.pk), None)
    is_lead = policy.is_lead_reviewer(user, review_request)
    return {
        "my_assignment": my_assignment,
        "reviews": [r for r in reviews if r is not my_review],
        "my_review": my_review,
        # What the reviewer is shown of the others: nothing before their own review is in.
        "others_hidden": my_assignment is not None and not is_lead and not (
            my_review and my_review.is_submitted),
        "recommendation": review_selectors.recommendation_compute(review_request=review_request),
        "recuse_form": NoteForm(),
        # Who stepped off the request, and why, is for the program admins.
        "recusals": list(review_selectors.recusals_for_request(review_request=review_request))
        if admin else [],
    }


def _thread(request, review_request):
    """The thread as a conversation, newest last: page 1 (the default) is the latest messages,
    page 2 the ones before them, and so on; a page reads oldest to newest."""
    page = paginate(request, selectors.messages_for_request(
        review_request=review_request).order_by("-created_at", "-id"),
        param="thread_page", fragment="thread")
    page.rows.reverse()
    return page


def _history(review_request, *, government: bool):
    events = audit_events_for_object(obj=review_request).select_related("actor__membership")
    if not government:
        # Who in the agency read the request, and when, is the agency's business.
        events = events.exclude(action="review_request.viewed")
    return events


REQUEST_ACTIONS = {
    "submit": (None, lambda r, u, d: services.request_submit(review_request=r, actor=u)),
    "withdraw": (ReasonForm, lambda r, u, d: services.request_withdraw(
        review_request=r, actor=u, reason=d["reason"])),
    "request_reconsideration": (ReasonForm, lambda r, u, d: services.request_reconsideration(
        review_request=r, actor=u, reason=d["reason"])),
    "start_review": (None, lambda r, u, d: services.request_start_review(review_request=r,
                                                                         actor=u)),
    "request_information": (QuestionForm, lambda r, u, d: services.request_ask_information(
        review_request=r, actor=u, question=d["question"])),
    "determine": (DeterminationForm, lambda r, u, d: services.request_determine(
        review_request=r, actor=u, **d)),
}


# The name of each action form on the request page, to show a refused one again there.
FORM_NAMES = {ReasonForm: "reason_form", QuestionForm: "question_form",
              DeterminationForm: "determine_form"}


def _request_done(review_request, action: str, data: dict) -> str:
    """What the success message says happened, to what."""
    number = f"Request #{review_request.pk}"
    if action == "determine":
        outcome = Determination.Outcome(data["outcome"]).label
        return f"{number} is determined: {outcome.lower()}. The developer is told."
    return {
        "submit": f"{number} is submitted for review.",
        "withdraw": f"{number} is withdrawn.",
        "request_reconsideration": f"Reconsideration of request #{review_request.pk} is "
                                   "requested: it is in review again.",
        "start_review": f"{number} is in review.",
        "request_information": f"Your question is sent: request #{review_request.pk} waits for "
                               "the developer's answer.",
    }[action]


def _request_confirmation(review_request, action: str, data: dict) -> dict | None:
    """What the confirmation page of a weighty move (withdraw, determine) says, or None."""
    back = reverse("request_detail", args=[review_request.pk])
    if action == "withdraw":
        return dict(
            title=f"Withdraw request #{review_request.pk}",
            consequence=f"Request #{review_request.pk} for {review_request.model} is withdrawn: "
                        "the review stops, the agency is told, and the request cannot be "
                        "reopened (you may file a new one).",
            details=[("Reason", data.get("reason", ""))], button="Withdraw the request",
            back_url=back)
    if action == "determine":
        outcome = Determination.Outcome(data["outcome"]).label
        return dict(
            title=f"Record the determination on request #{review_request.pk}",
            consequence=f"The determination that {review_request.model} is "
                        f"\u201c{outcome.lower()}\u201d is recorded on request "
                        f"#{review_request.pk} and sent to the developer with the rationale. "
                        "It cannot be edited; a change takes a reconsideration.",
            details=[("Outcome", outcome), ("Rationale (the developer reads it)",
                                            data.get("rationale", "")),
                     ("Internal notes (agency only)", data.get("internal_notes", "")),
                     ("Override reason (agency only)", data.get("override_reason", ""))],
            button="Record the determination", danger=False, back_url=back)
    return None


@login_required
@require_POST
def request_action(request, pk, action):
    review_request = selectors.request_get_for_user(user=request.user, pk=pk)
    if action not in REQUEST_ACTIONS:
        messages.error(request, "Unknown action.")
        return redirect("request_detail", pk=pk)
    form_class, call = REQUEST_ACTIONS[action]
    form = form_class(request.POST) if form_class is not None else None
    if form is not None and not form.is_valid():
        return _request_page(request, selectors.request_detail_for_user(user=request.user, pk=pk),
                             **{FORM_NAMES[form_class]: form})
    data = form.cleaned_data if form is not None else {}
    confirmation = _request_confirmation(review_request, action, data)

    def act():
        return call(review_request, request.user, data)

    done = (call_service(request, form, act) if confirmation is None else
            call_service_confirmed(request, form, act, confirmation=confirmation))
    if isinstance(done, HttpResponse):
        return done  # the confirmation page
    if done is not None:
        messages.success(request, _request_done(review_request, action, data))
        return redirect("request_detail", pk=pk)
    review_request = selectors.request_detail_for_user(user=request.user, pk=pk)
    if form is None or action not in services.request_actions_available(
            actor=request.user, review_request=review_request):
        # The page no longer shows this action's form: say why it was refused up top.
        for error in form.non_field_errors() if form is not None else []:
            messages.error(request, error)
        return redirect("request_detail", pk=pk)
    return _request_page(request, review_request, **{FORM_NAMES[form_class]: form})


@login_required
@require_POST
def message_create(request, pk):
    review_request = selectors.request_get_for_user(user=request.user, pk=pk)
    form = MessageForm(request.POST)
    if form.is_valid() and call_service(request, form, lambda: services.message_post(
            review_request=review_request, actor=request.user, body=form.cleaned_data["body"])):
        return redirect(reverse("request_detail", args=[pk]) + "#thread")
    return _request_page(request, selectors.request_detail_for_user(user=request.user, pk=pk),
                         message_form=form)


@login_required
@require_POST
def reviewer_assign(request, pk):
    review_request = selectors.request_get_for_user(user=request.user, pk=pk)
    if not policy.is_program_admin(request.user):
        raise PermissionDenied
    # Any active reviewer parses; the service says why one cannot be assigned (conflict, ...).
    form = LeadAssignForm(request.POST, reviewers=selectors.agency_reviewers())
    if form.is_valid() and call_service(request, form, lambda: services.reviewer_assign(
            review_request=review_request, reviewer=form.cleaned_data["reviewer"],
            actor=request.user, is_lead=form.cleaned_data["is_lead"] or None)):
        messages.success(request, "Reviewer assigned.")
        return redirect("request_detail", pk=pk)
    # Shown again, the list offers only those who can still be assigned.
    form.fields["reviewer"].queryset = selectors.reviewers_assignable(
        review_request=review_request)
    return _request_page(request, selectors.request_detail_for_user(user=request.user, pk=pk),
                         assign_form=form)


@login_required
@require_POST
def artifact_create(request, pk):
    review_request = selectors.request_get_for_user(user=request.user, pk=pk)
    form = ArtifactForm(request.POST, request.FILES)
    if form.is_valid() and call_service(request, form, lambda: artifact_upload(
            review_request=review_request, actor=request.user,
            kind=form.cleaned_data["kind"], uploaded_file=form.cleaned_data["file"])):
        messages.success(request, "Uploaded.")
        return redirect(reverse("request_detail", args=[pk]) + "#artifacts")
    # Refused: the page again, the error by the upload form with the kind kept (a browser
    # cannot be given the file back).
    return _request_page(request, selectors.request_detail_for_user(user=request.user, pk=pk),
                         artifact_form=form)


def artifact_download_page(request, artifact):
    """An artifact the caller may read, as a download (the read is audited); a missing file or
    a storage that is down answers its refusal page. Shared by every page that serves one."""
    try:
        data = artifact_read(artifact=artifact, actor=request.user)
    except ApplicationError as exc:  # the stored file is missing, or the storage is down
        return download_refused(exc)
    return artifact_response(artifact, data)


@login_required
def artifact_download(request, pk):
    return artifact_download_page(
        request, selectors.artifact_get_for_user(user=request.user, pk=pk))


# --- windows --------------------------------------------------------------------------------

@login_required
def window_list(request):
    windows = selectors.windows_visible_to(request.user)
    if request.GET.get("flagged") == "1":
        windows = windows.exclude(flag_reason="")
    return render(request, "submissions/window_list.html", {"windows": paginate(request, windows)})


@login_required
def window_edit(request, model_pk):
    """Schedule the government window of a model, or change the one it has."""
    model = selectors.model_get_for_user(user=request.user, pk=model_pk)
    if not policy.is_developer_of(request.user, model):
        raise PermissionDenied
    window = model.windows.filter(kind=AccessWindow.Kind.GOVERNMENT,
                                  status=AccessWindow.Status.SCHEDULED).first()
    initial = {"timezone": timezone.get_current_timezone_name()}
    if window:
        initial |= {f: timezone.localtime(getattr(window, f)).strftime("%Y-%m-%dT%H:%M")
                    for f in ("starts_at", "ends_at")}
    form = WindowForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        if window:
            # The fields carry minutes only: a value left as shown means "unchanged", so keep
            # the stored one to the second (an active window's start must not appear moved).
            for field in ("starts_at", "ends_at"):
                stored = getattr(window, field)
                if d[field] == stored.replace(second=0, microsecond=0):
                    d[field] = stored
            saved = call_service(request, form, lambda: window_change(
                window=window, actor=request.user, starts_at=d["starts_at"], ends_at=d["ends_at"]))
        else:
            saved = call_service(request, form, lambda: window_schedule(
                model=model, actor=request.user, starts_at=d["starts_at"], ends_at=d["ends_at"]))
        if saved:
            messages.success(request, "The government access window is saved.")
            return redirect("model_detail", pk=model.pk)
    return render(request, "submissions/window_form.html", {
        "form": form, "model": model, "window": window,
        "max_days": settings.ACCESS_WINDOW_MAX_DAYS,
        "is_covered": selectors.model_is_covered(model=model)})


@login_required
@require_POST
def window_cancel_view(request, pk):
    window = selectors.window_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    span = f"{window.starts_at:%Y-%m-%d %H:%M} \u2013 {window.ends_at:%Y-%m-%d %H:%M} UTC"
    done = call_service_confirmed(request, None, lambda: window_cancel(
        window=window, actor=request.user, reason=reason), confirmation=dict(
            title=f"Cancel the government access window of {window.model}",
            consequence=f"The window {span} is cancelled: the agency's pre-release access to "
                        f"{window.model} through it does not happen or ends now. You may "
                        "schedule a new window afterwards.",
            details=[("Reason", reason)], button="Cancel the window",
            back_url=reverse("model_detail", args=[window.model_id]) + "#windows"))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"The window {span} for {window.model} is cancelled.")
    return redirect("model_detail", pk=window.model_id)
