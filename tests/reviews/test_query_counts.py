"""The review lists (pages and endpoints) and the request page's review section run a fixed
number of SQL queries whatever the number of rows; the numbers are pinned."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Organisation
from reviews.services import conflict_declare, policy_create, rubric_create
from submissions import services
from tests.factories import OrganisationFactory, UserFactory, make_model
from tests.reviews.conftest import DEMO_RULES, add_run, submit_review, suite_version

_counter = iter(range(1_000_000))


def grow(panel, count: int) -> None:
    """`count` more of everything: requests reviewed by the lead and the member, conflicts,
    policy and rubric versions, runs."""
    w = panel.world
    for _ in range(count):
        i = next(_counter)
        model = make_model(w.owner, name=f"Model {i}")
        request = services.request_create(model=model, actor=w.owner)
        services.request_submit(review_request=request, actor=w.owner)
        services.reviewer_assign(review_request=request, reviewer=w.reviewer, actor=w.admin)
        services.reviewer_assign(review_request=request, reviewer=panel.member, actor=w.admin)
        submit_review(request, w.reviewer)
        submit_review(request, panel.member)
        org = OrganisationFactory(name=f"Developer {i}", kind=Organisation.Kind.AI_DEVELOPER)
        conflict_declare(actor=panel.member, organisation=org, kind="other", note="n")
        other = UserFactory(username=f"rev{i}",
                            organisation=w.reviewer.membership.organisation)
        conflict_declare(actor=other, organisation=org, kind="financial", note="n")
        policy_create(actor=w.admin, name=f"P{i}", rules=DEMO_RULES)
        rubric_create(actor=w.admin, name=f"R{i}",
                      dimensions=[{"key": "a", "name": "A", "guidance": "g"}])
    # The panel's own request: one more review and one more run per round.
    add_run(w, suite_version(w, name=f"Suite {next(_counter)}"),
            {"exploit_development": (0.5, 0.05, 10)})


def count(client, url) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries), response


def rows(url, response) -> int:
    if url.startswith("/api/"):
        return len(response.json()["results"])
    return response.content.decode().count("<tr><td>")


# url -> {viewer: pinned queries}.
LISTS = {
    "/api/v1/reviews/": {"lead": 6, "member": 6, "admin": 6},
    "/api/v1/conflicts/": {"member": 6, "admin": 6},
    "/api/v1/assignments/": {"lead": 7, "admin": 7},
    "/api/v1/policies/": {"lead": 7, "admin": 7},
    "/api/v1/rubrics/": {"lead": 6, "admin": 6},
    # The pages are paged (review_portal/pagination.py): a bounded COUNT, then the rows.
    "/conflicts/": {"member": 8, "admin": 7},  # a reviewer's page lists the organisations
    "/policies/": {"lead": 8, "admin": 8},
    "/rubrics/": {"lead": 7, "admin": 7},
}


@pytest.mark.parametrize("url", list(LISTS))
def test_a_review_list_runs_as_many_queries_for_many_rows_as_for_few(
        client, panel, url, django_assert_max_num_queries):
    grow(panel, 2)
    few = {}
    for viewer in LISTS[url]:
        client.force_login(panel.actors()[viewer])
        client.get(url)  # warm the per-process caches
        few[viewer], response = count(client, url)
        assert rows(url, response) >= 2, viewer
    grow(panel, 4)
    for viewer, pinned in LISTS[url].items():
        client.force_login(panel.actors()[viewer])
        many, response = count(client, url)
        assert rows(url, response) >= 6, viewer
        assert many == few[viewer], viewer
        with django_assert_max_num_queries(pinned):
            client.get(url)


# A government user's read of the page is an audit event: lock the chain's head, insert the
# event, move the head (three queries). The thread, the artifacts and the history are paged
# lists: a bounded COUNT and a page of rows each.
REQUEST_PAGE = {"lead": 24, "member": 24, "admin": 25}


@pytest.mark.parametrize("viewer", list(REQUEST_PAGE))
def test_the_request_pages_review_section_runs_a_fixed_number_of_queries(
        client, panel, viewer, django_assert_max_num_queries):
    submit_review(panel.request, panel.member)
    submit_review(panel.request, panel.lead)
    url = f"/requests/{panel.request.pk}/"
    client.force_login(panel.actors()[viewer])
    client.get(url)
    few, _ = count(client, url)
    for _ in range(3):
        extra = UserFactory(username=f"extra{next(_counter)}",
                            organisation=panel.lead.membership.organisation)
        services.reviewer_assign(review_request=panel.request, reviewer=extra, actor=panel.admin)
        submit_review(panel.request, extra)
        add_run(panel.world, suite_version(panel.world, name=f"S{next(_counter)}"),
                {"exploit_development": (0.5, 0.05, 10)})
    many, response = count(client, url)
    assert response.content.decode().count("/reviews/") >= 4
    assert many == few
    with django_assert_max_num_queries(REQUEST_PAGE[viewer]):
        client.get(url)
