"""The admin page (and API) that tracks every window, government and partner."""

from datetime import timedelta

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


def states(rows):
    return {(r.kind, r.pk): r.state for r in rows}


def test_it_computes_each_state_on_the_server(tracked):
    pw = tracked
    rows = tracking.windows_overview(user=pw.w.admin)
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
    row = next(r for r in tracking.windows_overview(user=pw.w.admin)
               if r.kind == "partner" and r.pk == pw.grant.pk)
    assert row.state == "ended"


def test_a_suspended_partner_shows_as_such_and_an_ended_flag_is_history(tracked):
    pw = tracked
    services.partner_transition(profile=pw.profile, actor=pw.w.admin, action="suspend",
                                reason="Incident.")
    AccessWindow.objects.filter(pk=pw.flagged.pk).update(
        starts_at=timezone.now() - timedelta(days=9), ends_at=timezone.now() - timedelta(days=1))
    found = states(tracking.windows_overview(user=pw.w.admin))
    assert found[("partner", pw.grant.pk)] == "suspended"
    assert found[("partner", pw.ended.pk)] == "ended"
    assert found[("government", pw.flagged.pk)] == "ended"


@pytest.mark.parametrize("who,code", [
    ("admin", 200), ("owner", 200), ("outsider", 200), ("reviewer", 404), ("partner", 404),
    ("anonymous", 302)])
def test_the_page_per_actor(tracked, client, who, code):
    w = tracked.w
    user = w.actors()[who]
    if user is not None:
        client.force_login(user)
    response = client.get(PAGE)
    assert response.status_code == code
    if code != 200:
        return
    body = response.content.decode()
    acme = f"Government #{tracked.window.pk}<" in body
    other = f"Government #{tracked.flagged.pk}<" in body
    grant = f"Partner grant #{tracked.grant.pk}<" in body
    assert (acme, grant, other) == {"admin": (True, True, True), "owner": (True, True, False),
                                    "outsider": (False, False, True)}[who]


@pytest.mark.parametrize("who,code", [
    ("admin", 200), ("owner", 200), ("colleague", 200), ("outsider", 200), ("reviewer", 404),
    ("reviewer2", 404), ("partner", 404), ("anonymous", 401)])
def test_the_api_per_actor(tracked, api, who, code):
    pw = tracked
    response = api.as_(pw.w.actors()[who]).get(API)
    assert response.status_code == code
    if code != 200:
        return
    keys = {(r["kind"], r["id"]) for r in response.json()}
    acme = {("government", pw.window.pk), ("partner", pw.grant.pk), ("partner", pw.ending.pk),
            ("partner", pw.ended.pk), ("partner", pw.revoked.pk), ("partner", pw.future.pk)}
    other = {("government", pw.cancelled.pk), ("government", pw.flagged.pk)}
    assert keys == {"admin": acme | other, "owner": acme, "colleague": acme,
                    "outsider": other}[who]


def test_the_api_row_says_state_holder_and_note(tracked, api):
    rows = api.as_(tracked.w.admin).get(API, data={"state": "revoked"}).json()
    assert rows == [{
        "kind": "partner", "id": tracked.revoked.pk, "model": tracked.w.model.pk,
        "model_label": str(tracked.w.model), "developer": "Acme AI",
        "organisation": "Rural Hospital", "starts_at": rows[0]["starts_at"],
        "ends_at": rows[0]["ends_at"], "state": "revoked", "note": "Misuse."}]


def test_it_filters_by_model_organisation_date_and_state(tracked, api):
    pw = tracked
    api.as_(pw.w.admin)

    def ids(**params):
        return {(r["kind"], r["id"]) for r in api.get(API, data=params).json()}

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
    rows = api.as_(tracked.w.owner).get(API, data={"model": tracked.w.other_model.pk}).json()
    assert rows == []


def test_the_timeline_draws_one_svg_per_model_and_one_bar_per_window(tracked, client):
    client.force_login(tracked.w.admin)
    body = client.get(PAGE).content.decode()
    assert body.count('<svg class="timeline"') == 2
    assert body.count('<g class="window window-') == 8
    assert f'data-kind="partner" data-id="{tracked.revoked.pk}"' in body
    assert tracking.State.COLOURS["revoked"] in body and 'class="now"' in body
    filtered = client.get(PAGE, {"model": tracked.w.model.pk}).content.decode()
    assert filtered.count('<svg class="timeline"') == 1


def test_bars_of_overlapping_windows_overlap_on_the_axis(tracked):
    rows = tracking.windows_overview(user=tracked.w.admin, model_id=tracked.w.model.pk)
    (timeline,) = tracking.timelines(rows)
    bars = {(b.row.kind, b.row.pk): b for b in timeline.bars}
    grant, ending = bars[("partner", tracked.grant.pk)], bars[("partner", tracked.ending.pk)]
    assert grant.x < ending.x + ending.width  # both run now
    ended = bars[("partner", tracked.ended.pk)]
    assert ended.x == tracking.LABEL_W  # the earliest window starts the axis
    assert all(b.x + b.width <= tracking.LABEL_W + tracking.CHART_W + 2 for b in bars.values())


def _more_windows(pw, n_models: int, n_grants: int):
    for i in range(n_models):
        model = make_model(pw.w.owner, name=f"Extra {i}")
        government_window(model, pw.w.owner, start_days=1, end_days=5)
    for i in range(n_grants):
        extra_grant(pw, start_days=i, end_days=i + 3)


@pytest.mark.parametrize("who", ["admin", "owner"])
def test_the_page_and_api_run_a_fixed_number_of_queries(pw, client, who,
                                                         django_assert_max_num_queries):
    with_grant(pw)  # 1 government window + 1 grant = 2 windows
    user = pw.w.actors()[who]
    client.force_login(user)
    counts = {}
    for url in (PAGE, API):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        counts[url] = len(ctx)
    _more_windows(pw, n_models=4, n_grants=6)  # 12 windows
    for url in (PAGE, API):
        with django_assert_max_num_queries(counts[url]):
            response = client.get(url)
        assert response.status_code == 200
    assert len(client.get(API).json()) == 12
