"""The grant and access-request lists run a fixed number of queries, whatever the number of
rows (cursor pages: no COUNT)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.partners.conftest import make_live_grant

# url -> {viewer: pinned queries}. Government users cost one query more (their second factor),
# and a reviewer or admin one more again: the permission check that finds the model-wide
# permission (admins) or the user's groups (reviewers).
LISTS = {
    "/api/v1/access-grants/": {"partner": 4, "owner": 4, "reviewer": 5, "admin": 5},
    "/api/v1/access-requests/": {"partner": 4, "owner": 4, "reviewer": 5, "admin": 5},
}


def count(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), len(response.json()["results"])


@pytest.mark.parametrize("url", list(LISTS))
def test_a_partner_list_runs_as_many_queries_for_two_rows_as_for_one(client, pw, url,
                                                                     django_assert_num_queries):
    make_live_grant(pw)
    few = {}
    for viewer in LISTS[url]:
        client.force_login(getattr(pw.w, viewer))
        client.get(url)  # warm the per-process caches
        few[viewer] = count(client, url)

    make_live_grant(pw, pw.other_partner)
    for viewer, pinned in LISTS[url].items():
        client.force_login(getattr(pw.w, viewer))
        many, rows = count(client, url)
        assert many == few[viewer][0], viewer
        if viewer == "admin":
            assert rows == few[viewer][1] + 1
        with django_assert_num_queries(pinned):
            client.get(url)
