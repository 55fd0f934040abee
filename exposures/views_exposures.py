"""Pages of an operator's exposures: the list by priority, one exposure with the vendor's
remediations (download, SHA-256, signature), status changes, confirming a vendor/product
match, and the pre-disclosure terms. The same access helpers and services as the API; what a
user may not see answers 404."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clearinghouse.models import ProductStatement
from exposures import access, exposure_selectors, services
from exposures.models import Exposure
from exposures.workflow import EXPOSURE_TRANSITIONS
from review_portal.ids import id_or_none
from review_portal.pages import call_service
from review_portal.pagination import paginate

XS = Exposure.Status


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=XS.choices, label="New status")
    justification = forms.ChoiceField(
        choices=[("", "—")] + ProductStatement.Justification.choices, required=False,
        label="Justification (when not affected)",
        help_text="The CSAF VEX reason it does not affect you.")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             max_length=2000, label="Reason",
                             help_text="Required when you accept the risk.")

    def __init__(self, *args, exposure: Exposure, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = EXPOSURE_TRANSITIONS.get(exposure.status, frozenset())
        self.fields["status"].choices = [(v, label) for v, label in XS.choices if v in allowed]


class RejectForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False,
                             max_length=2000, label="Why this is not what you run")


def _require_operator(user) -> None:
    if not access.may_manage_inventory(user):
        raise Http404("No such page.")


@login_required
def exposure_list(request):
    _require_operator(request.user)
    case_id = id_or_none(request.GET.get("case"))
    page = paginate(request, exposure_selectors.operator_exposures(request.user,
                                                                   case_id=case_id))
    page.rows = exposure_selectors.with_labels(page.rows)
    return render(request, "exposures/exposure_list.html", {
        "exposures": page, "terms": services.terms_acceptance_of(request.user),
        "case_filter": case_id})


@login_required
def exposure_detail(request, pk):
    exposure = exposure_selectors.exposure_for_page(user=request.user, pk=pk)
    return _detail(request, exposure, StatusForm(exposure=exposure), RejectForm())


def _detail(request, exposure, status_form, reject_form, code=200):
    return render(request, "exposures/exposure_detail.html", {
        "facts": exposure_selectors.exposure_facts(exposure), "e": exposure,
        "status_form": status_form if status_form.fields["status"].choices else None,
        "reject_form": reject_form}, status=code)


@login_required
@require_POST
def exposure_status(request, pk):
    exposure = exposure_selectors.exposure_for_page(user=request.user, pk=pk)
    form = StatusForm(request.POST, exposure=exposure)
    if form.is_valid() and call_service(request, form, lambda: services.exposure_status_set(
            exposure=exposure, actor=request.user, **form.cleaned_data)):
        messages.success(request, "Status recorded.")
        return redirect("exposure_detail", pk=exposure.pk)
    return _detail(request, exposure, form, RejectForm(), code=400)


@login_required
@require_POST
def exposure_confirm(request, pk):
    exposure = exposure_selectors.exposure_for_page(user=request.user, pk=pk)
    if call_service(request, None, lambda: services.exposure_confirm(exposure=exposure,
                                                                      actor=request.user)):
        messages.success(request, "Match confirmed: it is now a live exposure.")
    return redirect("exposure_detail", pk=exposure.pk)


@login_required
@require_POST
def exposure_reject(request, pk):
    exposure = exposure_selectors.exposure_for_page(user=request.user, pk=pk)
    form = RejectForm(request.POST)
    if form.is_valid() and call_service(request, form, lambda: services.exposure_reject(
            exposure=exposure, actor=request.user, **form.cleaned_data)):
        messages.success(request, "Match rejected.")
        return redirect("exposure_detail", pk=exposure.pk)
    return _detail(request, exposure, StatusForm(exposure=exposure), form, code=400)


@login_required
def terms(request):
    _require_operator(request.user)
    if request.method == "POST":
        if call_service(request, None, lambda: services.terms_accept(actor=request.user)):
            messages.success(request, "Your organisation accepted the terms.")
            return redirect("exposure_terms")
    return render(request, "exposures/terms.html", {
        "acceptance": services.terms_acceptance_of(request.user),
        "version": services.terms_current_version()})
