"""The page (and API) that tracks every window, government and partner: one page of the
windows that overlap a date range (default the coming 90 days), on one timeline."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from partners import services, tracking
from partners.models import AccessGrant
from submissions.models import AccessWindow
from tests.factories import make_model
from tests.partners.tracking_helpers import (
    build_tracked,
    extra_grant,
    government_window,
    with_grant,
)

PAGE = reverse("window_tracking")
API = reverse("api-windows-overview")


tracked_fixture = pytest.fixture(name="tracked")(build_tracked)


def wide():
    """A range that holds every window of `build_tracked` (they run from day -20 to day 30)."""
    today = timezone.localdate()
    return {"date_from": today - timedelta(days=60), "date_to": today + timedelta(days=60)}


def overview(user, **kw):
    return tracking.windows_overview(user=user, **(wide() | kw)).rows


def states(rows):
    return {(r.kind, r.pk): r.state for r in rows}


def test_it_computes_each_state_on_the_server(tracked):
    pw = tracked
    rows = overview(pw.w.admin)
    G, P = tracking.GOVERNMENT, tracking.PARTNER
    assert states(rows) == {
        (G, pw.window.pk): "scheduled", (G, pw.cancelled.pk): "cancelled",
        (G, pw.flagged.pk): "flagged", (P, pw.grant.pk): "active",
        (P, pw.ending.pk): "ending_soon", (P, pw.ended.pk): "ended",
        (P, pw.revoked.pk): "revoked", (P, pw.future.pk): "scheduled"}


def test_a_window_ends_by_the_clock_without_any_job(tracked):
    pw = tracked
    AccessGrant.objects.filter(pk=pw.grant.pk).update(
        ends_at=timezone.now() - timedelta(seconds=1))
    row = next(r for r in overview(pw.w.admin) if r.kind == "partner" and r.pk == pw.grant.pk)
    assert row.state == "ended"


def test_a_suspended_partner_shows_as_such_and_an_ended_flag_is_history(tracked):
    pw = tracked
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")
    AccessWindow.objects.filter(pk=pw.flagged.pk).update(
        starts_at=timezone.now() - timedelta(days=9), ends_at=timezone.now() - timedelta(days=1))
    found = states(overview(pw.w.admin))
    assert found[("partner", pw.grant.pk)] == "suspended"
    assert found[("partner", pw.ended.pk)] == "ended"
    assert found[("government", pw.flagged.pk)] == "ended"


def test_the_state_filter_in_sql_picks_exactly_the_windows_in_that_state(tracked):
    pw = tracked
    services.partner_transition(profile=pw.other_profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")  # pw.future becomes "suspended"
    every = states(overview(pw.w.admin))
    assert "suspended" in every.values()
    for state in tracking.State.LABELS:
        expected = {key for key, value in every.items() if value == state}
        assert set(states(overview(pw.w.admin, state=state))) == expected, state


def test_the_default_range_is_today_and_the_89_days_after_it(tracked, api):
    pw = tracked
    body = api.as_(pw.w.admin).get(API).json()
    today = timezone.localdate()
    assert body["date_from"] == f"{today:%Y-%m-%d}"
    assert body["date_to"] == f"{today + timedelta(days=89):%Y-%m-%d}"
    keys = {(r["kind"], r["id"]) for r in body["results"]}
    assert ("partner", pw.ended.pk) not in keys  # ended yesterday
    assert ("partner", pw.future.pk) in keys and ("partner", pw.grant.pk) in keys
    late = extra_grant(pw, start_days=91, end_days=100)
    keys = {(r["kind"], r["id"]) for r in api.get(API).json()["results"]}
    assert ("partner", late.pk) not in keys
    assert ("partner", late.pk) in {
        (r["kind"], r["id"]) for r in api.get(
            API, data={"date_from": today + timedelta(days=95)}).json()["results"]}


@pytest.mark.parametrize("who,code", [
    ("admin", 200), ("owner", 200), ("colleague", 200), ("outsider", 200), ("reviewer", 404),
    ("reviewer2", 404), ("partner", 404), ("anonymous", 302)])
def test_the_page_per_actor(tracked, client, who, code):
    w = tracked.w
    user = w.actors()[who]
    if user is not None:
        client.force_login(user)
    response = client.get(PAGE, wide())
    assert response.status_code == code
    if code != 200:
        return
    body = response.content.decode()
    acme = f"Government #{tracked.window.pk}<" in body
    other = f"Government #{tracked.flagged.pk}<" in body
    grant = f"Partner grant #{tracked.grant.pk}<" in body
    assert (acme, grant, other) == {"admin": (True, True, True), "owner": (True, True, False),
                                    "colleague": (True, True, False),
                                    "outsider": (False, False, True)}[who]
    offered = set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', body))
    # the organisation filter: a developer's own and the partners holding grants on its models
    assert {"Acme AI", "Rural Hospital", "Community Bank", "Other AI"} & offered == {
        "admin": {"Acme AI", "Rural Hospital", "Community Bank", "Other AI"},
        "owner": {"Acme AI", "Rural Hospital", "Community Bank"},
        "colleague": {"Acme AI", "Rural Hospital", "Community Bank"},
        "outsider": {"Other AI"}}[who]


@pytest.mark.parametrize("who,code", [
    ("admin", 200), ("owner", 200), ("colleague", 200), ("outsider", 200), ("reviewer", 404),
    ("reviewer2", 404), ("partner", 404), ("anonymous", 401)])
def test_the_api_per_actor(tracked, api, who, code):
    pw = tracked
    response = api.as_(pw.w.actors()[who]).get(API, data=wide())
    assert response.status_code == code
    assert response["Content-Type"] == "application/json"
    if code != 200:
        return
    keys = {(r["kind"], r["id"]) for r in response.json()["results"]}
    acme = {("government", pw.window.pk), ("partner", pw.grant.pk), ("partner", pw.ending.pk),
            ("partner", pw.ended.pk), ("partner", pw.revoked.pk), ("partner", pw.future.pk)}
    other = {("government", pw.cancelled.pk), ("government", pw.flagged.pk)}
    assert keys == {"admin": acme | other, "owner": acme, "colleague": acme,
                    "outsider": other}[who]


def test_the_api_row_says_state_holder_and_note(tracked, api):
    body = api.as_(tracked.w.admin).get(API, data={"state": "revoked"}).json()
    rows = body["results"]
    assert body["next"] is None
    assert rows == [{
        "kind": "partner", "id": tracked.revoked.pk, "model": tracked.w.model.pk,
        "model_label": str(tracked.w.model), "developer": "Acme AI",
        "organisation": "Rural Hospital", "starts_at": rows[0]["starts_at"],
        "ends_at": rows[0]["ends_at"], "state": "revoked", "note": "Misuse."}]


def test_it_filters_by_model_organisation_date_and_state(tracked, api):
    pw = tracked
    api.as_(pw.w.admin)

    def ids(**params):
        return {(r["kind"], r["id"]) for r in api.get(API, data=params).json()["results"]}

    assert ids(model=pw.w.other_model.pk) == {("government", pw.cancelled.pk),
                                              ("government", pw.flagged.pk)}
    assert ids(organisation=pw.other_profile.organisation.pk) == {("partner", pw.future.pk)}
    today = timezone.localdate()
    assert ids(date_from=today + timedelta(days=15)) == {("partner", pw.future.pk)}
    assert ("partner", pw.future.pk) not in ids(date_to=today + timedelta(days=15))
    assert ("partner", pw.ended.pk) in ids(date_to=today - timedelta(days=5))
    assert ids(state="ending_soon") == {("partner", pw.ending.pk)}
    assert api.get(API, data={"state": "nonsense"}).status_code == 400


def test_a_developer_cannot_filter_its_way_to_another_model(tracked, api):
    body = api.as_(tracked.w.owner).get(API, data={"model": tracked.w.other_model.pk}).json()
    assert body["results"] == []


# --- ranges, pages and cursors ----------------------------------------------------------------

@pytest.mark.parametrize("params,field", [
    ({"date_from": "2026-05-10", "date_to": "2026-05-09"}, "date_to"),
    ({"page_size": "0"}, "page_size"), ({"page_size": "501"}, "page_size"),
    ({"page_size": "many"}, "page_size"), ({"cursor": "garbage"}, "cursor"),
    ({"cursor": "WzEsMiwzXQ"}, "cursor"),  # [1,2,3]: valid base64 and JSON, not a cursor
    ({"cursor": "x" * 201}, "cursor"),
    ({"cursor": "WyIwMDAxLTAxLTAxVDAwOjAwOjAwKzA1OjAwIiwwLDFd"}, "cursor"),  # year 1, UTC+5
    ({"cursor": "WyI5OTk5LTEyLTMxVDIzOjAwOjAwLTA1OjAwIiwwLDFd"}, "cursor"),  # past year 9999 UTC
])
def test_the_api_answers_a_bad_range_size_or_cursor_with_a_400_json_error(tracked, api, params,
                                                                          field):
    response = api.as_(tracked.w.admin).get(API, data=params)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json()["field"] == field


def test_the_page_shows_an_end_before_the_start_as_a_form_error(tracked, client):
    client.force_login(tracked.w.admin)
    response = client.get(PAGE, {"date_from": "2026-05-10", "date_to": "2026-05-09"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html and "before its start" in html
    assert f"Partner grant #{tracked.grant.pk}<" in html  # the default range instead
    for bad in ("0", "-1", "x", "1.5", "9" * 10):  # names no page: 404, as every HTML list
        assert client.get(PAGE, {"page": bad}).status_code == 404, bad


def test_a_range_end_before_its_start_is_refused_by_the_selector_itself(tracked):
    today = timezone.localdate()
    with pytest.raises(tracking.ApplicationError) as caught:
        tracking.windows_page(user=tracked.w.admin, date_from=today,
                              date_to=today - timedelta(days=1))
    assert caught.value.field == "date_to"


def _many_grants(pw, n):
    return [extra_grant(pw, start_days=1 + i / 10, end_days=3 + i / 10) for i in range(n)]


def test_the_api_walks_every_window_once_in_order_through_its_next_links(tracked, api):
    pw = tracked
    _many_grants(pw, 5)
    api.as_(pw.w.admin)
    every = [(r["kind"], r["id"]) for r in api.get(
        API, data=wide() | {"page_size": 500}).json()["results"]]
    assert len(every) == 13
    walked, url, params = [], API, wide() | {"page_size": 3}
    while url:
        body = api.get(url, data=params).json()
        assert len(body["results"]) <= 3
        walked += [(r["kind"], r["id"]) for r in body["results"]]
        url, params = body["next"], None
    assert walked == every
    starts = [r.starts_at for r in overview(pw.w.admin, size=500)]
    assert starts == sorted(starts)


def test_a_cursor_breaks_ties_on_the_start_by_kind_and_id(tracked):
    pw = tracked
    moment = timezone.now() + timedelta(days=2)
    grants = _many_grants(pw, 3)
    AccessGrant.objects.filter(pk__in=[g.pk for g in grants]).update(starts_at=moment)
    AccessWindow.objects.filter(pk=pw.window.pk).update(starts_at=moment)
    seen, cursor = [], None
    while True:
        page = tracking.windows_overview(user=pw.w.admin, cursor=cursor, size=1, **wide())
        seen += [(r.kind, r.pk) for r in page.rows]
        if not (cursor := page.next_cursor):
            break
    tied = [key for key in seen if key in {("government", pw.window.pk)}
            | {("partner", g.pk) for g in grants}]
    assert tied == [("government", pw.window.pk)] + [("partner", g.pk) for g in grants]
    assert len(seen) == len(set(seen)) == 11


def test_the_page_is_paginated_and_its_links_keep_the_filters(tracked, client, settings):
    pw = tracked
    settings.HTML_PAGE_SIZE = 3
    _many_grants(pw, 2)  # 10 windows in the wide range
    client.force_login(pw.w.admin)
    seen = []
    for number in (1, 2, 3, 4):
        html = client.get(PAGE, wide() | {"page": number}).content.decode()
        seen += re.findall(r'<td><a href="[^"]+">(Government|Partner grant) #(\d+)</a></td>', html)
        assert re.search(r'aria-current="page"><span class="visually-hidden">Page </span>'
                         rf"{number}<", html)
        assert ('rel="next"' in html) == (number < 4) and ('rel="prev"' in html) == (number > 1)
    assert len(seen) == len(set(seen)) == 10
    html = client.get(PAGE, wide()).content.decode()
    link = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
    assert "page=2" in link and f"date_from={wide()['date_from']:%Y-%m-%d}" in link
    assert "Windows 1–3 of 10" in html
    assert client.get(PAGE, wide() | {"page": 5}).status_code == 404  # past the last page


def test_the_count_is_bounded(tracked, monkeypatch):
    monkeypatch.setattr(tracking, "COUNT_CAP", 4)
    page = tracking.windows_page(user=tracked.w.admin, size=3, **wide())
    assert page.count_capped and page.num_pages is None and page.has_next
    page = tracking.windows_page(user=tracked.w.admin, size=3, page=3, **wide())
    assert len(page.rows) == 2 and not page.has_next


# --- the timeline -----------------------------------------------------------------------------

def rendered_bars(html):
    return {(kind, int(pk)): (float(x), float(width)) for kind, pk, x, width in re.findall(
        r'data-kind="(\w+)" data-id="(\d+)" data-x="([\d.]+)" data-width="([\d.]+)"', html)}


def test_the_timeline_draws_every_window_of_the_page_on_one_axis(tracked, client):
    client.force_login(tracked.w.admin)
    response = client.get(PAGE, wide())
    body = response.content.decode()
    assert body.count('<svg class="timeline"') == 1  # one axis for every model
    bars = rendered_bars(body)
    assert len(bars) == 8 == body.count('<g class="window window-')
    revoked = tracked.revoked.pk
    assert f'class="window window-revoked" data-kind="partner" data-id="{revoked}"' in body
    assert 'class="now"' in body
    assert " style=" not in body and "fill=" not in body  # colours from portal.css (CSP)
    start = datetime.combine(wide()["date_from"], time.min,
                             tzinfo=timezone.get_current_timezone())
    span = (timedelta(days=121)).total_seconds()
    for (kind, pk), (x, width) in bars.items():
        obj = (AccessWindow if kind == "government" else AccessGrant).objects.get(pk=pk)
        expected_x = tracking.LABEL_W + tracking.CHART_W * (
            (obj.starts_at - start).total_seconds() / span)
        expected_w = tracking.CHART_W * (obj.ends_at - obj.starts_at).total_seconds() / span
        assert abs(x - expected_x) <= 0.1, (kind, pk)
        assert abs(width - expected_w) <= 0.2, (kind, pk)
    # windows of two models that run at the same time overlap on the shared axis
    grant = bars["partner", tracked.grant.pk]
    flagged = bars["government", tracked.flagged.pk]
    assert flagged[0] < grant[0] + grant[1] and grant[0] < flagged[0] + flagged[1]
    filtered = client.get(PAGE, wide() | {"model": tracked.w.model.pk}).content.decode()
    assert len(rendered_bars(filtered)) == 6


def test_a_window_longer_than_the_range_is_clipped_to_the_axis(tracked):
    tomorrow = timezone.localdate() + timedelta(days=1)  # the grant runs from -1 h to +5 days
    rows = overview(tracked.w.admin, date_from=tomorrow, date_to=tomorrow)
    line = tracking.timeline(rows, tracking.date_range_resolve(date_from=tomorrow,
                                                               date_to=tomorrow))
    bar = next(b for b in line.bars if b.row.kind == "partner" and b.row.pk == tracked.grant.pk)
    assert bar.clipped_start and bar.clipped_end
    assert bar.x == tracking.LABEL_W and bar.width == tracking.CHART_W
    assert all(tracking.LABEL_W <= b.x and b.x + b.width <= tracking.LABEL_W + tracking.CHART_W
               for b in line.bars)


def test_the_axis_has_a_tick_on_the_first_of_each_month():
    from datetime import date
    line = tracking.timeline([], tracking.DateRange(date(2026, 1, 15), date(2026, 4, 14)))
    assert [t.label for t in line.ticks] == ["2026-02", "2026-03", "2026-04"]
    assert line.ticks[0].x > tracking.LABEL_W
    long = tracking.timeline([], tracking.DateRange(date(2026, 1, 1), date(2036, 1, 1)))
    assert len(long.ticks) <= 13


# --- queries ----------------------------------------------------------------------------------

def _more_windows(pw, n_models: int, n_grants: int, batch: str):
    for i in range(n_models):
        model = make_model(pw.w.owner, name=f"Extra {batch}{i}")
        government_window(model, pw.w.owner, start_days=1, end_days=5)
    for i in range(n_grants):
        extra_grant(pw, start_days=i / 10, end_days=i / 10 + 3)


@pytest.mark.parametrize("who", ["admin", "owner"])
def test_the_page_and_api_run_the_same_queries_for_n_and_3n_windows(pw, client, who, settings):
    with_grant(pw)
    _more_windows(pw, n_models=2, n_grants=4, batch="a")  # N = 8 windows
    client.force_login(pw.w.actors()[who])
    urls = {"page 1": (PAGE, {}), "page 2": (PAGE, {"page": 2}),
            "api": (API, {"page_size": 3})}

    def measure():
        counts = {}
        for name, (url, params) in urls.items():
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(url, params).status_code == 200
            counts[name] = len(ctx)
        cursor_url = client.get(API, {"page_size": 3}).json()["next"]
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(cursor_url).status_code == 200
        counts["api, next page"] = len(ctx)
        return counts

    settings.HTML_PAGE_SIZE = 3
    measure()  # warm the per-process caches (content types)
    before = measure()
    _more_windows(pw, n_models=4, n_grants=12, batch="b")  # 3N = 24 windows
    after = measure()
    assert after == before
    assert before["api"] == before["api, next page"]
    assert len(client.get(API, {"page_size": 500}).json()["results"]) == 24


def test_every_bar_and_row_leads_to_its_window_and_no_state_is_told_by_colour_alone(tracked,
                                                                                    client):
    client.force_login(tracked.w.admin)
    body = client.get(PAGE, wide()).content.decode()
    grant, government = tracked.revoked, tracked.flagged
    grant_url = reverse("access_request_detail", args=[grant.request_id])
    model_url = reverse("model_detail", args=[government.model_id]) + "#windows"
    assert body.count('<a href="' + grant_url + '" class="window-link" aria-label="') == 1
    assert f'<a href="{model_url}" class="window-link" aria-label="' in body
    assert f'<td><a href="{grant_url}">Partner grant #{grant.pk}</a></td>' in body
    assert client.get(grant_url).status_code == 200
    assert client.get(model_url.split("#")[0]).status_code == 200
    # One pattern per state, each with a mark but one (solid), all different; the legend and
    # the bars fill with them.
    marks = tracking.State.MARKS
    assert set(marks) == set(tracking.State.LABELS)
    assert len(set(marks.values())) == len(marks) and list(marks.values()).count("") == 1
    for key, label in tracking.State.LABELS.items():
        assert f'<pattern id="pattern-{key}"' in body
        assert f'<rect class="window-{key}" width="18" height="14"/></svg> {label}</li>' in body
    css = (settings_base_dir() / "static/css/portal.css").read_text()
    for key in tracking.State.LABELS:
        assert f"rect.window-{key} {{ fill: url(#pattern-{key}); }}" in css


def settings_base_dir():
    from django.conf import settings

    return settings.BASE_DIR
