"""The partner pages' forms: apply, request, invite, terms, accept, and sharing artifacts. The
rules are the services'; these tests show they hold from the pages, with nothing half-written."""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from partners import services
from partners.models import AccessRequest, PartnerProfile, TermsAcceptance, TermsVersion
from submissions.artifact_services import artifact_upload
from tests.partners.conftest import PROFILE, request_access
from tests.test_error_summary import assert_the_summary_links_every_field_in_error


def _window(start, end, **extra):
    return {"starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": end.strftime("%Y-%m-%dT%H:%M"), "timezone": "UTC",
            "justification": "We protect patients.", **extra}


def test_a_partner_member_applies_from_the_page(client, world):
    client.force_login(world.partner)
    response = client.post("/partners/apply/", PROFILE)
    assert response.status_code == 302
    profile = PartnerProfile.objects.get(organisation=world.partner.membership.organisation)
    assert profile.status == PartnerProfile.Status.APPLIED
    assert AuditEvent.objects.filter(action="partner.applied").count() == 1


@pytest.mark.parametrize("actor", ["owner", "reviewer", "admin"])
def test_only_partner_members_apply(client, world, actor):
    client.force_login(getattr(world, actor))
    response = client.post("/partners/apply/", PROFILE)
    assert response.status_code == 403
    assert not PartnerProfile.objects.exists()


def test_the_request_page_refuses_a_31_day_window_with_a_clear_message(client, pw):
    client.force_login(pw.w.partner)
    response = client.post("/partners/requests/new/", _window(
        pw.start, pw.start + timedelta(days=31), model=pw.w.model.pk))
    assert response.status_code == 200
    assert b"at most 30 days" in response.content
    assert not AccessRequest.objects.exists()


def test_the_request_page_refuses_a_window_before_the_government_window_ends(client, pw):
    client.force_login(pw.w.partner)
    start = pw.window.ends_at - timedelta(days=1)
    response = client.post("/partners/requests/new/", _window(
        start, start + timedelta(days=10), model=pw.w.model.pk))
    assert response.status_code == 200
    assert b"government" in response.content
    assert not AccessRequest.objects.exists()


def test_a_partner_requests_a_valid_window_from_the_page(client, pw):
    client.force_login(pw.w.partner)
    response = client.post("/partners/requests/new/", _window(
        pw.start, pw.end, model=pw.w.model.pk))
    assert response.status_code == 302
    access_request = AccessRequest.objects.get()
    assert access_request.organisation == pw.w.partner.membership.organisation
    assert not access_request.invited


@pytest.mark.parametrize("which", ["uncovered", "unknown", "not a number"])
def test_a_wrong_model_is_a_form_error_that_keeps_every_typed_value(client, pw, which):
    client.force_login(pw.w.partner)
    model = {"uncovered": pw.w.other_model.pk, "unknown": 999_999, "not a number": "x"}[which]
    data = _window(pw.start, pw.end, model=model, timezone="America/Chicago",
                   justification="We protect the patients of three counties.")
    response = client.post("/partners/requests/new/", data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choose one of the models listed" in html
    assert "We protect the patients of three counties." in html
    assert f'value="{data["starts_at"]}"' in html and f'value="{data["ends_at"]}"' in html
    assert '<option value="America/Chicago" selected>' in html
    assert not AccessRequest.objects.exists()


def test_the_request_page_offers_a_picker_of_the_covered_models(client, pw):
    client.force_login(pw.w.partner)
    html = client.get("/partners/requests/new/").content.decode()
    assert '<select name="model"' in html
    assert f'<option value="{pw.w.model.pk}">{pw.w.model}' in html
    assert f'<option value="{pw.w.other_model.pk}"' not in html
    assert "Model number" not in html


def test_a_model_past_its_public_release_is_not_offered(client, pw):
    from submissions.models import FrontierModel

    FrontierModel.objects.filter(pk=pw.w.model.pk).update(
        planned_public_release_at=pw.start - timedelta(days=100))
    client.force_login(pw.w.partner)
    html = client.get("/partners/requests/new/").content.decode()
    assert f'<option value="{pw.w.model.pk}"' not in html


def test_the_service_refuses_an_uncovered_model_whatever_the_form_offered(pw):
    from partners import services
    from review_portal.errors import ApplicationError

    with pytest.raises(ApplicationError, match="covered"):
        services.access_request_create(actor=pw.w.partner, model=pw.w.other_model,
                                       starts_at=pw.start, ends_at=pw.end, justification="x")
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize("actor,expected", [("owner", 302), ("colleague", 302),
                                            ("outsider", 404), ("partner", 404),
                                            ("reviewer", 403), ("anonymous", 302)])
def test_only_the_models_developers_invite_a_partner(client, pw, actor, expected):
    user = pw.w.actors()[actor]
    if user:
        client.force_login(user)
    org = pw.other_profile.organisation
    response = client.post(f"/partners/invite/{pw.w.model.pk}/",
                           _window(pw.start, pw.end, organisation=org.pk))
    assert response.status_code == expected
    invited = AccessRequest.objects.filter(organisation=org, invited=True).exists()
    assert invited == (actor in ("owner", "colleague"))
    if actor == "anonymous":
        assert "/accounts/login/" in response["Location"]


def test_the_developer_publishes_terms_and_a_partner_accepts_them_from_the_page(client, pw):
    client.force_login(pw.w.owner)
    response = client.post(f"/partners/terms/{pw.w.model.pk}/", {"text": "Defence only, v2."})
    assert response.status_code == 302
    latest = TermsVersion.objects.filter(model=pw.w.model).order_by("-version").first()
    assert latest.version == 2
    access_request = request_access(pw)

    client.force_login(pw.w.partner)
    page = client.get(f"/partners/requests/{access_request.pk}/")
    assert b"Defence only, v2." in page.content
    client.post(f"/partners/requests/{access_request.pk}/terms/accept/",
                {"version": 2, "accepted_name": "Pat Doe"})
    acceptance = TermsAcceptance.objects.get(terms=latest)
    assert acceptance.accepted_name == "Pat Doe" and acceptance.accepted_by == pw.w.partner


@pytest.mark.parametrize("actor,expected", [("partner", 404), ("outsider", 404),
                                            ("reviewer", 403)])
def test_others_cannot_publish_terms(client, pw, actor, expected):
    client.force_login(getattr(pw.w, actor))
    response = client.post(f"/partners/terms/{pw.w.model.pk}/", {"text": "Mine now."})
    assert response.status_code == expected
    assert TermsVersion.objects.filter(model=pw.w.model).count() == 1


@pytest.mark.parametrize("actor,status,shared", [("owner", 302, True), ("colleague", 302, True),
                                                 ("outsider", 404, False),
                                                 ("reviewer2", 404, False),
                                                 ("partner", 404, False)])
def test_only_developers_share_an_artifact_with_partners(client, world, settings, tmp_path,
                                                         actor, status, shared):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    artifact = artifact_upload(review_request=world.request, actor=world.owner,
                               kind="model_card",
                               uploaded_file=SimpleUploadedFile("card.md", b"# card\n"))
    client.force_login(getattr(world, actor))
    response = client.post(f"/partners/artifacts/{artifact.pk}/share/", {"shareable": "1"})
    assert response.status_code == status
    artifact.refresh_from_db()
    assert artifact.shareable_with_partners is shared
    assert AuditEvent.objects.filter(action="artifact.shared").exists() is shared


def test_pages_render_for_their_users(client, pw):
    client.force_login(pw.w.partner)
    assert client.get("/partners/requests/new/").status_code == 200
    client.force_login(pw.w.owner)
    assert client.get(f"/partners/invite/{pw.w.model.pk}/").status_code == 200
    assert client.get(f"/partners/terms/{pw.w.model.pk}/").status_code == 200


@pytest.mark.parametrize("url", ["/partners/apply/", "/partners/requests/new/",
                                 "/partners/terms/{model}/", "/partners/invite/{model}/"])
def test_anonymous_visitors_are_sent_to_log_in(client, world, url):
    response = client.get(url.format(model=world.model.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_another_partner_organisation_cannot_accept_terms_on_someone_elses_request(client, pw):
    access_request = request_access(pw)
    client.force_login(pw.other_partner)
    response = client.post(f"/partners/requests/{access_request.pk}/terms/accept/",
                           {"version": pw.terms.version, "accepted_name": "Someone Else"})
    assert response.status_code == 404
    assert not TermsAcceptance.objects.exists()


# --- accepting the terms: a refusal is shown on the page, with what was typed ------------------

def _accept(client, pw, access_request, **data):
    client.force_login(pw.w.partner)
    return client.post(f"/partners/requests/{access_request.pk}/terms/accept/", data)


def test_terms_changed_while_the_partner_read_them_show_again_with_the_reason_and_the_name(
        client, pw):
    access_request = request_access(pw)
    services.terms_set(model=pw.w.model, actor=pw.w.owner, text="Defence only, v2.")
    before = AuditEvent.objects.count()

    response = _accept(client, pw, access_request, version=1, accepted_name="Pat Doe")

    assert response.status_code == 200
    html = response.content.decode()
    assert_the_summary_links_every_field_in_error(html)
    summary = BeautifulSoup(html, "html.parser").select_one("[data-error-summary]")
    assert "The current terms are version 2; read and accept that one." in summary.get_text()
    assert "Defence only, v2." in html
    form = BeautifulSoup(html, "html.parser").select_one("form[action$='/terms/accept/']")
    assert form.select_one("input[name=accepted_name]")["value"] == "Pat Doe"
    # The form now carries the version on the page: accepting again accepts that one.
    assert form.select_one("input[name=version]")["value"] == "2"
    assert not TermsAcceptance.objects.exists()
    assert AuditEvent.objects.count() == before

    response = _accept(client, pw, access_request, version=2, accepted_name="Pat Doe")
    assert response.status_code == 302
    assert TermsAcceptance.objects.get().terms.version == 2


def test_accepting_the_terms_without_a_name_shows_the_page_again_with_the_error_summary(
        client, pw):
    access_request = request_access(pw)
    response = _accept(client, pw, access_request, version=1, accepted_name="  ")
    assert response.status_code == 200
    html = response.content.decode()
    assert assert_the_summary_links_every_field_in_error(html) == ["id_accepted_name"]
    assert f"Early-access request #{access_request.pk}" in html
    assert not TermsAcceptance.objects.exists()


def test_accepting_the_terms_says_which_terms_were_accepted_for_whom(client, pw):
    access_request = request_access(pw)
    client.force_login(pw.w.partner)
    response = client.post(f"/partners/requests/{access_request.pk}/terms/accept/",
                           {"version": 1, "accepted_name": "Pat Doe"}, follow=True)
    assert (f"Version 1 of the terms of access to {pw.w.model} is accepted for Rural Hospital."
            in response.content.decode())
