"""The secret, revocable iCalendar feed of the windows a user may see."""

import re

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

from audit.models import AuditEvent
from partners import services, tracking
from partners.models import CalendarFeed
from tests.partners.tracking_helpers import build_tracked

CREATE = reverse("calendar_feed_create")
tracked_fixture = pytest.fixture(name="tracked")(build_tracked)


def test_escaping_follows_rfc_5545():
    assert tracking.ical_escape("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = tracking.ical_fold(line)
    parts = folded.split("\r\n")
    assert all(len(p.encode()) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0]] + [p[1:] for p in parts[1:]]) == line
    assert tracking.ical_fold("SHORT:x") == "SHORT:x"


def feed_for(client, user) -> str:
    client.force_login(user)
    body = client.post(CREATE).content.decode()
    client.logout()
    return re.search(r"(https?://\S+?\.ics)<", body).group(1)


def uids(body: str) -> set[str]:
    return set(re.findall(r"UID:(\S+)\r\n", body))


def uid(kind, pk):
    return f"{kind}-window-{pk}@frontier-review-portal"


def test_a_user_creates_a_feed_and_only_the_hash_is_stored(tracked, client):
    url = feed_for(client, tracked.w.owner)
    token = url.rsplit("/", 1)[1].removesuffix(".ics")
    feed = CalendarFeed.objects.get(user=tracked.w.owner)
    assert feed.token_hash == CalendarFeed.hash_token(token) and token not in feed.token_hash
    assert AuditEvent.objects.filter(action="calendar_feed.created",
                                     object_id=str(feed.pk)).exists()
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == body.count("END:VEVENT") == 6
    assert "STATUS:CANCELLED" in body  # the revoked grant
    assert "Misuse" not in body  # reasons stay out of calendars
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


def test_a_revoked_replaced_or_unknown_feed_answers_404(tracked, client):
    old = feed_for(client, tracked.w.owner)
    new = feed_for(client, tracked.w.owner)
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    client.force_login(tracked.w.owner)
    assert client.post(reverse("calendar_feed_revoke")).status_code == 302
    client.logout()
    assert client.get(new).status_code == 404
    assert client.get(reverse("calendar_feed", args=["frc_unknown"])).status_code == 404
    assert not CalendarFeed.objects.filter(revoked_at__isnull=True).exists()
    assert AuditEvent.objects.filter(action="calendar_feed.revoked").count() == 2


def test_creating_needs_a_login_and_a_post(client, tracked):
    assert client.post(CREATE).status_code == 302
    client.force_login(tracked.w.owner)
    assert client.get(CREATE).status_code == 405
    assert not CalendarFeed.objects.exists()


def test_each_user_sees_the_windows_it_may_see_now(tracked, client):
    pw = tracked
    w = pw.w
    acme = {uid("government", pw.window.pk)} | {
        uid("partner", g.pk) for g in (pw.grant, pw.ending, pw.ended, pw.revoked, pw.future)}
    other = {uid("government", pw.cancelled.pk), uid("government", pw.flagged.pk)}
    expected = {
        "admin": acme | other, "owner": acme, "colleague": acme, "outsider": other,
        "reviewer": acme,  # assigned to the request on `model`
        "reviewer2": set(),  # never assigned
        # partners: their own live and future grants only, no government window
        "partner": {uid("partner", pw.grant.pk), uid("partner", pw.ending.pk)},
    }
    feeds = {who: feed_for(client, w.actors()[who]) for who in expected}
    banker = feed_for(client, pw.other_partner)
    for who, url in feeds.items():
        assert uids(client.get(url).content.decode()) == expected[who], who
    assert uids(client.get(banker).content.decode()) == {uid("partner", pw.future.pk)}


def test_the_feed_follows_access_at_fetch_time(tracked, client):
    pw = tracked
    url = feed_for(client, pw.w.partner)
    assert uid("partner", pw.grant.pk) in client.get(url).content.decode()
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")
    assert uids(client.get(url).content.decode()) == set()
    pw.w.partner.is_active = False
    pw.w.partner.save()
    assert client.get(url).status_code == 404


def test_the_feed_runs_a_fixed_number_of_queries(tracked, client,
                                                 django_assert_max_num_queries):
    url = feed_for(client, tracked.w.admin)
    # 8 for the windows and grants, 2 for the embargo ends of clearinghouse cases (issue 11).
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("has_feed", [False, True])
def test_the_profile_include_shows_the_feed_state(tracked, has_feed):
    user = tracked.w.owner
    if has_feed:
        feed, _ = tracking.calendar_feed_create(user=user)
    html = render_to_string("partners/_calendar_feed.html", {"user": user})
    assert ("Revoke" in html) == has_feed
    assert (has_feed and feed.token_hint in html) or "no calendar feed" in html
