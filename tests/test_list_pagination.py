"""Large API lists are cursor pages in an indexed order that ends with the primary key; small
ones keep numbered pages with a bounded count; a list computes only what it shows."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from review_portal import api_pagination as pagination
from submissions import services
from submissions.models import ReviewRequest
from tests.conftest import bring_to
from tests.factories import make_model


def walk(api, url: str) -> list[dict]:
    """Every page of a cursor list, following `next` to the end."""
    pages = []
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        pages.append(response.json())
        url = pages[-1]["next"]
    return pages


def add_requests(world, count: int) -> list[ReviewRequest]:
    return [services.request_create(model=make_model(world.owner, name=f"Extra {i}"),
                                    actor=world.owner) for i in range(count)]


def test_walking_the_request_list_visits_every_request_once_even_when_created_at_the_same_time(
        world, api, monkeypatch):
    add_requests(world, 6)
    ReviewRequest.objects.update(created_at=timezone.now() - timedelta(days=1))
    monkeypatch.setattr(pagination.CursorPage, "page_size", 2)

    pages = walk(api.as_(world.owner), "/api/v1/review-requests/")

    ids = [r["id"] for page in pages for r in page["results"]]
    expected = list(ReviewRequest.objects.order_by("-id").values_list("id", flat=True))
    assert ids == expected  # the tie-breaker orders equal times, newest id first
    assert len(pages) == 4
    assert all(set(page) == {"next", "previous", "results"} for page in pages)
    assert pages[0]["previous"] is None and "cursor=" in pages[1]["previous"]


def test_the_last_page_of_a_cursor_list_is_one_reversed_cursor_away(world, api, monkeypatch):
    import base64

    add_requests(world, 4)
    monkeypatch.setattr(pagination.CursorPage, "page_size", 2)
    last = api.as_(world.owner).get(
        "/api/v1/review-requests/?cursor=" + base64.b64encode(b"r=1").decode()).json()
    oldest = list(ReviewRequest.objects.order_by("created_at", "id").values_list("id", flat=True))
    assert [r["id"] for r in last["results"]] == oldest[:2][::-1]
    assert last["next"] is None and last["previous"]


@pytest.mark.parametrize("url", ["/api/v1/review-requests/", "/api/v1/models/",
                                 "/api/v1/access-grants/", "/api/v1/access-requests/",
                                 "/api/v1/runs/", "/api/v1/notifications/",
                                 "/api/v1/audit-events/"])
def test_large_lists_come_as_cursor_pages_without_a_count(world, api, url):
    response = api.as_(world.admin).get(url)
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"next", "previous", "results"}


def test_a_numbered_page_stops_counting_at_the_bound(world, api, monkeypatch):
    review_request = bring_to(world, "information_requested")
    for i in range(4):
        services.message_post(review_request=review_request, actor=world.owner,
                              body=f"Answer {i}.")
    url = f"/api/v1/review-requests/{review_request.pk}/messages/"
    assert api.as_(world.owner).get(url).json()["count"] == 5

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 3)
    with CaptureQueriesContext(connection) as queries:
        page = api.as_(world.owner).get(url).json()
    assert page["count"] == "3+"
    assert len(page["results"]) == 5
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1 and "LIMIT 4" in counts[0].upper()


def test_the_api_request_list_does_not_compute_the_latest_outcome_the_page_shows(
        client, covered, api):
    with CaptureQueriesContext(connection) as queries:
        response = api.as_(covered.owner).get("/api/v1/review-requests/")
    assert response.status_code == 200
    assert not any("latest_outcome" in q["sql"] for q in queries.captured_queries)

    client.force_login(covered.owner)
    page = client.get("/requests/").content.decode()
    assert "<td>Covered</td>" in page


# --- visibility: the direct permission tables decide what guardian decided ------------------

@pytest.mark.parametrize("perm,selector", [
    ("submissions.view_reviewrequest", "requests_visible_to"),
    ("submissions.view_frontiermodel", "models_visible_to"),
])
def test_the_selectors_see_exactly_what_guardian_grants_each_user(world, perm, selector):
    from guardian.shortcuts import get_objects_for_user

    from accounts import policy
    from submissions import selectors
    from submissions.models import FrontierModel

    klass = ReviewRequest if selector == "requests_visible_to" else FrontierModel
    review_request = bring_to(world, "in_review")
    add_requests(world, 2)  # more of Acme's, which the other developer may not see
    services.reviewer_assign(review_request=review_request, reviewer=world.reviewer2,
                             actor=world.admin)
    for name, user in world.actors().items():
        if user is None or (policy.is_partner(user) and klass is FrontierModel):
            continue  # partners read models through partners.selectors (live grants)
        seen = set(getattr(selectors, selector)(user).values_list("pk", flat=True))
        if policy.is_program_admin(user):
            expected = set(klass.objects.values_list("pk", flat=True))
        else:
            expected = set(get_objects_for_user(user, perm, klass=klass, accept_global_perms=False,
                                                with_superuser=False).values_list("pk", flat=True))
        assert seen == expected, name
