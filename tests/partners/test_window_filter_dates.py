"""Date filters of the window overview (API) and the tracking page: a date the portal cannot
turn into a moment (9999-12-31 plus a day, 0001-01-01 before UTC) or garbage is the caller's
mistake, answered with a 400 JSON error or a form error, never a 500."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from partners import tracking
from review_portal.errors import ApplicationError
from tests.partners.tracking_helpers import build_tracked

PAGE = reverse("window_tracking")
API = reverse("api-windows-overview")

tracked_fixture = pytest.fixture(name="tracked")(build_tracked)

OUT_OF_RANGE = [
    ("date_to", "9999-12-31"), ("date_from", "9999-12-31"), ("date_from", "0001-01-01"),
    ("date_to", "0001-01-01"), ("date_from", "1899-12-31"), ("date_to", "3000-01-01"),
]
GARBAGE = [
    ("date_to", "garbage"), ("date_from", "2026-13-45"), ("date_to", "99999-01-01"),
    ("date_from", "0000-00-00"), ("date_to", "-1"), ("date_from", "2026-02-30"),
    ("date_to", "2026-01-01T00:00:00"), ("date_from", "\u0661\u0669\u0667\u0660-01-01"),
]


def actor(tracked, who):
    return {"admin": tracked.w.admin, "owner": tracked.w.owner}[who]


# One world per test, every bad value tried in it: building the tracked windows is the slow part.

@pytest.mark.parametrize("who", ["admin", "owner"])
def test_the_api_answers_a_bad_date_with_a_400_json_error_naming_the_field(tracked, api, who):
    api.as_(actor(tracked, who))
    for field, value in OUT_OF_RANGE + GARBAGE:
        response = api.get(API, data={field: value})
        assert response.status_code == 400, (field, value, response.content)
        assert response["Content-Type"] == "application/json"
        body = response.json()
        assert body["field"] == field, (field, value, body)
        assert f"{field}:" in body["detail"], (field, value, body)


def test_the_api_says_which_dates_it_accepts(tracked, api):
    api.as_(tracked.w.admin)
    accepted = (f"between {tracking.FILTER_DATE_MIN:%Y-%m-%d} and "
                f"{tracking.FILTER_DATE_MAX:%Y-%m-%d}")
    for field, value in OUT_OF_RANGE:
        assert accepted in api.get(API, data={field: value}).json()["detail"], (field, value)


@pytest.mark.parametrize("who", ["admin", "owner"])
def test_the_page_shows_a_bad_date_as_a_form_error_and_still_lists_windows(tracked, client, who):
    client.force_login(actor(tracked, who))
    for field, value in OUT_OF_RANGE + GARBAGE:
        response = client.get(PAGE, data={field: value})
        assert response.status_code == 200, (field, value)
        html = response.content.decode()
        # The error summary names the field and links to it.
        assert "error-summary" in html and f'href="#id_{field}"' in html, (field, value)
        assert f'id="id_{field}"' in html
        # The filter that could not be read is dropped, not half-applied: the page lists what
        # the user may track (the partner's active grant is on the owner's model).
        assert f"Partner grant #{tracked.grant.pk}<" in html, (field, value)


def test_the_edges_of_the_accepted_range_filter_normally(tracked, api):
    api.as_(tracked.w.admin)

    def ids(**params):
        response = api.get(API, data=params | {"page_size": 500})
        assert response.status_code == 200, response.content
        return {(r["kind"], r["id"]) for r in response.json()["results"]}

    everything = ids(date_from=f"{tracking.FILTER_DATE_MIN:%Y-%m-%d}",
                     date_to=f"{tracking.FILTER_DATE_MAX:%Y-%m-%d}")
    assert len(everything) == 8
    assert ids() < everything  # the coming 90 days: not the ended grant
    assert ("partner", tracked.ended.pk) in everything - ids()
    assert ids(date_from=f"{tracking.FILTER_DATE_MAX:%Y-%m-%d}") == set()
    assert ids(date_to=f"{tracking.FILTER_DATE_MIN:%Y-%m-%d}") == set()


def test_the_page_accepts_the_edges_of_the_range(tracked, client):
    client.force_login(tracked.w.admin)
    response = client.get(PAGE, data={"date_from": f"{tracking.FILTER_DATE_MIN:%Y-%m-%d}",
                                      "date_to": f"{tracking.FILTER_DATE_MAX:%Y-%m-%d}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "error-summary" not in html
    assert f"Partner grant #{tracked.grant.pk}<" in html


@pytest.mark.parametrize("bound", [{"date_to": date.max}, {"date_from": date.min},
                                   {"date_from": date(1, 1, 1), "date_to": date(9999, 12, 31)}])
def test_the_selector_itself_refuses_dates_outside_the_range(tracked, bound):
    # A rule enforced in the form only is not enforced: other callers reach the selector too.
    with pytest.raises(ApplicationError) as caught:
        tracking.windows_overview(user=tracked.w.admin, **bound)
    assert caught.value.status == 400
    assert caught.value.field in bound


def test_the_range_is_wide_enough_for_every_real_window(tracked):
    today = timezone.localdate()
    assert tracking.FILTER_DATE_MIN <= today - timedelta(days=365 * 20)
    assert tracking.FILTER_DATE_MAX >= today + timedelta(days=365 * 100)


def test_a_huge_model_or_organisation_number_is_a_400_not_a_500(tracked, api, client):
    api.as_(tracked.w.admin)
    for field in ("model", "organisation"):
        response = api.get(API, data={field: "9" * 30})
        assert response.status_code == 400, (field, response.content)
        assert response.json()["field"] == field
        assert api.get(API, data={field: str(2**63 - 1)}).json()["results"] == []
    client.force_login(tracked.w.admin)
    html = client.get(PAGE, data={"model": "9" * 30}).content.decode()
    assert "error-summary" in html and 'href="#id_model"' in html
