"""Weighty actions are confirmed on a page that says what will happen, to what, and that it is
recorded; the action happens only once it is confirmed, and then once. Success messages say
what happened to what. (The API does not confirm: its clients decide for themselves.)"""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from partners.models import AccessRequest, PartnerProfile
from partners.services import access_request_deny, partner_apply
from reviews.models import PolicyVersion, Recusal, Review, RubricVersion
from reviews.services import policy_create, rubric_create
from submissions.models import AccessWindow, Determination, ReviewRequest
from submissions.window_services import window_schedule
from tests.conftest import bring_to
from tests.partners.conftest import PROFILE, partner_world, request_access, vetted_partner
from tests.reviews.conftest import FULL_SCORES

ROOT = Path(__file__).resolve().parents[1]


def _changes() -> int:
    """Audit events other than the record of a government user reading a page."""
    return AuditEvent.objects.exclude(action="review_request.viewed").count()


def _window(world) -> AccessWindow:
    start = timezone.now() + timedelta(days=2)
    return window_schedule(model=world.model, actor=world.owner, starts_at=start,
                           ends_at=start + timedelta(days=10))


def _review_post() -> dict:
    data = {f"score_{k}": str(v) for k, v in FULL_SCORES.items()}
    return data | {"recommendation": "covered", "confidence": "medium",
                   "comments_for_developer": "Document your scaffolds.",
                   "internal_comments": "Internal only.", "submit": "1"}


# Each weighty action: (state of world.request, who, how to find the URL and data, what the
# confirmation page names, what shows it happened).
def _withdraw(world):
    bring_to(world, "in_review")
    return (world.owner, reverse("request_action", args=[world.request.pk, "withdraw"]),
            {"reason": "Changed our plans."},
            lambda: ReviewRequest.objects.get().status == "withdrawn")


def _determine(world):
    bring_to(world, "in_review")
    return (world.reviewer, reverse("request_action", args=[world.request.pk, "determine"]),
            {"outcome": "not_covered", "rationale": "Below the level."},
            lambda: Determination.objects.count() == 1)


def _final_review(world):
    bring_to(world, "in_review")
    return (world.reviewer, reverse("review_edit", args=[world.request.pk]), _review_post(),
            lambda: Review.objects.filter(status="submitted").count() == 1)


def _recuse(world):
    bring_to(world, "in_review")
    return (world.reviewer, reverse("recuse", args=[world.request.pk]),
            {"note": "I found a conflict."}, lambda: Recusal.objects.count() == 1)


def _activate_policy(world):
    policy = policy_create(actor=world.admin, name="Stricter", rules=[
        {"kind": "training_compute", "threshold": 1e25, "citation": "Program note 4"}])
    return (world.admin, reverse("policy_activate", args=[policy.pk]), {},
            lambda: PolicyVersion.objects.get(pk=policy.pk).is_active)


def _activate_rubric(world):
    rubric = rubric_create(actor=world.admin, name="Short", dimensions=[
        {"key": "evidence", "name": "Evidence", "guidance": "Is it enough?"}])
    return (world.admin, reverse("rubric_activate", args=[rubric.pk]), {},
            lambda: RubricVersion.objects.get(pk=rubric.pk).is_active)


def _deny_access_request(world):
    bring_to(world, "determined")
    access_request = request_access(partner_world(world))
    return (world.colleague, reverse("access_request_action", args=[access_request.pk, "deny"]),
            {"reason": "Not this quarter."},
            lambda: AccessRequest.objects.get().status == "denied")


def _partner_move(action, status_before, status_after):
    def arrange(world):
        if status_before == "applied":
            profile = partner_apply(actor=world.partner, **PROFILE)
        else:
            profile = vetted_partner(world.admin, world.partner)
        return (world.admin, reverse("partner_action", args=[profile.pk, action]),
                {"reason": "Checked with the program office."},
                lambda: PartnerProfile.objects.get(pk=profile.pk).status == status_after)
    return arrange


def _cancel_window(world):
    bring_to(world, "determined")
    window = _window(world)
    return (world.owner, reverse("window_cancel", args=[window.pk]), {"reason": "Slipped."},
            lambda: AccessWindow.objects.get().status == "cancelled")


WEIGHTY = {
    "withdraw": (_withdraw, "Withdraw request #", "Withdraw the request"),
    "determine": (_determine, "Record the determination on request #",
                  "Record the determination"),
    "final review": (_final_review, "Submit your review of request #", "Submit the review"),
    "recuse": (_recuse, "Recuse from request #", "Recuse"),
    "activate policy": (_activate_policy, "Make policy v", "Make it the active policy"),
    "cancel window": (_cancel_window, "Cancel the government access window of",
                      "Cancel the window"),
    "activate rubric": (_activate_rubric, "Make rubric v", "Make it the active rubric"),
    "deny access request": (_deny_access_request, "Deny access request #", "Deny the request"),
    "vet partner": (_partner_move("vet", "applied", "vetted"),
                    "Vet Rural Hospital as a trusted partner", "Vet the organisation"),
    "suspend partner": (_partner_move("suspend", "vetted", "suspended"),
                        "Suspend Rural Hospital", "Suspend the organisation"),
    "revoke partner": (_partner_move("revoke", "vetted", "revoked"),
                       "Revoke Rural Hospital as a trusted partner", "Revoke the organisation"),
}


@pytest.mark.parametrize("name", list(WEIGHTY))
def test_a_weighty_action_posted_without_confirmation_shows_what_will_happen_and_writes_nothing(
        client, world, name):
    arrange, title, button = WEIGHTY[name]
    actor, url, data, happened = arrange(world)
    client.force_login(actor)
    before = _changes()

    response = client.post(url, data)

    assert response.status_code == 200
    html = response.content.decode()
    assert f"Confirm: {title}" in html
    assert "recorded in the audit trail" in html
    assert f">{button}</button>" in html
    assert '<input type="hidden" name="confirm" value="yes">' in html
    for key, value in data.items():  # the confirmation posts the same fields again
        assert f'name="{key}" value="{value}"' in html
    assert f'action="{url}"' in html
    assert not happened()
    assert _changes() == before


@pytest.mark.parametrize("name", list(WEIGHTY))
def test_a_confirmed_weighty_action_happens_once(client, world, name):
    arrange, _, _ = WEIGHTY[name]
    actor, url, data, happened = arrange(world)
    client.force_login(actor)
    before = _changes()

    response = client.post(url, data | {"confirm": "yes"})

    assert response.status_code == 302
    assert happened()
    after = _changes()
    assert after > before
    client.post(url, data | {"confirm": "yes"})  # a second post (a double click) does nothing
    assert _changes() == after


def test_someone_who_may_not_act_gets_the_refusal_not_a_confirmation_page(client, world):
    bring_to(world, "in_review")
    client.force_login(world.owner)
    url = reverse("request_action", args=[world.request.pk, "determine"])
    response = client.post(url, {"outcome": "covered", "rationale": "Mine."})
    assert response.status_code == 403
    assert not Determination.objects.exists()


def test_withdrawing_a_determined_request_is_refused_with_the_reason_and_no_confirmation(
        client, covered):
    client.force_login(covered.owner)
    url = reverse("request_action", args=[covered.request.pk, "withdraw"])
    response = client.post(url, {"reason": "Oops."}, follow=True)
    html = response.content.decode()
    assert "Confirm:" not in html
    assert "A request that is determined cannot be withdrawn." in html
    assert ReviewRequest.objects.get().status == "determined"


def test_the_confirmation_page_shows_what_was_typed(client, world):
    bring_to(world, "in_review")
    client.force_login(world.reviewer)
    url = reverse("request_action", args=[world.request.pk, "determine"])
    html = client.post(url, {"outcome": "covered", "rationale": "Exploits found.",
                             "override_reason": "Red-team evidence."}).content.decode()
    assert "Covered frontier model" in html
    assert "Exploits found." in html
    assert "Red-team evidence." in html
    assert "sent to the developer" in html


def test_suspending_a_partner_that_is_not_vetted_is_refused_with_the_reason_and_no_confirmation(
        client, world):
    profile = partner_apply(actor=world.partner, **PROFILE)
    client.force_login(world.admin)
    before = _changes()
    response = client.post(reverse("partner_action", args=[profile.pk, "suspend"]),
                           {"reason": "Audit."}, follow=True)
    html = response.content.decode()
    assert "Confirm:" not in html
    assert "A partner organisation that is applied cannot be moved to suspended." in html
    assert PartnerProfile.objects.get().status == "applied"
    assert _changes() == before


def test_a_partner_move_without_a_reason_is_refused_before_any_confirmation(client, world):
    profile = vetted_partner(world.admin, world.partner)
    client.force_login(world.admin)
    response = client.post(reverse("partner_action", args=[profile.pk, "suspend"]),
                           {"reason": ""}, follow=True)
    assert "Confirm:" not in response.content.decode()
    assert PartnerProfile.objects.get().status == "vetted"


def test_denying_a_denied_request_is_refused_with_the_reason_and_no_confirmation(client, world):
    bring_to(world, "determined")
    access_request = request_access(partner_world(world))
    access_request_deny(access_request=access_request, actor=world.colleague, reason="No.")
    client.force_login(world.owner)
    before = _changes()
    response = client.post(reverse("access_request_action", args=[access_request.pk, "deny"]),
                           {"reason": "No again."}, follow=True)
    html = response.content.decode()
    assert "Confirm:" not in html
    assert "An access request that is denied does not allow" in html
    assert AccessRequest.objects.get().denial_reason == "No."
    assert _changes() == before


def test_someone_who_may_not_activate_a_rubric_gets_403_not_a_confirmation_page(client, world):
    actor, url, data, happened = _activate_rubric(world)
    client.force_login(world.reviewer)
    assert client.post(url, data).status_code == 403
    assert not happened()


def test_the_denial_page_names_the_partner_the_model_and_what_follows(client, world):
    actor, url, data, _ = _deny_access_request(world)
    client.force_login(actor)
    html = client.post(url, data).content.decode()
    assert "Rural Hospital" in html and str(world.model) in html
    assert "may ask once for reconsideration" in html
    assert "Not this quarter." in html


def test_the_suspension_page_says_the_partner_loses_access_at_once(client, world):
    actor, url, data, _ = _partner_move("suspend", "vetted", "suspended")(world)
    client.force_login(actor)
    html = client.post(url, data).content.decode()
    assert "Rural Hospital loses its early access at once" in html
    assert "Checked with the program office." in html


def test_the_rubric_page_names_the_version_it_replaces(client, world):
    current = RubricVersion.objects.get(is_active=True)
    actor, url, data, _ = _activate_rubric(world)
    client.force_login(actor)
    html = client.post(url, data).content.decode()
    assert f"in place of v{current.number}" in html


def test_the_api_withdraws_without_a_confirmation_step(api, world):
    bring_to(world, "in_review")
    response = api.as_(world.owner).post(
        f"/api/v1/review-requests/{world.request.pk}/withdraw/", {"reason": "Changed plans."})
    assert response.status_code == 200, response.content
    assert ReviewRequest.objects.get().status == "withdrawn"


def test_the_api_vets_suspends_and_activates_a_rubric_without_a_confirmation_step(api, world):
    profile = partner_apply(actor=world.partner, **PROFILE)
    admin = api.as_(world.admin)
    for action, status in [("vet", "vetted"), ("suspend", "suspended")]:
        response = admin.post(f"/api/v1/partner-organisations/{profile.pk}/{action}/",
                              {"reason": "Checked."})
        assert response.status_code == 200, response.content
        assert PartnerProfile.objects.get().status == status
    rubric = rubric_create(actor=world.admin, name="Short", dimensions=[
        {"key": "evidence", "name": "Evidence", "guidance": "Is it enough?"}])
    response = admin.post(f"/api/v1/rubrics/{rubric.pk}/activate/")
    assert response.status_code == 200, response.content
    assert RubricVersion.objects.get(pk=rubric.pk).is_active


def test_the_api_denies_an_access_request_without_a_confirmation_step(api, world):
    bring_to(world, "determined")
    access_request = request_access(partner_world(world))
    response = api.as_(world.colleague).post(
        f"/api/v1/access-requests/{access_request.pk}/deny/", {"reason": "Not now."})
    assert response.status_code == 200, response.content
    assert AccessRequest.objects.get().status == "denied"


# --- success messages -----------------------------------------------------------------------

def test_a_confirmed_withdrawal_says_which_request_was_withdrawn(client, world):
    bring_to(world, "in_review")
    client.force_login(world.owner)
    response = client.post(reverse("request_action", args=[world.request.pk, "withdraw"]),
                           {"reason": "Plans changed.", "confirm": "yes"}, follow=True)
    assert f"Request #{world.request.pk} is withdrawn." in response.content.decode()


def test_a_determination_message_names_the_request_and_the_outcome(client, world):
    bring_to(world, "in_review")
    client.force_login(world.reviewer)
    response = client.post(reverse("request_action", args=[world.request.pk, "determine"]),
                           {"outcome": "not_covered", "rationale": "Below.", "confirm": "yes"},
                           follow=True)
    assert (f"Request #{world.request.pk} is determined: not a covered frontier model."
            in response.content.decode())


def test_submitting_a_request_says_so(client, world):
    client.force_login(world.owner)
    response = client.post(reverse("request_action", args=[world.request.pk, "submit"]),
                           follow=True)
    assert f"Request #{world.request.pk} is submitted for review." in response.content.decode()


def test_activating_a_policy_says_which_version_is_now_active(client, world):
    policy = policy_create(actor=world.admin, name="Stricter", rules=[
        {"kind": "training_compute", "threshold": 1e25, "citation": "Program note 4"}])
    client.force_login(world.admin)
    response = client.post(reverse("policy_activate", args=[policy.pk]), {"confirm": "yes"},
                           follow=True)
    assert f"Policy v{policy.number} is now the active policy." in response.content.decode()


def test_activating_a_rubric_says_which_version_is_now_active(client, world):
    actor, url, data, _ = _activate_rubric(world)
    client.force_login(actor)
    response = client.post(url, data | {"confirm": "yes"}, follow=True)
    rubric = RubricVersion.objects.get(is_active=True)
    assert f"Rubric v{rubric.number} is now the active rubric." in response.content.decode()


def test_no_page_ends_an_action_with_a_bare_done():
    offenders = [str(path.relative_to(ROOT)) for path in ROOT.glob("*/*views.py")
                 if re.search(r"""["']Done\.["']""", path.read_text())]
    assert offenders == []
