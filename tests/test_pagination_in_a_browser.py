"""Paging a long list in a real browser: Chromium goes through a developer's 105 models with
the keyboard (Tab to a page link, Enter) and the mouse, and the page links say where it is
(aria-current) and report no Content-Security-Policy violation."""

import os

import pytest

from tests.factories import make_model
from tests.faultkit import PortalServer
from tests.security import test_csp_in_a_browser as csp
from tests.security.test_csp_in_a_browser import Visitor, database_url

pytestmark = pytest.mark.slow

browser = csp.browser  # Chromium (Debian's), shared with the CSP browser tests


@pytest.fixture
def server(transactional_db, tmp_path):
    portal = PortalServer({"DATABASE_URL": database_url()}, log=tmp_path / "gunicorn.log")
    # A port of our own when one is given (parallel sessions), else any free one.
    if os.environ.get("PAGINATION_TEST_PORT"):
        portal.port = int(os.environ["PAGINATION_TEST_PORT"])
    try:
        yield portal.start()
    finally:
        portal.stop()


def _rows(page) -> int:
    return page.locator("main table tbody tr td a[href^='/models/']").count()


def _current(page) -> str:
    return page.locator("nav[aria-label='Model pages'] [aria-current='page']").text_content()


def _tab_to(page, selector: str, limit: int = 400) -> None:
    """Press Tab until the focused element matches `selector` (keyboard only)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({selector!r})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_a_developer_pages_through_a_long_list_with_the_keyboard_and_the_mouse(
        world, server, browser):
    for i in range(104):  # and world.model: 105, three pages of 50
        make_model(world.owner, name=f"Paged {i:03d}")
    visitor = Visitor(browser, server, world.owner)
    page = visitor.page

    visitor.visit("/models/")
    assert _rows(page) == 50
    assert "Page 1" in _current(page)
    nav = "nav[aria-label='Model pages']"
    assert page.locator(f"{nav} a[rel='prev']").count() == 0

    _tab_to(page, f"{nav} a[rel='next']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/models/?page=2")
    assert _rows(page) == 50
    assert "Page 2" in _current(page)
    visitor.settle("page 2")

    with page.expect_navigation():
        page.get_by_role("link", name="Page 3", exact=True).click()
    assert page.url.endswith("/models/?page=3")
    assert _rows(page) == 5
    assert page.locator(f"{nav} a[rel='next']").count() == 0
    visitor.settle("page 3")

    _tab_to(page, f"{nav} a[rel='prev']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Page 2" in _current(page)

    response = page.goto(server.base + "/models/?page=4")
    assert response.status == 404
    visitor.problems = []  # the 404 was asked for
    visitor.context.close()
