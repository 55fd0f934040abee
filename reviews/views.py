"""Pages for conflicts of interest, reviews, recusal, the lead, rubric and policy versions.

Pages for government material answer 404 to everyone else (developers, partners), like the
objects they show; a government user who may see but not act gets 403.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy as access
from review_portal.pages import call_service, call_service_confirmed
from review_portal.pagination import paginate
from reviews import selectors, services
from reviews.forms import (
    ConflictForm,
    DimensionFormSet,
    NoteForm,
    PolicyForm,
    ReviewForm,
    RuleFormSet,
    VersionForm,
    formset_rows,
)
from submissions.selectors import request_get_for_user


def _require_government(user) -> None:
    if not access.is_government(user):
        raise Http404


def _require_admin(user) -> None:
    _require_government(user)
    if not access.is_program_admin(user):
        raise PermissionDenied


# --- conflicts of interest ------------------------------------------------------------------

@login_required
def conflict_list(request):
    _require_government(request.user)
    form = None
    if access.is_agency_reviewer(request.user):
        form = ConflictForm(request.POST or None,
                            organisations=selectors.developer_organisations())
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            if call_service(request, form, lambda: services.conflict_declare(
                    actor=request.user, organisation=d["organisation"], kind=d["kind"],
                    note=d["note"])):
                messages.success(request, "Conflict declared. You will not be assigned to this "
                                          "organisation's requests.")
                return redirect("conflict_list")
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "reviews/conflict_list.html", {
        "conflicts": paginate(request, selectors.conflicts_visible_to(request.user)), "form": form,
        "show_reviewer": access.is_program_admin(request.user)})


# --- assignments: recusal and the lead ------------------------------------------------------

@login_required
@require_POST
def recuse(request, pk):
    review_request = request_get_for_user(user=request.user, pk=pk)
    assignment = access.assignment_of(request.user, review_request)
    if assignment is None:
        raise PermissionDenied
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say why you recuse.")
        return redirect("request_detail", pk=pk)
    lead = "; it has no lead until a program admin names one" if assignment.is_lead else ""
    done = call_service_confirmed(request, None, lambda: services.recusal_record(
        assignment=assignment, actor=request.user, note=form.cleaned_data["note"]),
        confirmation=dict(
            title=f"Recuse from request #{review_request.pk}",
            consequence=f"You step off request #{review_request.pk} ({review_request.model}): "
                        "you lose access to it at once and cannot be assigned to it "
                        f"again{lead}. Program admins see your note.",
            details=[("Note", form.cleaned_data["note"])], button="Recuse",
            back_url=reverse("request_detail", args=[pk])))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"You recused from request #{review_request.pk}; it is no "
                                  "longer in your queue.")
        return redirect("request_list")
    return redirect("request_detail", pk=pk)


@login_required
@require_POST
def lead_set(request, pk):
    assignment = selectors.assignment_get_for_user(user=request.user, pk=pk)
    if call_service(request, None, lambda: services.lead_set(assignment=assignment,
                                                             actor=request.user)):
        messages.success(request, f"{assignment.reviewer.username} is the lead reviewer.")
    return redirect("request_detail", pk=assignment.request_id)


# --- reviews --------------------------------------------------------------------------------

@login_required
def review_edit(request, pk):
    """The current reviewer's own review of request `pk`: write, save as draft, submit."""
    review_request = request_get_for_user(user=request.user, pk=pk)
    if access.assignment_of(request.user, review_request) is None:
        raise PermissionDenied
    review = selectors.review_of(user=request.user, review_request=review_request)
    rubric = review.rubric_version if review else selectors.rubric_active()
    if review is not None and review.is_submitted:
        return redirect("review_detail", pk=review.pk)
    if rubric is None:
        messages.error(request, "No rubric is active; a program admin activates one first.")
        return redirect("request_detail", pk=pk)
    initial = {}
    if review is not None:
        initial = {"recommendation": review.recommendation, "confidence": review.confidence,
                   "comments_for_developer": review.comments_for_developer,
                   "internal_comments": review.internal_comments}
        initial |= {f"score_{k}": str(v) for k, v in review.scores.items()}
    form = ReviewForm(request.POST or None, initial=initial, rubric=rubric)
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST

        def save():
            return services.review_save(review_request=review_request, actor=request.user,
                                        submit=submit, **form.service_fields())

        confirmation = None
        if submit:  # final: the confirmation says so before anything is written
            confirmation = dict(
                title=f"Submit your review of request #{review_request.pk}",
                consequence=f"Your review of request #{review_request.pk} "
                            f"({review_request.model}) is submitted and final: it can no "
                            "longer be changed, and the lead and the other reviewers who "
                            "submitted theirs can read it.",
                details=[("Overall recommendation",
                          dict(form.fields["recommendation"].choices).get(
                              form.cleaned_data.get("recommendation"), "")),
                         ("Confidence", dict(form.fields["confidence"].choices).get(
                             form.cleaned_data.get("confidence"), ""))],
                button="Submit the review", danger=False,
                back_url=reverse("review_edit", args=[pk]))
        saved = (call_service(request, form, save) if confirmation is None else
                 call_service_confirmed(request, form, save, confirmation=confirmation))
        if isinstance(saved, HttpResponse):
            return saved
        if saved:
            if submit:
                messages.success(request, f"Your review of request #{review_request.pk} is "
                                          "submitted. You can now read the other submitted "
                                          "reviews.")
                return redirect(reverse("request_detail", args=[pk]) + "#reviews")
            messages.success(request, f"Your draft review of request #{review_request.pk} "
                                      "is saved.")
            return redirect("review_edit", pk=pk)
    return render(request, "reviews/review_form.html", {
        "r": review_request, "review": review, "rubric": rubric, "form": form})


@login_required
def review_detail(request, pk):
    review = selectors.review_get_for_user(user=request.user, pk=pk)
    return render(request, "reviews/review_detail.html", {
        "review": review, "r": review.request,
        "scores": [(d, review.scores.get(d["key"])) for d in review.rubric_version.dimensions]})


# --- rubrics --------------------------------------------------------------------------------

@login_required
def rubric_list(request):
    _require_government(request.user)
    return render(request, "reviews/rubric_list.html", {
        "rubrics": paginate(request, selectors.rubrics_visible_to(request.user)),
        "can_edit": access.is_program_admin(request.user)})


@login_required
def rubric_detail(request, pk):
    rubric = selectors.rubric_get_for_user(user=request.user, pk=pk)
    return render(request, "reviews/rubric_detail.html", {
        "rubric": rubric, "can_edit": access.is_program_admin(request.user)})


def _rubric_form(request, rubric=None, copy_from=None):
    source = rubric or copy_from
    initial = [dict(d) for d in source.dimensions] if source else []
    form = VersionForm(request.POST or None, initial={"name": source.name} if source else {})
    # Initial rows only on the blank form: a bound formset compares each row with its initial
    # values and would take a row left as it was for an empty one.
    formset = DimensionFormSet(request.POST or None,
                               initial=None if request.method == "POST" else initial,
                               prefix="dim")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        d, rows = form.cleaned_data, formset_rows(formset)
        if rubric is None:
            saved = call_service(request, form, lambda: services.rubric_create(
                actor=request.user, name=d["name"], dimensions=rows, activate=d["activate"]))
        else:
            saved = call_service(request, form, lambda: services.rubric_update(
                rubric=rubric, actor=request.user, name=d["name"], dimensions=rows,
                activate=d["activate"]))
        if saved:
            messages.success(request, f"Rubric v{saved.number} saved.")
            return redirect("rubric_detail", pk=saved.pk)
    return render(request, "reviews/version_form.html", {
        "form": form, "formset": formset, "obj": rubric, "kind": "rubric",
        "title": f"Edit rubric v{rubric.number}" if rubric else "New rubric version"})


@login_required
def rubric_create(request):
    _require_admin(request.user)
    return _rubric_form(request, copy_from=selectors.rubric_active())


@login_required
def rubric_edit(request, pk):
    rubric = selectors.rubric_get_for_user(user=request.user, pk=pk)
    _require_admin(request.user)
    if call_service(request, None, lambda: services.rubric_check_editable(rubric=rubric)) is None:
        return redirect("rubric_detail", pk=pk)
    return _rubric_form(request, rubric=rubric)


def _activate_version(request, version, *, noun: str, current, activate, effect: str,
                      kept: str, detail: str):
    """Make a rubric or threshold-policy version the active one, confirmed first: `noun` is
    "rubric" or "policy", `current` the active version it replaces, `effect` what the new
    version is used for from now on, `kept` what keeps the version it rests on."""
    if version.is_active:
        messages.info(request, f"{noun.capitalize()} v{version.number} is already the active "
                               f"{noun}.")
        return redirect(detail, pk=version.pk)
    done = call_service_confirmed(request, None, activate, confirmation=dict(
        title=f"Make {noun} v{version.number} the active {noun}",
        consequence=f"{noun.capitalize()} v{version.number} ({version.name}) becomes the "
                    f"{effect}{f', in place of v{current.number}' if current else ''}. "
                    f"{kept}",
        button=f"Make it the active {noun}", danger=False,
        back_url=reverse(detail, args=[version.pk])))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"{noun.capitalize()} v{version.number} is now the active "
                                  f"{noun}.")
    return redirect(detail, pk=version.pk)


@login_required
@require_POST
def rubric_activate(request, pk):
    rubric = selectors.rubric_get_for_user(user=request.user, pk=pk)
    _require_admin(request.user)
    return _activate_version(
        request, rubric, noun="rubric", current=selectors.rubric_active(),
        activate=lambda: services.rubric_activate(rubric=rubric, actor=request.user),
        effect="rubric every review started from now on is scored with",
        kept="Reviews already started, drafts included, keep the version they began with.",
        detail="rubric_detail")


# --- threshold policies ---------------------------------------------------------------------

@login_required
def policy_list(request):
    _require_government(request.user)
    return render(request, "reviews/policy_list.html", {
        "policies": paginate(request, selectors.policies_visible_to(request.user)),
        "can_edit": access.is_program_admin(request.user)})


@login_required
def policy_detail(request, pk):
    policy = selectors.policy_get_for_user(user=request.user, pk=pk)
    return render(request, "reviews/policy_detail.html", {
        "policy": policy, "can_edit": access.is_program_admin(request.user)})


def _policy_form(request, policy=None, copy_from=None):
    source = policy or copy_from
    initial = [{"kind": r.kind, "category": r.category, "threshold": r.threshold,
                "citation": r.citation} for r in source.rules.all()] if source else []
    form = PolicyForm(request.POST or None,
                      initial={"name": source.name, "notes": source.notes} if source else {})
    formset = RuleFormSet(request.POST or None,
                          initial=None if request.method == "POST" else initial, prefix="rule")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        d, rows = form.cleaned_data, formset_rows(formset)
        if policy is None:
            saved = call_service(request, form, lambda: services.policy_create(
                actor=request.user, name=d["name"], notes=d["notes"], rules=rows,
                activate=d["activate"]))
        else:
            saved = call_service(request, form, lambda: services.policy_update(
                policy=policy, actor=request.user, name=d["name"], notes=d["notes"],
                rules=rows, activate=d["activate"]))
        if saved:
            messages.success(request, f"Policy v{saved.number} saved.")
            return redirect("policy_detail", pk=saved.pk)
    return render(request, "reviews/version_form.html", {
        "form": form, "formset": formset, "obj": policy, "kind": "policy",
        "title": f"Edit policy v{policy.number}" if policy else "New policy version"})


@login_required
def policy_create(request):
    _require_admin(request.user)
    return _policy_form(request, copy_from=selectors.policy_active())


@login_required
def policy_edit(request, pk):
    policy = selectors.policy_get_for_user(user=request.user, pk=pk)
    _require_admin(request.user)
    if call_service(request, None, lambda: services.policy_check_editable(policy=policy)) is None:
        return redirect("policy_detail", pk=pk)
    return _policy_form(request, policy=policy)


@login_required
@require_POST
def policy_activate(request, pk):
    policy = selectors.policy_get_for_user(user=request.user, pk=pk)
    _require_admin(request.user)
    return _activate_version(
        request, policy, noun="policy", current=selectors.policy_active(),
        activate=lambda: services.policy_activate(policy=policy, actor=request.user),
        effect="threshold policy every recommendation is computed with from now on",
        kept="Determinations already recorded keep the version they rest on.",
        detail="policy_detail")
