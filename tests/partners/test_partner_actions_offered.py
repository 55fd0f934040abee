"""The partner pages offer only the moves that apply now (the rules the services enforce), a
grant is revoked only after a confirmation, and each success message says what happened."""

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from partners.models import AccessGrant, AccessRequest
from tests.partners.conftest import end_grant, make_live_grant, request_access


def _html(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _action(access_request, action) -> str:
    return reverse("access_request_action", args=[access_request.pk, action])


def test_a_developer_who_approved_is_offered_approve_no_more_and_a_second_is_refused(client,
                                                                                     pw):
    access_request = request_access(pw)
    url = reverse("access_request_detail", args=[access_request.pk])
    assert _action(access_request, "approve") in _html(client, pw.w.colleague, url)

    response = client.post(_action(access_request, "approve"), follow=True)
    html = response.content.decode()
    assert (f"Access request #{access_request.pk} is approved on your side. It waits for the "
            "other side&#x27;s approval.") in html
    assert _action(access_request, "approve") not in html
    assert _action(access_request, "deny") in html  # still open to the developer

    response = client.post(_action(access_request, "approve"), follow=True)
    assert "The developer has approved already." in response.content.decode()
    assert AuditEvent.objects.filter(action="access_request.approved").count() == 1


def test_the_partner_is_offered_withdraw_but_not_approve(client, pw):
    access_request = request_access(pw)
    html = _html(client, pw.w.partner, reverse("access_request_detail", args=[access_request.pk]))
    assert _action(access_request, "withdraw") in html
    assert _action(access_request, "approve") not in html


def test_a_denial_says_which_request_was_denied(client, pw):
    access_request = request_access(pw)
    client.force_login(pw.w.colleague)
    response = client.post(_action(access_request, "deny"),
                           {"reason": "Not now.", "confirm": "yes"}, follow=True)
    assert f"Access request #{access_request.pk} is denied." in response.content.decode()
    assert AccessRequest.objects.get().status == "denied"


def test_a_vetted_partner_is_offered_suspend_and_revoke_but_not_vet(client, pw):
    html = _html(client, pw.w.admin, reverse("partner_list"))
    profile_actions = {a: reverse("partner_action", args=[pw.profile.pk, a])
                       for a in ("vet", "suspend", "revoke")}
    assert profile_actions["suspend"] in html
    assert profile_actions["revoke"] in html
    assert profile_actions["vet"] not in html


def test_suspending_a_partner_says_so(client, pw):
    client.force_login(pw.w.admin)
    response = client.post(reverse("partner_action", args=[pw.profile.pk, "suspend"]),
                           {"reason": "Audit.", "confirm": "yes"}, follow=True)
    assert f"{pw.profile.organisation.name} is now suspended." in response.content.decode()


# --- revoking a grant -----------------------------------------------------------------------

def test_revoking_a_grant_asks_for_confirmation_and_writes_nothing_before(client, pw):
    grant = make_live_grant(pw)
    client.force_login(pw.w.admin)
    before = AuditEvent.objects.count()
    response = client.post(reverse("grant_revoke", args=[grant.pk]), {"reason": "Misuse."})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Confirm: Revoke grant #{grant.pk}" in html
    assert "recorded in the audit trail" in html
    assert 'name="reason" value="Misuse."' in html
    assert AccessGrant.objects.get().revoked_at is None
    assert AuditEvent.objects.count() == before


def test_a_confirmed_revocation_revokes_once_and_says_what(client, pw):
    grant = make_live_grant(pw)
    client.force_login(pw.w.admin)
    url = reverse("grant_revoke", args=[grant.pk])
    response = client.post(url, {"reason": "Misuse.", "confirm": "yes"}, follow=True)
    assert (f"Grant #{grant.pk} is revoked: {grant.organisation.name} no longer has access to "
            f"{grant.model}.") in response.content.decode()
    assert AccessGrant.objects.get().revoked_at is not None
    response = client.post(url, {"reason": "Again.", "confirm": "yes"}, follow=True)
    assert "This grant is revoked already." in response.content.decode()
    assert AuditEvent.objects.filter(action="access_grant.revoked").count() == 1


def test_a_revocation_without_a_reason_is_refused_before_any_confirmation(client, pw):
    grant = make_live_grant(pw)
    client.force_login(pw.w.admin)
    response = client.post(reverse("grant_revoke", args=[grant.pk]), {"reason": " "},
                           follow=True)
    html = response.content.decode()
    assert "Confirm:" not in html
    assert "Give a reason." in html


@pytest.mark.parametrize("state", ["live", "ended", "revoked"])
def test_revoke_is_offered_only_on_a_grant_that_can_still_be_revoked(client, pw, state):
    grant = make_live_grant(pw)
    if state == "ended":
        end_grant(grant)
    elif state == "revoked":
        AccessGrant.objects.filter(pk=grant.pk).update(revoked_at=grant.starts_at,
                                                       revoke_reason="Misuse.")
    html = _html(client, pw.w.admin, reverse("grant_list"))
    assert (reverse("grant_revoke", args=[grant.pk]) in html) == (state == "live")
