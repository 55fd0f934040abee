"""Embargo ends in the calendar feed: for whoever may see the case, named by reference only."""

from django.urls import reverse

from clearinghouse import embargo
from partners import tracking


def _feed(client, user) -> tuple[str, str]:
    _, token = tracking.calendar_feed_create(user=user)
    response = client.get(reverse("calendar_feed", args=[token]))
    assert response.status_code == 200
    return response.content.decode(), response["ETag"]


def test_the_feed_shows_the_embargo_end_to_the_cases_participants_only(client, case_world):
    cw = case_world
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    stamp = e.ends_at.strftime("%Y%m%dT%H%M%SZ")
    for user in (cw.vendor, cw.finder, cw.coordinator):
        body, _ = _feed(client, user)
        assert f"UID:embargo-{e.pk}@" in body and f"DTSTART:{stamp}" in body, user
        assert f"Embargo ends: case {cw.case.reference}" in body
        assert "libfoo" not in body and "Heap overflow" not in body
    for user in (cw.other_vendor, cw.operator, cw.partner):
        body, _ = _feed(client, user)
        assert "embargo-" not in body, user


def test_an_embargo_change_changes_the_feeds_etag(client, case_world):
    cw = case_world
    _, before = _feed(client, cw.vendor)
    e = embargo.embargo_propose(case=cw.case, actor=cw.coordinator)
    _, proposed = _feed(client, cw.vendor)
    embargo.embargo_exit(embargo=e, actor=cw.coordinator, reason="Published early.")
    body, exited = _feed(client, cw.vendor)
    assert before != proposed and proposed != exited
    assert "embargo-" not in body  # an exited embargo holds nothing back: the feed is as before
