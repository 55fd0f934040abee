"""The Content-Security-Policy in a real browser: Chromium visits the main pages as a signed-in
user of each role and no page reports a violation, while the pages' scripts still work (the run
page follows progress, Swagger UI draws the API, the browsable API highlights its JSON)."""

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from evaluations import engine
from evaluations.models import EvaluationRun
from tests.conftest import bring_to
from tests.evaluations.test_access import create_suite
from tests.faultkit import PortalServer

pytestmark = pytest.mark.slow

# Every violation the page reports, whatever the directive, ends up in window.__csp.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", e => {
  window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ` +
                    `${e.sourceFile}:${e.lineNumber} ${e.sample}`);
});
"""


def database_url() -> str:
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    host = settings["HOST"] or "127.0.0.1"
    return (f"postgres://{settings['USER']}@{host}:{settings['PORT'] or 5432}/"
            f"{settings['NAME']}")


def session_cookie(user, base: str) -> dict:
    client = Client()
    client.force_login(user)
    return {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": base}


@pytest.fixture
def server(transactional_db, tmp_path):
    portal = PortalServer({"DATABASE_URL": database_url()}, log=tmp_path / "gunicorn.log")
    try:
        yield portal.start()
    finally:
        portal.stop()


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own database calls
    # (sessions, a run's progress) are plain synchronous ones all the same.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            chromium.close()


class Visitor:
    """A signed-in browser tab that records CSP violations, console errors and script errors."""

    def __init__(self, browser, server, user):
        self.server = server
        self.context = browser.new_context()
        if user is not None:
            self.context.add_cookies([session_cookie(user, server.base)])
        self.context.add_init_script(RECORD_VIOLATIONS)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("response", self._response)

    def _response(self, response):
        # The browser asks for /favicon.ico by itself; the portal has none.
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.problems.append(f"{response.status} for {response.url}")

    def _console(self, message):
        if "Failed to load resource" in message.text:
            return  # reported with its address by _response
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def visit(self, path: str) -> None:
        response = self.page.goto(self.server.base + path, wait_until="load")
        assert response is not None and response.status == 200, (path, response and
                                                                   response.status)
        assert "Content-Security-Policy" in {k.title() for k in response.headers}, path
        self.settle(path)

    def settle(self, where: str) -> None:
        self.page.wait_for_timeout(150)  # let late scripts and styles apply
        reported = self.page.evaluate("window.__csp")
        problems = self.problems + [f"violation: {v}" for v in reported]
        self.problems = []
        assert problems == [], (where, problems)

    def nav_links(self) -> list[str]:
        self.visit("/profile/")
        hrefs = self.page.eval_on_selector_all("header.usa-header a",
                                               "els => els.map(e => e.pathname)")
        return sorted(set(hrefs))


def test_no_page_reports_a_csp_violation_for_any_role(world, server, browser):
    bring_to(world, "in_review")
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save(update_fields=["is_staff", "is_superuser"])
    request = world.request.pk
    extra = {
        world.owner: [f"/models/{world.model.pk}/", f"/requests/{request}/", "/api/v1/models/",
                      "/api/v1/docs/", "/inbox/preferences/"],
        world.reviewer: [f"/requests/{request}/", f"/requests/{request}/evaluation/",
                         f"/requests/{request}/review/", "/api/v1/review-requests/",
                         # allauth's MFA pages: TOTP's QR code, WebAuthn's static scripts
                         "/accounts/2fa/", "/accounts/2fa/webauthn/",
                         "/accounts/2fa/webauthn/add/", "/accounts/email/"],
        world.admin: [f"/requests/{request}/", "/admin/", "/admin/audit/auditevent/",
                      "/admin/submissions/frontiermodel/", "/api/v1/docs/",
                      f"/policies/{world.policy.pk}/", "/api/v1/audit-events/",
                      f"/api/v1/review-requests/{request}/"],
        world.partner: ["/partners/requests/", "/api/v1/partner-organisations/"],
    }
    visited = 0
    for user, paths in extra.items():
        visitor = Visitor(browser, server, user)
        for path in visitor.nav_links() + paths:
            visitor.visit(path)
            visited += 1
        visitor.context.close()
    anonymous = Visitor(browser, server, None)
    for path in ["/accounts/login/", "/accounts/password/reset/", "/accounts/signup/"]:
        anonymous.visit(path)
        visited += 1
    assert visited >= 30


def test_the_run_page_follows_progress_under_the_policy(world, server, browser):
    bring_to(world, "in_review")
    version = create_suite(world)
    run = EvaluationRun.objects.create(
        request=world.request, suite_version=version, started_by=world.reviewer,
        status=EvaluationRun.Status.RUNNING, suite_hash=version.content_hash,
        inspect_version=engine.INSPECT_VERSION, model_identity="portalsim/atlas-sim",
        samples_total=4, samples_done=1, started_at=timezone.now())
    from playwright.sync_api import expect

    visitor = Visitor(browser, server, world.reviewer)
    visitor.visit(f"/runs/{run.pk}/")
    assert visitor.page.text_content("#done") == "1"

    EvaluationRun.objects.filter(pk=run.pk).update(samples_done=3)
    expect(visitor.page.locator("#done")).to_have_text("3", timeout=10_000)
    assert visitor.page.eval_on_selector("#bar", "bar => bar.value") == 75
    visitor.settle("the run page after polling")


def test_swagger_ui_draws_the_api_under_the_policy(world, server, browser):
    visitor = Visitor(browser, server, world.owner)
    visitor.visit("/api/v1/docs/")
    title = visitor.page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "Frontier Review Portal API" in title.text_content()
    # An operation opens on click (React handlers, no inline script).
    visitor.page.click("#operations-tag-models")
    visitor.page.wait_for_selector(".opblock", timeout=5_000)
    visitor.settle("Swagger UI after drawing")


def test_the_browsable_api_highlights_its_json_under_the_policy(world, server, browser):
    visitor = Visitor(browser, server, world.owner)
    visitor.visit("/api/v1/models/")
    # prettify.js (a static script) marks up the response body once the page has loaded.
    body = visitor.page.wait_for_selector(".response-info pre.prettyprint span.str",
                                          timeout=5_000)
    assert body is not None
    assert '"results"' in visitor.page.text_content(".response-info pre.prettyprint")
    visitor.settle("the browsable API")
