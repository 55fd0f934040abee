"""The report lists cost the same number of queries for 3 reports or 25 (pinned)."""

import pytest
from django.urls import reverse

from clearinghouse import intake
from tests.clearinghouse.conftest import file_report


def many(iw, n):
    for i in range(n):
        report = file_report(iw.finder if i % 2 else iw.outsider, title=f"Flaw {i}",
                             cwe=f"CWE-{200 + i}")
        if i % 3 == 0:
            intake.report_transition(report=report, actor=iw.coordinator, action="invalidate",
                                     reason="No.")


@pytest.mark.parametrize("n", [3, 25])
def test_the_report_pages_and_api_lists_have_pinned_query_counts(client, iw, n,
                                                                  django_assert_max_num_queries):
    many(iw, n)
    client.force_login(iw.coordinator)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("report_list")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("report_triage")).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(reverse("report_reporters")).status_code == 200
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/reports/")
    assert response.status_code == 200 and len(response.json()["results"]) == n
    with django_assert_max_num_queries(10):
        assert client.get("/api/v1/reporter-yields/").status_code == 200
