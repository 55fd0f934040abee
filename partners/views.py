"""Server-rendered pages for trusted partners. Same selectors and services as the API."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from accounts.policy import is_program_admin
from notifications.services import granted_model_viewed
from partners import gateway, selectors, services
from partners.models import PartnerProfile
from partners.workflow import PROFILE_TRANSITIONS
from review_portal.pages import call_service, call_service_confirmed
from review_portal.pagination import paginate
from submissions.artifact_services import artifact_set_shareable
from submissions.forms import LocalDateTimeInput, ZonedForm
from submissions.models import FrontierModel
from submissions.selectors import artifact_get_for_user, model_get_for_user
from submissions.views import artifact_download_page


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


@login_required
def partner_list(request):
    profiles = paginate(request, selectors.partner_profiles_visible_to(request.user))
    for profile in profiles:
        profile.details_visible = policy.sees_partner_details(request.user, profile)
        profile.actions = services.partner_actions_available(user=request.user, profile=profile)
    return render(request, "partners/partner_list.html", {
        "profiles": profiles, "is_admin": is_program_admin(request.user),
        "reason_form": ReasonForm()})


def _partner_move_confirmation(profile: PartnerProfile, action: str, reason: str) -> dict:
    """What the confirmation page of a vetting move says (shown only if the move is allowed)."""
    name = profile.organisation.name
    title, consequence, button = {
        "vet": (f"Vet {name} as a trusted partner",
                f"{name} becomes a vetted partner organisation: its members may request early "
                "access to covered models"
                + (", and the grants it still holds work again at once"
                   if profile.status == PartnerProfile.Status.SUSPENDED else "")
                + ". Its members are told.",
                "Vet the organisation"),
        "suspend": (f"Suspend {name}",
                    f"{name} loses its early access at once: its grants stop working, gateway "
                    "tokens included, and its members cannot request access until a program "
                    "admin vets it again. Its members are told.",
                    "Suspend the organisation"),
        "revoke": (f"Revoke {name} as a trusted partner",
                   f"{name} loses its early access at once and for good: every grant it holds "
                   "is revoked and the organisation cannot be vetted again. Its members are "
                   "told.",
                   "Revoke the organisation"),
    }[action]
    return dict(title=title, consequence=consequence, button=button,
                details=[("Reason", reason)], danger=action != "vet",
                back_url=reverse("partner_list"))


@login_required
@require_POST
def partner_action(request, pk, action):
    profile = selectors.partner_profile_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    if action not in PROFILE_TRANSITIONS:
        messages.error(request, "Unknown action.")
        return redirect("partner_list")
    reason = form.cleaned_data.get("reason", "")
    done = call_service_confirmed(request, None, lambda: services.partner_transition(
        profile=profile, actor=request.user, action=action, reason=reason),
        confirmation=_partner_move_confirmation(profile, action, reason))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"{done.organisation.name} is now "
                                  f"{done.get_status_display().lower()}.")
    return redirect("partner_list")


@login_required
def access_request_list(request):
    return render(request, "partners/access_request_list.html", {
        "requests": paginate(request, selectors.access_requests_visible_to(request.user))})


@login_required
def access_request_detail(request, pk):
    access_request = selectors.access_request_get_for_user(user=request.user, pk=pk)
    return _access_request_page(request, access_request)


def _access_request_page(request, access_request, accept_form=None):
    """The request's page; `accept_form` is a refused acceptance, shown with its errors."""
    actions = services.access_request_actions_available(user=request.user,
                                                        access_request=access_request)
    terms = selectors.terms_current(model=access_request.model)
    is_partner = policy.is_partner_member(request.user,
                                          access_request.organisation_id)
    accepted = terms is not None and terms.acceptances.filter(
        organisation_id=access_request.organisation_id).exists()
    if accept_form is None and terms is not None:
        accept_form = AcceptForm(initial={"version": terms.version})
    elif accept_form is not None and terms is not None:
        # The terms shown are the current ones; if they changed while the partner read the
        # old ones, the form now carries the version on the page, so accepting again accepts
        # what the partner has just read, not the version that was refused.
        accept_form.data = accept_form.data.copy()
        accept_form.data["version"] = str(terms.version)
    return render(request, "partners/access_request_detail.html", {
        "r": access_request, "actions": actions, "reason_form": ReasonForm(),
        "agency_approval": selectors.agency_approver_label(user=request.user,
                                                           access_request=access_request),
        "terms": terms, "terms_accepted": accepted, "is_partner": is_partner,
        "accept_form": accept_form if terms else None})


REQUEST_ACTIONS = {
    "approve": lambda r, u, reason: services.access_request_approve(access_request=r, actor=u),
    "deny": lambda r, u, reason: services.access_request_deny(access_request=r, actor=u,
                                                             reason=reason),
    "reconsider": lambda r, u, reason: services.access_request_reconsider(
        access_request=r, actor=u, reason=reason),
    "withdraw": lambda r, u, reason: services.access_request_withdraw(access_request=r,
                                                                     actor=u, reason=reason),
}


ACCESS_REQUEST_DONE = {
    "approve": "Access request #{n} is approved on your side.",
    "deny": "Access request #{n} is denied.",
    "reconsider": "Reconsideration of access request #{n} is requested: both sides approve "
                  "again.",
    "withdraw": "Access request #{n} is withdrawn.",
}


def _denial_confirmation(access_request, reason: str) -> dict:
    final = ("This request was reconsidered once already: the denial is final."
             if access_request.reconsidered_at else
             "They may ask once for reconsideration.")
    return dict(
        title=f"Deny access request #{access_request.pk}",
        consequence=f"{access_request.organisation.name}'s request for early access to "
                    f"{access_request.model} is denied: no grant is made. The partner's "
                    f"members are told, and see your reason. {final}",
        details=[("Reason", reason)], button="Deny the request",
        back_url=reverse("access_request_detail", args=[access_request.pk]))


@login_required
@require_POST
def access_request_action(request, pk, action):
    access_request = selectors.access_request_get_for_user(user=request.user, pk=pk)
    if action not in REQUEST_ACTIONS:
        messages.error(request, "Unknown action.")
        return redirect("access_request_detail", pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")

    def act():
        return REQUEST_ACTIONS[action](access_request, request.user, reason)

    if action == "deny":
        done = call_service_confirmed(request, None, act,
                                      confirmation=_denial_confirmation(access_request, reason))
        if isinstance(done, HttpResponse):
            return done
    else:
        done = call_service(request, None, act)
    if done:
        message = ACCESS_REQUEST_DONE[action].format(n=access_request.pk)
        if action == "approve":
            message += (" Both sides have approved now." if done.status != "pending"
                        else " It waits for the other side's approval.")
        messages.success(request, message)
    return redirect("access_request_detail", pk=pk)


@login_required
def grant_list(request):
    grants = paginate(request, selectors.grants_visible_to(request.user))
    for grant in grants:
        grant.live = policy.grant_is_live(grant)
        grant.revocable = services.grant_may_revoke(user=request.user, grant=grant)
    return render(request, "partners/grant_list.html", {
        "grants": grants, "reason_form": ReasonForm()})


@login_required
@require_POST
def grant_revoke_view(request, pk):
    grant = selectors.grant_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    done = call_service_confirmed(request, None, lambda: services.grant_revoke(
        grant=grant, actor=request.user, reason=reason), confirmation=dict(
            title=f"Revoke grant #{grant.pk}",
            consequence=f"{grant.organisation.name} loses its early access to {grant.model} "
                        "at once, for good: its gateway token stops working and its members "
                        "are told. A new grant takes a new access request.",
            details=[("Reason", reason)], button="Revoke the grant",
            back_url=reverse("grant_list")))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"Grant #{grant.pk} is revoked: {grant.organisation.name} "
                                  f"no longer has access to {grant.model}.")
    return redirect("grant_list")


@login_required
def granted_model_detail(request, pk):
    """The old address of the granted-model page (by model): the organisation's grant on it."""
    grant = selectors.partner_grant_for_model(user=request.user, model_pk=pk)
    return redirect("grant_detail", pk=grant.pk)


def _granted_model_page(request, grant, *, token: str | None = None):
    status = selectors.grant_status(grant)
    artifacts = None
    if status.live:
        granted_model_viewed(organisation_id=grant.organisation_id, model_id=grant.model_id)
        artifacts = paginate(request, selectors.shareable_artifacts_for_partner(
            user=request.user, model=grant.model))
    published = gateway.gateway_published_of(model_id=grant.model_id)
    response = render(request, "partners/granted_model.html", {
        "grant": grant, "model": grant.model, "status": status,
        "acceptance": grant.terms_acceptance, "artifacts": artifacts,
        "gateway_url": gateway.gateway_address_of(published),
        "gateway_published": published,
        "token": token})
    # A page that may carry a freshly issued token is never cached by anyone.
    response["Cache-Control"] = "no-store"
    return response


@login_required
def grant_detail(request, pk):
    """The granted-model page: a partner member's own grant, live or not; 404 for anyone else.
    The gateway address, the token and the documents are offered only while it is live."""
    grant = selectors.partner_grant_get_for_user(user=request.user, pk=pk)
    return _granted_model_page(request, grant)


@login_required
@require_POST
def grant_token_view(request, pk):
    """Issue or rotate the grant's gateway token: the new token is on this answer only (never
    stored, never in a redirect or the session); the previous one stops working at once."""
    grant = selectors.partner_grant_get_for_user(user=request.user, pk=pk)
    issued = call_service(request, None, lambda: services.grant_issue_token(
        grant=grant, actor=request.user))
    if issued is None:
        return redirect("grant_detail", pk=grant.pk)
    grant = selectors.partner_grant_get_for_user(user=request.user, pk=pk)
    return _granted_model_page(request, grant, token=issued[1])


@login_required
def partner_artifact_download(request, pk):
    """A document the developer shared, for a partner whose grant on its model is live."""
    return artifact_download_page(
        request, selectors.partner_artifact_get_for_user(user=request.user, pk=pk))


# --- forms for partners and developers ------------------------------------------------------

class ApplyForm(forms.Form):
    sector = forms.ChoiceField(choices=PartnerProfile.Sector.choices)
    protects = forms.CharField(label="What your organisation protects",
                               widget=forms.Textarea(attrs={"rows": 2}))
    contact_name = forms.CharField(max_length=200)
    contact_email = forms.EmailField()
    contact_phone = forms.CharField(max_length=50, required=False)
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ModelChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj} ({obj.organisation.name})"


class WindowRequestForm(ZonedForm):
    model = ModelChoice(
        queryset=FrontierModel.objects.none(), label="Model",
        empty_label="Choose a model",
        help_text="Covered models whose public release is still ahead.",
        error_messages={"invalid_choice": "Choose one of the models listed: early access is "
                        "for covered models before their public release."})
    starts_at = forms.DateTimeField(label="Access starts", widget=LocalDateTimeInput())
    ends_at = forms.DateTimeField(label="Access ends", widget=LocalDateTimeInput())
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    zoned_fields = ("starts_at", "ends_at")
    field_order = ["model", "starts_at", "ends_at", "timezone", "justification"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "model" in self.fields:
            self.fields["model"].queryset = selectors.requestable_models(user)


class InviteForm(WindowRequestForm):
    organisation = forms.ModelChoiceField(queryset=None, label="Vetted partner organisation")
    field_order = ["organisation", "starts_at", "ends_at", "timezone", "justification"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["model"]
        self.fields["organisation"].queryset = selectors.vetted_partner_organisations()


class TermsForm(forms.Form):
    text = forms.CharField(label="Terms of access", widget=forms.Textarea(attrs={"rows": 8}))


class AcceptForm(forms.Form):
    accepted_name = forms.CharField(label="Your full name", max_length=200,
                                    error_messages={"required": "Type your full name to accept "
                                                                "the terms."})
    version = forms.IntegerField(widget=forms.HiddenInput())


@login_required
def partner_apply_view(request):
    form = ApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if call_service(request, form, lambda: services.partner_apply(
                actor=request.user, **form.cleaned_data)):
            messages.success(request, "Your application is with the program office.")
            return redirect("partner_list")
    return render(request, "partners/apply.html", {"form": form})


@login_required
def access_request_create_view(request):
    form = WindowRequestForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        # The picker offers the requestable models only; the service checks the rules again
        # (covered, vetted, the window) and its refusal lands on the form.
        created = call_service(request, form, lambda: services.access_request_create(
            actor=request.user, model=d["model"], starts_at=d["starts_at"], ends_at=d["ends_at"],
            justification=d["justification"]))
        if created:
            messages.success(request, "Requested. The developer and the agency both approve.")
            return redirect("access_request_detail", pk=created.pk)
    return render(request, "partners/request_form.html", {
        "form": form, "title": "Request early access", "max_days": settings.ACCESS_WINDOW_MAX_DAYS})


@login_required
def access_invite_view(request, model_pk):
    model = model_get_for_user(user=request.user, pk=model_pk)
    if not policy.is_developer_of(request.user, model):
        raise PermissionDenied
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        created = call_service(request, form, lambda: services.access_request_create(
            actor=request.user, model=model, starts_at=d["starts_at"], ends_at=d["ends_at"],
            justification=d["justification"], organisation=d["organisation"]))
        if created:
            messages.success(request, "Invitation sent. The agency approves too.")
            return redirect("access_request_detail", pk=created.pk)
    return render(request, "partners/request_form.html", {
        "form": form, "title": f"Invite a trusted partner to {model}", "model": model,
        "max_days": settings.ACCESS_WINDOW_MAX_DAYS})


@login_required
def terms_edit_view(request, model_pk):
    model = model_get_for_user(user=request.user, pk=model_pk)
    if not policy.is_developer_of(request.user, model):
        raise PermissionDenied
    current = selectors.terms_current(model=model)
    form = TermsForm(request.POST or None, initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        if call_service(request, form, lambda: services.terms_set(
                model=model, actor=request.user, text=form.cleaned_data["text"])):
            messages.success(request, "New terms version published.")
            return redirect("model_detail", pk=model.pk)
    return render(request, "partners/terms_form.html", {"form": form, "model": model,
                                                        "current": current})


@login_required
@require_POST
def terms_accept_view(request, pk):
    access_request = selectors.access_request_get_for_user(user=request.user, pk=pk)
    form = AcceptForm(request.POST)
    if form.is_valid():
        acceptance = call_service(request, form, lambda: services.terms_accept(
            model=access_request.model, actor=request.user,
            version=form.cleaned_data["version"],
            accepted_name=form.cleaned_data["accepted_name"]))
        if acceptance:
            messages.success(request, f"Version {acceptance.terms.version} of the terms of "
                                      f"access to {access_request.model} is accepted for "
                                      f"{acceptance.organisation.name}.")
            return redirect("access_request_detail", pk=pk)
    return _access_request_page(request, access_request, accept_form=form)


@login_required
@require_POST
def artifact_share_view(request, pk):
    artifact = artifact_get_for_user(user=request.user, pk=pk)
    shared = request.POST.get("shareable") == "1"
    if call_service(request, None, lambda: artifact_set_shareable(
            artifact=artifact, actor=request.user, shareable=shared)):
        messages.success(request, "Shared with granted partners." if shared
                         else "No longer shared with partners.")
    return redirect(reverse("request_detail", args=[artifact.request_id]) + "#artifacts")
