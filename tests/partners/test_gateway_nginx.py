"""The reference model gateway end to end, every part a real process: the portal under gunicorn,
nginx with the shipped deploy/gateway/nginx.conf, a small OpenAI-compatible model server, and
the partner calling through the `openai` client with its portal grant token.

nginx asks the portal on every call (auth_request), so access ends at the window's end, on
revocation and on suspension with no job run, and a portal that does not answer lets nothing
through."""

import os
import time
import urllib.error
import urllib.request
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import quote

import openai
import pytest
from django.utils import timezone

from partners import gateway, services
from partners.models import AccessGrant
from submissions.models import AccessWindow
from submissions.window_services import window_issue_token
from tests.faultkit import PortalServer
from tests.partners.conftest import make_live_grant
from tests.partners.gatewaykit import NGINX, ModelServer, NginxGateway
from tests.security.test_csp_in_a_browser import database_url

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),  # the portal process reads the rows we write
    pytest.mark.skipif(not os.path.exists(NGINX),
                       reason="nginx is not installed (CI installs it: .ci/run)"),
]


@pytest.fixture
def stack(pw, tmp_path):
    grant, token = services.grant_issue_token(grant=make_live_grant(pw), actor=pw.w.partner)
    client, secret = gateway.gateway_client_create(actor=pw.w.owner, name="Acme nginx")
    portal = PortalServer({"DATABASE_URL": database_url()}, log=tmp_path / "gunicorn.log")
    model = ModelServer().start()
    started = []
    try:
        started.append(portal.start())

        def nginx(*, model_id=pw.w.model.pk, credentials=(client.client_id, secret),
                  name="nginx"):
            proxy = NginxGateway(tmp_path / name, portal_url=portal.base, model_id=model_id,
                                 client_id=credentials[0], secret=credentials[1],
                                 upstream=model.base)
            started.append(proxy.start())
            return proxy

        yield SimpleNamespace(pw=pw, grant=grant, token=token, portal=portal, model=model,
                              nginx=nginx, gateway=nginx())
    finally:
        for process in reversed(started):
            process.stop()
        model.stop()


def ask(proxy: NginxGateway, token: str, **headers) -> str:
    partner = openai.OpenAI(base_url=f"{proxy.base}/v1", api_key=token, max_retries=0,
                            timeout=15, default_headers=headers or None)
    answer = partner.chat.completions.create(
        model="acme-frontier", messages=[{"role": "user", "content": "Is this patched?"}])
    return answer.choices[0].message.content


def test_a_partner_calls_the_model_with_its_portal_token_and_the_model_learns_who_it_is(stack):
    # The partner's own X-Portal-* header is replaced by the portal's answer, never passed on.
    content = ask(stack.gateway, stack.token, **{"X-Portal-Organisation": "Someone Else"})
    assert content == "echo: Is this patched?"
    [seen] = stack.model.calls
    grant = stack.grant
    assert seen["x-portal-organisation"] == quote(grant.organisation.name)
    assert seen["x-portal-subject"] == f"organisation:{grant.organisation_id}"
    assert seen["x-portal-client"] == f"grant:{grant.pk}"
    assert seen["x-portal-expires"] == str(int(grant.ends_at.timestamp()))
    assert "authorization" not in seen  # the portal token stays at the gateway


def test_one_second_after_the_window_ends_the_call_is_refused_with_no_job_run(stack):
    ends_at = timezone.now() + timedelta(seconds=2)
    AccessGrant.objects.filter(pk=stack.grant.pk).update(ends_at=ends_at)
    assert ask(stack.gateway, stack.token) == "echo: Is this patched?"
    time.sleep(max(0.0, (ends_at - timezone.now()).total_seconds()) + 1)
    with pytest.raises(openai.AuthenticationError) as refused:
        ask(stack.gateway, stack.token)
    assert refused.value.status_code == 401
    assert refused.value.body["code"] == "invalid_api_key"
    assert len(stack.model.calls) == 1


def test_a_revoked_grant_is_refused_at_the_next_call(stack):
    assert ask(stack.gateway, stack.token)
    services.grant_revoke(grant=stack.grant, actor=stack.pw.w.admin, reason="Misuse.")
    with pytest.raises(openai.AuthenticationError):
        ask(stack.gateway, stack.token)
    assert len(stack.model.calls) == 1


def test_a_suspended_partner_organisation_is_refused_at_the_next_call(stack):
    assert ask(stack.gateway, stack.token)
    services.partner_transition(profile=stack.pw.profile, actor=stack.pw.w.admin,
                                action="suspend", reason="Incident.")
    with pytest.raises(openai.AuthenticationError):
        ask(stack.gateway, stack.token)
    assert len(stack.model.calls) == 1


@pytest.mark.parametrize("gateway_of", ["another model", "another developer"])
def test_a_token_is_refused_by_a_gateway_it_was_not_granted_for(stack, gateway_of):
    """The partner's live token, at the gateway of another model of the same developer, or at a
    gateway whose client belongs to another developer (which learns nothing of the token)."""
    if gateway_of == "another model":
        proxy = stack.nginx(model_id=stack.grant.model_id + 1000, name="other-model")
    else:
        other, secret = gateway.gateway_client_create(actor=stack.pw.w.outsider, name="Theirs")
        proxy = stack.nginx(credentials=(other.client_id, secret), name="other-developer")
    with pytest.raises(openai.AuthenticationError):
        ask(proxy, stack.token)
    assert stack.model.calls == []


def test_an_unknown_or_missing_token_is_refused(stack):
    with pytest.raises(openai.AuthenticationError):
        ask(stack.gateway, "frg_not-a-real-token")
    request = urllib.request.Request(f"{stack.gateway.base}/v1/chat/completions", data=b"{}",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert stack.model.calls == []


def test_a_government_window_token_passes_inside_its_window(stack):
    pw = stack.pw
    _, token = window_issue_token(window=pw.window, actor=pw.w.admin)
    now = timezone.now()
    AccessWindow.objects.filter(pk=pw.window.pk).update(starts_at=now - timedelta(hours=1),
                                                        ends_at=now + timedelta(days=2))
    assert ask(stack.gateway, token) == "echo: Is this patched?"
    [seen] = stack.model.calls
    window = AccessWindow.objects.select_related("token_organisation").get(pk=pw.window.pk)
    assert seen["x-portal-client"] == f"window:{window.pk}"
    assert seen["x-portal-organisation"] == quote(window.token_organisation.name)


def test_when_the_portal_does_not_answer_nothing_gets_through(stack):
    assert ask(stack.gateway, stack.token)
    stack.portal.stop()
    with pytest.raises(openai.APIStatusError) as unavailable:
        ask(stack.gateway, stack.token)
    assert unavailable.value.status_code == 503
    assert unavailable.value.body["code"] == "portal_unavailable"
    assert len(stack.model.calls) == 1
