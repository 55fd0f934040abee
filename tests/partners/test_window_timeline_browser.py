"""The window timeline in a real browser (Chromium, the portal under gunicorn): every window of
the page drawn on the one axis of the range, inside the chart, coloured by portal.css (no
inline style, no CSP violation), overlapping windows overlapping on screen."""

from datetime import timedelta

import pytest
from django.utils import timezone

from partners import tracking
from tests.partners.tracking_helpers import build_tracked
from tests.security.test_csp_in_a_browser import Visitor, browser, server  # noqa: F401

pytestmark = pytest.mark.slow

tracked_fixture = pytest.fixture(name="tracked")(build_tracked)


def test_the_timeline_draws_every_window_on_one_axis_in_a_browser(tracked, server,  # noqa: F811
                                                                   browser):  # noqa: F811
    today = timezone.localdate()
    visitor = Visitor(browser, server, tracked.w.admin)
    visitor.visit(f"/partners/windows/?date_from={today - timedelta(days=60)}"
                  f"&date_to={today + timedelta(days=60)}")
    page = visitor.page
    assert page.locator("svg.timeline").count() == 1
    chart = page.eval_on_selector("svg.timeline", "s => s.getBoundingClientRect().toJSON()")
    bars = page.eval_on_selector_all("svg.timeline g.window", """gs => gs.map(g => {
        const r = g.querySelector("rect"); const box = r.getBoundingClientRect();
        return {kind: g.dataset.kind, id: Number(g.dataset.id), left: box.left,
                right: box.right, fill: getComputedStyle(r).fill}; })""")
    assert len(bars) == 8
    scale = chart["width"] / (tracking.LABEL_W + tracking.CHART_W)
    axis_left = chart["left"] + tracking.LABEL_W * scale
    for bar in bars:
        assert axis_left - 1 <= bar["left"] < bar["right"] <= chart["right"] + 1, bar
        assert bar["fill"] not in ("", "none", "rgb(0, 0, 0)"), bar  # portal.css applied
    by_key = {(b["kind"], b["id"]): b for b in bars}
    grant = by_key["partner", tracked.grant.pk]
    flagged = by_key["government", tracked.flagged.pk]
    ended = by_key["partner", tracked.ended.pk]
    assert flagged["left"] < grant["right"] and grant["left"] < flagged["right"]
    assert ended["right"] <= grant["right"]  # it ended before the live grant ends
    # Active: its pattern, whose tile is #009E73 (a mark per state keeps colour from being
    # the only cue; the active one is the solid one).
    assert grant["fill"] == 'url("#pattern-active")'
    tile = page.eval_on_selector("#pattern-active rect", "r => getComputedStyle(r).fill")
    assert tile == "rgb(0, 158, 115)"
