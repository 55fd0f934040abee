from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services, time_zones
from review_portal.pages import call_service
from review_portal.pagination import paginate


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'CI upload'.")


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label="Your time zone", choices=time_zones.choices,
        help_text="Pages show times in this zone, with UTC beside them; forms that take a time "
                  "start in it. The API always answers in UTC.")


@login_required
def profile(request, zone_form=None):
    form = TokenForm(request.POST if request.method == "POST" and zone_form is None else None)
    new_key = None
    if request.method == "POST" and zone_form is None and form.is_valid():
        created = call_service(request, form, lambda: services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]))
        if created:
            new_key = created[1]
            form = TokenForm()
    return render(request, "accounts/profile.html", {
        "form": form, "new_key": new_key, "zone_form": zone_form or TimeZoneForm(
            initial={"time_zone": time_zones.zone_name_of(request.user)}),
        "security_keys": selectors.security_keys_for_user(user=request.user),
        "tokens": paginate(request, selectors.api_tokens_for_user(user=request.user),
                           param="tokens_page", fragment="tokens")})


@login_required
@require_POST
def token_revoke(request, pk):
    token = selectors.api_token_get_for_user(user=request.user, pk=pk)
    services.api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("profile")


@login_required
@require_POST
def time_zone_set(request):
    form = TimeZoneForm(request.POST)
    if form.is_valid() and call_service(request, form, lambda: services.user_set_time_zone(
            user=request.user, time_zone=form.cleaned_data["time_zone"])):
        messages.success(request, f"Times are now shown in {form.cleaned_data['time_zone']}.")
        return redirect("profile")
    return profile(request, zone_form=form)
