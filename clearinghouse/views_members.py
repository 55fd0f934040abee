"""Pages for the clearinghouse's members: apply, the program office's vetting, and a vendor's
product catalogue. The same access helpers and services as the API."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from clearinghouse import access, members
from clearinghouse.models import MemberProfile, VendorProduct
from partners.workflow import PROFILE_TRANSITIONS
from review_portal.pages import call_service, call_service_confirmed
from review_portal.pagination import paginate


class MemberApplyForm(forms.ModelForm):
    class Meta:
        model = MemberProfile
        fields = ["description", "security_contact"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class VendorProductForm(forms.Form):
    name = forms.CharField(max_length=200)
    purl = forms.CharField(max_length=500, required=False, label="Package URL",
                           help_text="For example pkg:pypi/example-lib")
    cpe = forms.CharField(max_length=500, required=False, label="CPE 2.3 name")


@login_required
def member_list(request):
    profiles = paginate(request, access.members_visible_to(request.user))
    for profile in profiles:
        profile.actions = members.member_actions_available(user=request.user, profile=profile)
    own = None
    if policy.is_vendor(request.user) or policy.is_operator(request.user):
        own = MemberProfile.objects.filter(
            organisation_id=policy.organisation_id_of(request.user)).first()
    products = []
    if policy.is_vendor(request.user):
        products = VendorProduct.objects.filter(
            vendor_id=policy.organisation_id_of(request.user))
    return render(request, "clearinghouse/member_list.html", {
        "profiles": profiles, "may_apply": own is None and (
            policy.is_vendor(request.user) or policy.is_operator(request.user)),
        "is_coordinator": policy.is_clearinghouse_coordinator(request.user),
        "products": products, "product_form": VendorProductForm() if own else None})


@login_required
def member_apply(request):
    form = MemberApplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if call_service(request, form, lambda: members.member_apply(
                actor=request.user, **form.cleaned_data)):
            messages.success(request, "Your application is with the program office.")
            return redirect("clearinghouse_member_list")
    return render(request, "clearinghouse/member_apply.html", {"form": form})


def _confirmation(profile: MemberProfile, action: str) -> dict:
    name = profile.organisation.name
    title, consequence, button = {
        "vet": (f"Vet {name} for the clearinghouse",
                f"{name} may then take part in the cases it is added to. Its members are told.",
                "Vet the organisation"),
        "suspend": (f"Suspend {name}",
                    f"{name} loses sight of every case at once, until it is vetted again. Its "
                    "members are told.", "Suspend the organisation"),
        "revoke": (f"Revoke {name}",
                   f"{name} loses sight of every case at once and for good. Its members are "
                   "told.", "Revoke the organisation"),
    }[action]
    return {"title": title, "consequence": consequence, "button": button,
            "back_url": reverse("clearinghouse_member_list")}


@login_required
@require_POST
def member_action(request, pk, action):
    profile = access.member_get_for_user(user=request.user, pk=pk)
    if action not in PROFILE_TRANSITIONS:
        messages.error(request, "Unknown action.")
        return redirect("clearinghouse_member_list")
    form = ReasonForm(request.POST)
    form.is_valid()
    reason = form.cleaned_data.get("reason", "")
    done = call_service_confirmed(request, None, lambda: members.member_transition(
        profile=profile, actor=request.user, action=action, reason=reason),
        confirmation=_confirmation(profile, action))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"{done.organisation.name} is now "
                                  f"{done.get_status_display().lower()}.")
    return redirect("clearinghouse_member_list")


@login_required
@require_POST
def vendor_product_add(request):
    if not policy.is_vendor(request.user):
        return redirect("clearinghouse_member_list")
    form = VendorProductForm(request.POST)
    if form.is_valid() and call_service(request, None, lambda: members.vendor_product_add(
            actor=request.user, vendor=request.user.membership.organisation,
            **form.cleaned_data)):
        messages.success(request, "Product added to your catalogue.")
    elif not form.is_valid():
        messages.error(request, "Give the product's name.")
    return redirect("clearinghouse_member_list")
