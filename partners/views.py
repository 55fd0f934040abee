"""Server-rendered pages for trusted partners. Same selectors and services as the API."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import is_program_admin
from partners import selectors, services
from partners.workflow import REQUEST_TRANSITIONS
from review_portal.pages import call_service


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


@login_required
def partner_list(request):
    return render(request, "partners/partner_list.html", {
        "profiles": selectors.partner_profiles_visible_to(request.user),
        "is_admin": is_program_admin(request.user), "reason_form": ReasonForm()})


@login_required
@require_POST
def partner_action(request, pk, action):
    profile = selectors.partner_profile_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    if call_service(request, None, lambda: services.partner_transition(
            profile=profile, actor=request.user, action=action,
            reason=form.cleaned_data.get("reason", ""))):
        messages.success(request, "Done.")
    return redirect("partner_list")


@login_required
def access_request_list(request):
    return render(request, "partners/access_request_list.html", {
        "requests": selectors.access_requests_visible_to(request.user)})


@login_required
def access_request_detail(request, pk):
    access_request = selectors.access_request_get_for_user(user=request.user, pk=pk)
    side = services.access_request_side(user=request.user, access_request=access_request)
    actions = [t.action for t in REQUEST_TRANSITIONS.values()
               if access_request.status in t.sources and side in t.sides]
    return render(request, "partners/access_request_detail.html", {
        "r": access_request, "actions": actions, "reason_form": ReasonForm()})


REQUEST_ACTIONS = {
    "approve": lambda r, u, reason: services.access_request_approve(access_request=r, actor=u),
    "deny": lambda r, u, reason: services.access_request_deny(access_request=r, actor=u,
                                                             reason=reason),
    "reconsider": lambda r, u, reason: services.access_request_reconsider(
        access_request=r, actor=u, reason=reason),
    "withdraw": lambda r, u, reason: services.access_request_withdraw(access_request=r,
                                                                     actor=u, reason=reason),
}


@login_required
@require_POST
def access_request_action(request, pk, action):
    access_request = selectors.access_request_get_for_user(user=request.user, pk=pk)
    if action not in REQUEST_ACTIONS:
        messages.error(request, "Unknown action.")
        return redirect("access_request_detail", pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    if call_service(request, None, lambda: REQUEST_ACTIONS[action](
            access_request, request.user, form.cleaned_data.get("reason", ""))):
        messages.success(request, "Done.")
    return redirect("access_request_detail", pk=pk)


@login_required
def grant_list(request):
    grants = list(selectors.grants_visible_to(request.user))
    for grant in grants:
        grant.live = selectors.grant_is_live(grant)
    return render(request, "partners/grant_list.html", {
        "grants": grants, "reason_form": ReasonForm()})


@login_required
@require_POST
def grant_revoke_view(request, pk):
    grant = selectors.grant_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    if call_service(request, None, lambda: services.grant_revoke(
            grant=grant, actor=request.user, reason=form.cleaned_data.get("reason", ""))):
        messages.success(request, "Access revoked.")
    return redirect("grant_list")


@login_required
def granted_model_detail(request, pk):
    """What a partner sees of a model while its grant is live: 404 otherwise."""
    model = selectors.granted_model_get_for_user(user=request.user, pk=pk)
    return render(request, "partners/granted_model.html", {
        "model": model,
        "artifacts": selectors.shareable_artifacts_for_partner(user=request.user, model=model)})
