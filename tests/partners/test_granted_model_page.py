"""The granted-model page: what a partner member needs to use a granted model from the portal
(the window and its countdown, the terms accepted, the gateway address and its token, the
shared documents, what happens at the end), and what it says once the grant is not live."""

import datetime
import zoneinfo
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.services import api_token_create, user_set_time_zone
from audit.models import AuditEvent
from partners import services
from partners.models import AccessGrant
from submissions.artifact_services import artifact_upload
from submissions.models import ReviewRequest
from tests.partners.conftest import end_grant, make_live_grant

INTROSPECT = reverse("api-introspect")


@pytest.fixture
def granted(pw):
    pw.grant = make_live_grant(pw)
    return pw


def ends_in(grant, **delta) -> AccessGrant:
    """Move the grant's end to now + delta (plus half a minute, so a page rendered a moment
    later still shows the same whole minutes)."""
    AccessGrant.objects.filter(pk=grant.pk).update(
        ends_at=timezone.now() + timedelta(**delta) + timedelta(seconds=30))
    grant.refresh_from_db()
    return grant


def page_url(grant) -> str:
    return reverse("grant_detail", args=[grant.pk])


def page(client, user, grant):
    client.force_login(user)
    return client.get(page_url(grant))


def upload(pw, name, content, *, shareable):
    """A document uploaded while the request was open (the request of a covered model is
    determined, and uploads are for open requests: the status is moved back for the upload)."""
    request = pw.w.request
    ReviewRequest.objects.filter(pk=request.pk).update(status=ReviewRequest.Status.IN_REVIEW)
    request.refresh_from_db()
    artifact = artifact_upload(review_request=request, actor=pw.w.owner, kind="model_card",
                               uploaded_file=SimpleUploadedFile(name, content))
    ReviewRequest.objects.filter(pk=request.pk).update(status=ReviewRequest.Status.DETERMINED)
    if shareable:
        artifact.shareable_with_partners = True
        artifact.save(update_fields=["shareable_with_partners"])
    return artifact


def introspect(client, pw, token) -> dict:
    _, key = api_token_create(user=pw.w.owner, name="gateway")
    return client.post(INTROSPECT, {"token": token},
                       HTTP_AUTHORIZATION=f"Bearer {key}").json()


# --- a live grant ---------------------------------------------------------------------------

def test_a_partner_sees_the_window_with_a_countdown_to_its_end(granted, client):
    grant = ends_in(granted.grant, days=3, hours=4)
    html = page(client, granted.w.partner, grant).content.decode()
    assert "Access is live" in html
    assert "ends in 3 days 4 hours" in html
    assert f"{timezone.localtime(grant.starts_at):%Y-%m-%d %H:%M}" in html
    assert f"{timezone.localtime(grant.ends_at):%Y-%m-%d %H:%M}" in html


def test_the_window_is_shown_in_the_partners_own_zone_with_utc_beside(granted, client):
    grant = granted.grant
    user_set_time_zone(user=granted.w.partner, time_zone="America/Chicago")
    html = page(client, granted.w.partner, grant).content.decode()
    chicago = timezone.localtime(grant.ends_at, zoneinfo.ZoneInfo("America/Chicago"))
    assert f"{chicago:%Y-%m-%d %H:%M} {chicago.tzname()} (" in html
    assert f"{grant.ends_at.astimezone(datetime.UTC):%H:%M} UTC)" in html


def test_a_partner_sees_the_terms_it_accepted(granted, client):
    html = page(client, granted.w.partner, granted.grant).content.decode()
    acceptance = granted.grant.terms_acceptance
    assert "Version 1" in html
    assert "Use it for defence only." in html
    assert "Pat Doe" in html and "partner" in html
    assert f"{timezone.localtime(acceptance.accepted_at):%Y-%m-%d %H:%M}" in html


@override_settings(GATEWAY_URL="https://gateway.acme.example/v1")
def test_a_partner_sees_the_gateway_address_and_a_way_to_issue_a_token(granted, client):
    html = page(client, granted.w.partner, granted.grant).content.decode()
    assert "https://gateway.acme.example/v1" in html
    assert f'action="{reverse("grant_token", args=[granted.grant.pk])}"' in html
    assert "Issue a token" in html


def test_the_page_says_what_happens_at_the_end_and_leads_back_to_the_grants(granted, client):
    html = page(client, granted.w.partner, granted.grant).content.decode()
    assert "When the window ends" in html
    assert "the gateway refuses the token" in html
    assert f'href="{reverse("grant_list")}"' in html
    assert 'class="usa-breadcrumb"' in html


@pytest.mark.parametrize("who", ["other_partner", "owner", "colleague", "outsider", "reviewer",
                                 "admin"])
def test_the_page_is_a_404_for_everyone_but_the_partner(granted, client, who):
    user = granted.other_partner if who == "other_partner" else getattr(granted.w, who)
    assert page(client, user, granted.grant).status_code == 404


def test_the_page_sends_anonymous_visitors_to_sign_in(granted, client):
    response = client.get(page_url(granted.grant))
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_old_model_address_leads_to_the_live_grant(granted, client):
    client.force_login(granted.w.partner)
    response = client.get(reverse("granted_model_detail", args=[granted.w.model.pk]))
    assert response.status_code == 302 and response["Location"] == page_url(granted.grant)
    client.force_login(granted.other_partner)
    assert client.get(reverse("granted_model_detail", args=[granted.w.model.pk])
                      ).status_code == 404


def test_the_grant_list_links_a_partner_to_each_grant_page(granted, client):
    end_grant(granted.grant)
    client.force_login(granted.w.partner)
    html = client.get(reverse("grant_list")).content.decode()
    assert f'href="{page_url(granted.grant)}"' in html


# --- the token ------------------------------------------------------------------------------

def test_rotating_the_token_shows_it_once_and_the_old_one_stops_working(granted, client):
    grant, old = services.grant_issue_token(grant=granted.grant, actor=granted.w.partner)
    assert introspect(client, granted, old)["active"] is True
    client.force_login(granted.w.partner)
    response = client.post(reverse("grant_token", args=[grant.pk]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    grant.refresh_from_db()
    new = next(word for word in html.replace("<", " ").replace(">", " ").split()
               if word.startswith(AccessGrant.TOKEN_PREFIX) and len(word) > 20)
    assert AccessGrant.hash_token(new) == grant.token_hash
    assert introspect(client, granted, old) == {"active": False}
    assert introspect(client, granted, new)["active"] is True
    events = AuditEvent.objects.filter(action="access_grant.token_issued", object_id=str(grant.pk))
    assert events.count() == 2
    assert events.order_by("-sequence").first().actor_id == granted.w.partner.pk
    client.force_login(granted.w.partner)
    again = client.get(page_url(grant)).content.decode()
    assert new not in again and grant.token_hint in again


def test_a_token_is_not_issued_for_an_ended_grant(granted, client):
    end_grant(granted.grant)
    client.force_login(granted.w.partner)
    response = client.post(reverse("grant_token", args=[granted.grant.pk]), follow=True)
    assert "has ended" in response.content.decode()
    granted.grant.refresh_from_db()
    assert granted.grant.token_hash is None
    assert not AuditEvent.objects.filter(action="access_grant.token_issued").exists()


@pytest.mark.parametrize("who", ["other_partner", "owner", "admin"])
def test_no_one_else_can_issue_the_partners_token(granted, client, who):
    user = granted.other_partner if who == "other_partner" else getattr(granted.w, who)
    client.force_login(user)
    assert client.post(reverse("grant_token", args=[granted.grant.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action="access_grant.token_issued").exists()


# --- shared documents -----------------------------------------------------------------------

def test_a_partner_downloads_only_the_shared_documents(granted, client):
    shared = upload(granted, "card.txt", b"shared model card", shareable=True)
    private = upload(granted, "secret.txt", b"not for partners", shareable=False)
    html = page(client, granted.w.partner, granted.grant).content.decode()
    assert "card.txt" in html and "secret.txt" not in html
    response = client.get(reverse("partner_artifact_download", args=[shared.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content if response.streaming else [response.content]
                    ) == b"shared model card"
    assert AuditEvent.objects.filter(action="artifact.downloaded", object_id=str(shared.pk),
                                     actor_id=granted.w.partner.pk).exists()
    assert client.get(reverse("partner_artifact_download", args=[private.pk])
                      ).status_code == 404


@pytest.mark.parametrize("who", ["other_partner", "reviewer"])
def test_shared_documents_are_a_404_for_others(granted, client, who):
    shared = upload(granted, "card.txt", b"shared model card", shareable=True)
    client.force_login(granted.other_partner if who == "other_partner" else granted.w.reviewer)
    assert client.get(reverse("partner_artifact_download", args=[shared.pk])
                      ).status_code == 404


# --- a grant that is not live ---------------------------------------------------------------

def test_an_ended_grant_says_so_and_offers_nothing_that_no_longer_applies(granted, client):
    shared = upload(granted, "card.txt", b"shared model card", shareable=True)
    end_grant(granted.grant)
    response = page(client, granted.w.partner, granted.grant)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This window has ended" in html
    assert "Issue a token" not in html and "Rotate the token" not in html
    assert "card.txt" not in html
    assert "ends in" not in html
    assert client.get(reverse("partner_artifact_download", args=[shared.pk])
                      ).status_code == 404


def test_a_revoked_grant_gives_the_reason(granted, client):
    services.grant_revoke(grant=granted.grant, actor=granted.w.admin, reason="Misuse reported.")
    html = page(client, granted.w.partner, granted.grant).content.decode()
    assert "Access was revoked" in html and "Misuse reported." in html
    assert "Issue a token" not in html


def test_a_grant_not_yet_started_counts_down_to_its_start(granted, client):
    now = timezone.now()
    AccessGrant.objects.filter(pk=granted.grant.pk).update(
        starts_at=now + timedelta(days=2, minutes=1), ends_at=now + timedelta(days=9))
    html = page(client, granted.w.partner, granted.grant).content.decode()
    assert "Access has not started" in html and "starts in 2 days" in html
    assert "Issue a token" not in html


def test_a_suspended_partner_is_told_access_is_paused(granted, client):
    services.partner_transition(profile=granted.profile, actor=granted.w.admin, action="suspend",
                                reason="Incident.")
    html = page(client, granted.w.partner, granted.grant).content.decode()
    assert "suspended" in html
    assert "Issue a token" not in html
