"""The developer's model gateway pages: its gateway clients (register, rotate, revoke) and the
address each model's gateway is published at. The rules are in partners/gateway.py.

A secret is on the answer to the POST that made it and nowhere else: not in a redirect, the
session, a message or a log; the portal keeps only its SHA-256. Those answers are never cached.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import policy
from partners import gateway
from review_portal.pages import call_service, call_service_confirmed
from review_portal.pagination import paginate
from submissions.selectors import model_get_for_user


class GatewayClientForm(forms.Form):
    name = forms.CharField(
        label="Gateway name", max_length=100,
        help_text="So you can recognise it later, e.g. “Production nginx, eu-west”.",
        error_messages={"required": "Name the gateway, so you can recognise it later."})


class GatewayAddressForm(forms.Form):
    url = forms.CharField(
        label="Gateway address", required=False, max_length=500,
        help_text="The base URL partners call, e.g. https://gateway.example.com/v1. Leave it "
                  "blank to withdraw the address.")


def _require_developer(user) -> None:
    """The gateway pages are a developer organisation's: anyone else finds no such page."""
    if not policy.is_developer(user):
        raise Http404("No such page.")


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _list_page(request, form=None) -> HttpResponse:
    clients = paginate(request, gateway.gateway_clients_of(user=request.user))
    for client in clients:
        client.may_change = gateway.gateway_client_may_change(user=request.user, client=client)
    return render(request, "partners/gateway_list.html", {
        "clients": clients, "form": form or GatewayClientForm(),
        "models": gateway.gateway_models_of(user=request.user)})


def _secret_page(request, client, secret: str, *, rotated: bool) -> HttpResponse:
    return _no_store(render(request, "partners/gateway_secret.html", {
        "client": client, "secret": secret, "rotated": rotated}))


@login_required
def gateway_client_list(request):
    """The organisation's gateway clients and the form to register one; a POST registers it
    and answers with its secret, shown this once."""
    _require_developer(request.user)
    if request.method != "POST":
        return _list_page(request)
    form = GatewayClientForm(request.POST)
    if form.is_valid():
        made = call_service(request, form, lambda: gateway.gateway_client_create(
            actor=request.user, name=form.cleaned_data["name"]))
        if made:
            return _secret_page(request, *made, rotated=False)
    return _list_page(request, form)


@login_required
@require_POST
def gateway_client_rotate_view(request, pk):
    _require_developer(request.user)
    client = gateway.gateway_client_get_for_user(user=request.user, pk=pk)
    done = call_service_confirmed(request, None, lambda: gateway.gateway_client_rotate(
        client=client, actor=request.user), confirmation=dict(
            title=f"Rotate the secret of the gateway “{client.name}”",
            consequence=f"A new secret for {client.client_id} is shown once on the next page, "
                        "and the current one stops working at once: until the gateway is "
                        "configured with the new secret, the portal refuses its checks and "
                        "partners calling through it are refused.",
            details=[("Client id", client.client_id),
                     ("Current secret begins", client.secret_hint)],
            button="Rotate the secret", back_url=reverse("gateway_client_list")))
    if isinstance(done, HttpResponse):
        return done
    if done is None:
        return redirect("gateway_client_list")
    return _secret_page(request, *done, rotated=True)


@login_required
@require_POST
def gateway_client_revoke_view(request, pk):
    _require_developer(request.user)
    client = gateway.gateway_client_get_for_user(user=request.user, pk=pk)
    done = call_service_confirmed(request, None, lambda: gateway.gateway_client_revoke(
        client=client, actor=request.user), confirmation=dict(
            title=f"Revoke the gateway “{client.name}”",
            consequence=f"The credentials of {client.client_id} stop working at once: the "
                        "portal refuses every introspection and check it makes, so partners "
                        "calling through it are refused until you register another gateway "
                        "and configure it. Revoking cannot be undone; the client stays in the "
                        "list as history.",
            details=[("Client id", client.client_id)], button="Revoke the gateway",
            back_url=reverse("gateway_client_list")))
    if isinstance(done, HttpResponse):
        return done
    if done:
        messages.success(request, f"The gateway “{done.name}” ({done.client_id}) is revoked: "
                                  "its credentials no longer work.")
    return redirect("gateway_client_list")


@login_required
def gateway_address_edit(request, model_pk):
    """Publish (or withdraw) the address partners call the model at."""
    model = model_get_for_user(user=request.user, pk=model_pk)
    if not policy.is_developer_of(request.user, model):
        raise PermissionDenied
    current = gateway.gateway_published_of(model_id=model.pk)
    form = GatewayAddressForm(request.POST or None,
                              initial={"url": current.url if current else ""})
    if request.method == "POST" and form.is_valid():
        url = form.cleaned_data["url"]
        try_it = call_service(request, form, lambda: gateway.gateway_address_set(
            model=model, actor=request.user, url=url) or "withdrawn")
        if try_it:
            messages.success(request, f"Partners with access to {model} now call it at {url}."
                             if try_it != "withdrawn" else
                             f"No gateway address is published for {model} now.")
            return redirect("gateway_client_list")
    return render(request, "partners/gateway_address_form.html", {
        "form": form, "model": model, "current": current})
