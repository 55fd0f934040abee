"""List pages, list endpoints and the request page run a fixed number of SQL queries, whatever
the number of rows. Each test counts with few rows and with many, asserts the counts are equal,
and pins the number so a new query per page shows up in review."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from submissions import services
from submissions.artifact_services import artifact_upload
from submissions.window_services import window_schedule
from tests.conftest import bring_to
from tests.factories import make_model


def _schedule(model, actor):
    start = timezone.now() + timedelta(days=2)
    return window_schedule(model=model, actor=actor, starts_at=start,
                           ends_at=start + timedelta(days=10))


def add_covered_models(world, count: int) -> None:
    """Acme models, each with a determined request (a reviewer, a message) and a window."""
    existing = world.acme.frontier_models.count()
    for i in range(existing, existing + count):
        model = make_model(world.owner, name=f"Model {i:02d}")
        request = services.request_create(model=model, actor=world.owner)
        services.request_submit(review_request=request, actor=world.owner)
        services.reviewer_assign(review_request=request, reviewer=world.reviewer,
                                 actor=world.admin)
        services.request_ask_information(review_request=request, actor=world.reviewer,
                                         question="Which scaffolds?")
        services.message_post(review_request=request, actor=world.owner, body="Scaffold A.")
        services.request_determine(review_request=request, actor=world.reviewer,
                                   outcome="covered", rationale="Above the level.",
                                   internal_notes="note", override_reason="Exploits.")
        _schedule(model, world.owner)


def count_queries(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


def rows_in(url, response) -> int:
    if url.startswith("/api/"):
        return len(response.json()["results"])
    return response.content.decode().count("<tr><td>")


# url -> {viewer: the pinned number of queries}. Rows: Acme's models, requests and windows.
# Government users cost one query more: the second-factor middleware checks their device.
# The pages are paged (review_portal/pagination.py): a bounded COUNT, then the page's rows.
# The API's large lists are cursor pages: no COUNT, and the request list reads each
# determination without who decided it (only the single-request answer shows that).
LISTS = {
    "/models/": {"owner": 7, "reviewer": 8, "admin": 8},
    # The request list marks the lead and what needs the viewer's action: a reviewer's page
    # reads the rows' assignments and their own reviews, an admin's the assignments (one
    # query each, whatever the number of rows).
    "/requests/": {"owner": 7, "reviewer": 10, "admin": 9},
    "/windows/": {"owner": 7, "admin": 8},
    "/api/v1/models/": {"owner": 5, "reviewer": 6, "admin": 6},
    "/api/v1/review-requests/": {"owner": 6, "reviewer": 7, "admin": 7},
    "/api/v1/windows/": {"owner": 6, "admin": 7},
    "/api/v1/notifications/": {"owner": 4, "reviewer": 5},
    "/api/v1/audit-events/": {"admin": 5},
}


@pytest.mark.parametrize("url", list(LISTS))
def test_a_list_runs_as_many_queries_for_12_rows_as_for_2(client, covered, url,
                                                          django_assert_max_num_queries):
    _schedule(covered.model, covered.owner)
    add_covered_models(covered, 1)
    few = {}
    for viewer in LISTS[url]:
        client.force_login(getattr(covered, viewer))
        client.get(url)  # warm the per-process caches (content types, permissions)
        few[viewer], response = count_queries(client, url)
        assert rows_in(url, response) >= 2, viewer

    add_covered_models(covered, 10)
    for viewer, pinned in LISTS[url].items():
        client.force_login(getattr(covered, viewer))
        many, response = count_queries(client, url)
        assert rows_in(url, response) >= 12, viewer
        assert many == few[viewer], viewer
        with django_assert_max_num_queries(pinned):
            client.get(url)


def _upload(world, request, name):
    artifact_upload(review_request=request, actor=world.owner, kind="model_card",
                    uploaded_file=SimpleUploadedFile(name, b"A model card.\n"))


def _grow_thread(world, request, rounds: int) -> None:
    """Reconsider and decide again: more messages, artifacts, determinations and history."""
    for i in range(rounds):
        services.request_reconsideration(review_request=request, actor=world.owner,
                                         reason=f"Round {i}")
        for j in range(2):
            _upload(world, request, f"card-{i}-{j}.txt")
            services.message_post(review_request=request, actor=world.reviewer,
                                  body=f"Question {i}.{j}")
            services.message_post(review_request=request, actor=world.owner,
                                  body=f"Answer {i}.{j}")
        services.request_determine(review_request=request, actor=world.reviewer,
                                   outcome="not_covered", rationale=f"Round {i}.",
                                   internal_notes="note")


# The developer's page reads the reviewers' anonymised comments (one query); the government's
# reads the reviews, the active policy and its rules, and the runs (four), and an admin the
# recusals (five). A government user's read is recorded in the audit trail: three queries (lock
# the chain's head, insert the event, move the head). The thread, the artifacts and the history
# are paged lists: a bounded COUNT and a page of rows each.
# A developer's page of a determined request asks whether the window can be scheduled next
# (one query).
DETAIL = {"owner": 19, "reviewer": 24, "admin": 25}


@pytest.mark.parametrize("viewer", list(DETAIL))
def test_the_request_page_runs_a_fixed_number_of_queries(client, world, viewer,
                                                          django_assert_max_num_queries):
    request = bring_to(world, "in_review")
    _upload(world, request, "card.txt")
    services.message_post(review_request=request, actor=world.reviewer, body="A question.")
    services.request_determine(review_request=request, actor=world.reviewer, outcome="covered",
                               rationale="Above the level.", internal_notes="note",
                               override_reason="Exploits.")
    url = reverse("request_detail", args=[request.pk])
    client.force_login(getattr(world, viewer))
    client.get(url)
    few, response = count_queries(client, url)
    assert response.content.decode().count('class="msg') == 1

    _grow_thread(world, request, rounds=3)
    many, response = count_queries(client, url)
    html = response.content.decode()
    assert html.count('class="msg') == 16
    assert html.count("superseded") == 3
    assert many == few
    with django_assert_max_num_queries(DETAIL[viewer]):
        client.get(url)


# A reviewer's reads are recorded: an audit event more on each (lock the chain's head, insert
# the event, move the head). The government's answer also lists the runs and reviews each
# determination rests on (two prefetches). The thread is a page: one COUNT more than the bare
# list it was.
API_DETAIL = {"owner": (7, 7), "reviewer": (13, 11)}


@pytest.mark.parametrize("viewer", list(API_DETAIL))
def test_the_request_endpoint_and_its_thread_run_a_fixed_number_of_queries(
        api, world, viewer, django_assert_max_num_queries):
    request = bring_to(world, "in_review")
    services.message_post(review_request=request, actor=world.reviewer, body="A question.")
    services.request_determine(review_request=request, actor=world.reviewer, outcome="covered",
                               rationale="Above the level.", internal_notes="note",
                               override_reason="Exploits.")
    api.as_(getattr(world, viewer))
    urls = [f"/api/v1/review-requests/{request.pk}/",
            f"/api/v1/review-requests/{request.pk}/messages/"]
    for url in urls:
        api.get(url)
    few = [count_queries(api, url)[0] for url in urls]
    _grow_thread(world, request, rounds=3)
    many = [count_queries(api, url)[0] for url in urls]
    assert many == few
    for url, pinned in zip(urls, API_DETAIL[viewer], strict=True):
        with django_assert_max_num_queries(pinned):
            api.get(url)
