"""Times in the user's own zone: a profile setting; pages show each time in it with UTC beside
it, forms that take a time start in it, and the API keeps answering in UTC."""

import zoneinfo
from datetime import UTC, datetime

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_set_time_zone
from accounts.time_zones import zone_name_of

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")


def test_a_user_chooses_a_time_zone_on_the_profile_and_the_choice_is_kept(world, client):
    client.force_login(world.owner)
    page = client.get(reverse("profile")).content.decode()
    assert 'name="time_zone"' in page and '<option value="UTC" selected>' in page
    response = client.post(reverse("profile_time_zone"), {"time_zone": "America/Chicago"},
                           follow=True)
    assert response.redirect_chain[-1][0] == reverse("profile")
    assert "Times are now shown in America/Chicago." in response.content.decode()
    world.owner.refresh_from_db()
    assert world.owner.time_zone == "America/Chicago"
    assert '<option value="America/Chicago" selected>' in client.get(
        reverse("profile")).content.decode()


def test_an_unknown_zone_is_refused_on_the_form_and_nothing_changes(world, client):
    client.force_login(world.owner)
    response = client.post(reverse("profile_time_zone"), {"time_zone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    world.owner.refresh_from_db()
    assert world.owner.time_zone == ""


def test_the_service_refuses_an_unknown_zone_whatever_the_interface(world):
    from review_portal.errors import ApplicationError

    with pytest.raises(ApplicationError):
        user_set_time_zone(user=world.owner, time_zone="Nowhere/Special")
    user_set_time_zone(user=world.owner, time_zone="UTC")
    assert world.owner.time_zone == "" and zone_name_of(world.owner) == "UTC"


def test_setting_the_zone_needs_a_signed_in_user(db, client):
    response = client.post(reverse("profile_time_zone"), {"time_zone": "America/Chicago"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pages_show_times_in_the_users_zone_with_utc_beside_and_the_api_in_utc(world, client):
    model = world.model
    model.planned_partner_release_at = datetime(2027, 1, 15, 3, 30, tzinfo=UTC)
    model.save(update_fields=["planned_partner_release_at"])
    user_set_time_zone(user=world.owner, time_zone="America/Chicago")
    client.force_login(world.owner)
    page = client.get(reverse("model_detail", args=[model.pk])).content.decode()
    # 03:30 UTC on the 15th is 21:30 on the 14th in Chicago: both days are written out.
    assert ('<time datetime="2027-01-15T03:30:00Z">2027-01-14 21:30 CST '
            '(2027-01-15 03:30 UTC)</time>') in page
    body = client.get(f"/api/v1/models/{model.pk}/").json()
    assert body["planned_partner_release_at"] == "2027-01-15T03:30:00Z"


def test_a_user_without_a_zone_sees_utc_only(world, client):
    client.force_login(world.owner)
    page = client.get(reverse("model_detail", args=[world.model.pk])).content.decode()
    moment = world.model.planned_partner_release_at.astimezone(UTC)
    assert f"{moment:%Y-%m-%d %H:%M} UTC</time>" in page
    assert f"{moment:%H:%M} UTC)" not in page


def test_a_form_that_takes_a_time_starts_in_the_users_zone_and_stores_utc(world, client):
    user_set_time_zone(user=world.owner, time_zone="America/Chicago")
    client.force_login(world.owner)
    page = client.get(reverse("model_edit", args=[world.model.pk])).content.decode()
    assert '<option value="America/Chicago" selected>' in page
    local = timezone.localtime(world.model.planned_partner_release_at, CHICAGO)
    assert f'value="{local:%Y-%m-%dT%H:%M}"' in page  # the field shows the zone it asks in


def test_the_when_filter_marks_the_instant_and_leaves_nothing_for_none():
    template = Template('{{ a|when }}|{{ b|when|default:"never" }}|{{ a|when:"date" }}|'
                        '{{ a|when_text }}')
    moment = datetime(2026, 12, 1, 14, 0, 5, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("Europe/Paris")):
        text = template.render(Context({"a": moment, "b": None}))
    assert text == ('<time datetime="2026-12-01T14:00:05Z">2026-12-01 15:00 CET (14:00 UTC)'
                    '</time>|never|<time datetime="2026-12-01T14:00:05Z">2026-12-01</time>|'
                    '2026-12-01 15:00 CET (14:00 UTC)')
