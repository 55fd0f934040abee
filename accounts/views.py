from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts import selectors, services
from review_portal.pages import call_service
from review_portal.pagination import paginate


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'CI upload'.")


@login_required
def profile(request):
    form = TokenForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        created = call_service(request, form, lambda: services.api_token_create(
            user=request.user, name=form.cleaned_data["name"]))
        if created:
            new_key = created[1]
            form = TokenForm()
    return render(request, "accounts/profile.html", {
        "form": form, "new_key": new_key,
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
