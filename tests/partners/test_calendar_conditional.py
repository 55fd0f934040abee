"""The iCalendar feed's horizon (the recent past and the coming year) and its conditional GET:
an ETag and a Last-Modified computed without rendering, 304 while nothing shown has changed,
and the token's rules (revoked or unknown: 404) before any 304."""

import gzip
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.http import http_date

from partners import services, tracking
from partners.models import AccessGrant
from submissions.models import AccessWindow
from tests.partners.test_ical import feed_for, uid, uids
from tests.partners.tracking_helpers import build_tracked, extra_grant, government_window

tracked_fixture = pytest.fixture(name="tracked")(build_tracked)


def test_the_feed_carries_an_etag_and_a_last_modified_and_may_be_kept_but_not_shared(
        tracked, client):
    response = client.get(feed_for(client, tracked.w.owner))
    assert response.status_code == 200
    assert re.fullmatch(r'"[0-9a-f]{32}"', response["ETag"])
    assert response["Last-Modified"].endswith(" GMT")
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "no-cache"} <= cache and "no-store" not in cache


@pytest.mark.parametrize("who", ["admin", "owner", "outsider", "reviewer", "reviewer2",
                                 "partner"])
def test_every_user_gets_304_for_an_unchanged_feed_by_etag_or_date(tracked, client, who):
    url = feed_for(client, tracked.w.actors()[who])
    first = client.get(url)
    assert first.status_code == 200
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"]
    assert again["Last-Modified"] == first["Last-Modified"]
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert by_date.status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    stale = http_date((timezone.now() - timedelta(days=2)).timestamp())
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=stale).status_code == 200


def test_a_revoked_or_unknown_feed_answers_404_never_304(tracked, client):
    url = feed_for(client, tracked.w.owner)
    etag = client.get(url)["ETag"]
    client.force_login(tracked.w.owner)
    client.post(reverse("calendar_feed_revoke"))
    client.logout()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    assert client.get(url, HTTP_IF_MODIFIED_SINCE=http_date()).status_code == 404
    unknown = reverse("calendar_feed", args=["frc_unknown"])
    assert client.get(unknown, HTTP_IF_NONE_MATCH=etag).status_code == 404


def test_an_inactive_user_or_a_government_user_without_a_second_factor_gets_404(tracked, client):
    pw = tracked
    url = feed_for(client, pw.w.partner)
    etag = client.get(url)["ETag"]
    pw.w.partner.is_active = False
    pw.w.partner.save()
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 404
    reviewer_url = feed_for(client, pw.w.reviewer)
    etag = client.get(reviewer_url)["ETag"]
    from allauth.mfa.models import Authenticator
    Authenticator.objects.filter(user=pw.w.reviewer).delete()
    assert client.get(reviewer_url, HTTP_IF_NONE_MATCH=etag).status_code == 404


def _changes(pw):
    """Each a change the feed shows; after each, the old ETag no longer matches."""
    now = timezone.now()
    yield "a new grant", lambda: extra_grant(pw, start_days=40, end_days=45)
    yield "a revocation", lambda: services.grant_revoke(
        grant=pw.future, actor=pw.w.owner, reason="Misuse.")
    yield "a moved government window", lambda: AccessWindow.objects.get(
        pk=pw.window.pk).save()  # updated_at
    yield "a window starting (the clock)", lambda: AccessWindow.objects.filter(
        pk=pw.window.pk).update(starts_at=now - timedelta(seconds=1))
    yield "a window ending within 3 days (the clock)", lambda: AccessGrant.objects.filter(
        pk=pw.grant.pk).update(ends_at=now + timedelta(days=2))
    yield "a suspended partner", lambda: services.partner_transition(
        profile=pw.profile, actor=pw.w.admin, action="suspend", reason="Incident.")


def test_every_change_the_feed_shows_changes_its_etag(tracked, client):
    pw = tracked
    url = feed_for(client, pw.w.owner)
    etag = client.get(url)["ETag"]
    for what, change in _changes(pw):
        change()
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200, what
        assert response["ETag"] != etag, what
        etag = response["ETag"]
        assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, what


def test_last_modified_moves_when_the_clock_moves_a_window_into_another_state(tracked, client):
    pw = tracked
    url = feed_for(client, pw.w.owner)
    first = client.get(url)
    AccessWindow.objects.filter(pk=pw.window.pk).update(
        starts_at=timezone.now() - timedelta(seconds=1))  # it starts now: "active"
    response = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    # Last-Modified has a resolution of a second: the start may fall in the same second.
    assert response.status_code == 200 or response["Last-Modified"] == first["Last-Modified"]
    assert "State: Active" in client.get(url).content.decode()


def test_the_feed_holds_the_last_30_days_and_the_coming_year(tracked, client):
    pw = tracked
    w = pw.w
    inside = [extra_grant(pw, start_days=-40, end_days=-29),
              extra_grant(pw, start_days=364, end_days=370)]
    outside = [extra_grant(pw, start_days=-40, end_days=-31),
               extra_grant(pw, start_days=366, end_days=370)]
    old_window = government_window(w.other_model, w.outsider, start_days=-60, end_days=-45,
                                   status=AccessWindow.Status.CANCELLED)
    body = client.get(feed_for(client, w.owner)).content.decode()
    found = uids(body)
    assert {uid("partner", g.pk) for g in inside} <= found
    assert not {uid("partner", g.pk) for g in outside} & found
    assert uid("government", old_window.pk) not in uids(
        client.get(feed_for(client, w.admin)).content.decode())
    assert tracking.FEED_PAST == timedelta(days=30)
    assert tracking.FEED_FUTURE == timedelta(days=365)


def _feed_queries(client, url, **headers):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, **headers)
    return response, len(ctx)


@pytest.mark.parametrize("who", ["admin", "owner", "reviewer", "partner"])
def test_the_feed_and_its_304_run_the_same_queries_for_n_and_3n_windows(tracked, client, who):
    pw = tracked
    url = feed_for(client, pw.w.actors()[who])

    def add(n):
        for i in range(n):
            extra_grant(pw, start_days=i / 10, end_days=i / 10 + 3)

    add(3)
    _feed_queries(client, url)  # warm the per-process caches
    cache.clear()  # a render, not the rendered body kept for this version
    full, n_full = _feed_queries(client, url)
    not_modified, n_304 = _feed_queries(client, url, HTTP_IF_NONE_MATCH=full["ETag"])
    assert not_modified.status_code == 304
    add(6)
    full_3n, n_full_3n = _feed_queries(client, url)  # a new version: rendered
    assert full_3n.status_code == 200
    _, n_304_3n = _feed_queries(client, url, HTTP_IF_NONE_MATCH=full_3n["ETag"])
    assert (n_full_3n, n_304_3n) == (n_full, n_304)
    assert n_304 < n_full  # a 304 renders nothing: the row queries never run


def test_a_second_client_of_the_same_version_gets_the_kept_body_without_a_render(tracked,
                                                                               client):
    pw = tracked
    url = feed_for(client, pw.w.owner)
    cache.clear()
    first, n_first = _feed_queries(client, url)
    second, n_second = _feed_queries(client, url)  # another calendar app, no validator
    assert second.status_code == 200 and second.content == first.content
    assert n_second < n_first
    not_modified, n_304 = _feed_queries(client, url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert n_second == n_304  # the aggregates, then the cache instead of the rows
    services.grant_revoke(grant=pw.future, actor=pw.w.owner, reason="Misuse.")
    third = client.get(url)
    assert third["ETag"] != first["ETag"] and third.content != first.content
    other = feed_for(client, pw.w.colleague)  # same windows, another URL: its own entry
    assert uids(client.get(other).content.decode()) == uids(third.content.decode())


def test_a_calendar_app_that_accepts_gzip_gets_the_feed_compressed_with_its_own_etag(tracked,
                                                                                     client):
    url = feed_for(client, tracked.w.owner)
    plain = client.get(url)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate")
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content) / 3
    assert "Accept-Encoding" in plain["Vary"] and "Accept-Encoding" in packed["Vary"]
    # Two representations, two validators (RFC 9110 8.8.3): the compressed one is weak.
    assert packed["ETag"] == f"W/{plain['ETag']}"
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=packed["ETag"])
    assert again.status_code == 304 and again["ETag"] == packed["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 304
    # The kept body is the compressed one: a client without gzip gets the same text again.
    assert client.get(url).content == plain.content
