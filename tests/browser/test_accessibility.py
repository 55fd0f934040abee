"""WCAG 2.1 AA in a real browser: Chromium visits every page each role's navigation reaches, and
the main detail pages, as the six roles and anonymously; axe-core finds no critical and no
serious violation on any of them. Each page is also shown on a 390 px phone: nothing scrolls
sideways and the header stays within two rows. A full-page screenshot of each is written to
tests/browser/axe.py's screenshots_dir() ($BROWSER_SCREENSHOTS).

One gunicorn and one Chromium serve the whole module, on data created once (committed, then
flushed at the end as a transactional test would)."""

from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from evaluations import engine
from evaluations.models import EvaluationRun
from reviews.models import RubricVersion
from tests.browser.axe import describe, run_axe, screenshot, screenshots_dir
from tests.clearinghouse.conftest import build_cw, open_case
from tests.conftest import bring_to, build_world
from tests.evaluations.test_access import create_suite
from tests.exposures.disc_world import asset_for, exposure_for
from tests.faultkit import PortalServer
from tests.partners.conftest import make_live_grant, vetted_partner
from tests.security.test_csp_in_a_browser import database_url, session_cookie

pytestmark = pytest.mark.slow

PHONE = {"width": 390, "height": 844}

# What each role is shown: the pages of its navigation (test_the_navigation_reaches_only_
# pages_listed_here keeps this honest) and the main detail pages. Names are URL names, or
# detail pages resolved from the module's data.
PAGES = {
    "developer": ["home", "model_list", "request_list", "window_tracking", "window_list",
                  "access_request_list", "gateway_client_list", "inbox", "profile",
                  "notification_preferences",
                  "model_detail", "request_detail", "access_request_detail",
                  # The account pages the profile links (allauth's, in the portal's layout).
                  "mfa_index", "mfa_list_webauthn", "mfa_activate_totp", "account_email",
                  "account_change_password",
                  # The clearinghouse: the developer filed the report its case comes from.
                  "report_list", "report_create", "case_list", "report_detail", "case_detail"],
    "reviewer": ["home", "request_list", "conflict_list", "policy_list", "rubric_list",
                 "suite_list", "access_request_list", "inbox", "profile", "request_detail",
                 "run_detail", "policy_detail", "rubric_detail", "review_edit",
                 "report_list", "report_detail"],
    "partner": ["home", "partner_list", "access_request_list", "inbox", "profile",
                "grant_list", "grant_detail", "granted_model_detail", "access_request_detail"],
    "admin": ["home", "request_list", "model_list", "conflict_list", "policy_list",
              "rubric_list", "suite_list", "window_tracking", "window_list", "partner_list",
              "access_request_list", "audit_list", "queue_health", "inbox", "profile",
              "request_detail", "model_detail", "run_detail", "policy_detail", "grant_list",
              "report_list", "report_triage", "report_reporters", "case_list", "case_open",
              "clearinghouse_member_list", "report_detail", "case_detail", "advisory_list",
              "embargo_propose", "exposure_metrics", "inventory_counts"],
    "vendor": ["home", "case_list", "report_list", "clearinghouse_member_list", "inbox",
               "profile", "case_detail", "report_detail", "statement_edit"],
    "operator": ["home", "report_list", "report_create", "clearinghouse_member_list", "inbox",
                 "profile", "exposure_list", "exposure_terms", "exposure_detail",
                 "inventory_list", "inventory_create", "inventory_detail", "asset_edit"],
    "anonymous": ["account_login", "account_reset_password", "account_signup"],
}
# Pages whose violation lies in a template another change owns: (role, page) -> the reason.
KNOWN = {}


def _cases():
    for role, pages in PAGES.items():
        for page in pages:
            reason = KNOWN.get((role, page))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            yield pytest.param(role, page, id=f"{role}-{page}", marks=marks)


@pytest.fixture(scope="module")
def site(module_database, django_db_blocker, tmp_path_factory):
    """The cast (tests/conftest.py's world) with a covered model, a run, a live partner grant;
    the portal under gunicorn on it."""
    portal = PortalServer({"DATABASE_URL": database_url()},
                          log=tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    try:
        with django_db_blocker.unblock():
            built = _build_site(portal)
        yield built
    finally:
        portal.stop()
        with django_db_blocker.unblock():
            # What a transactional test leaves: nothing (also after a failed setup).
            call_command("flush", interactive=False, verbosity=0)
        print(f"\nBrowser screenshots: {screenshots_dir()}")


def _build_site(portal) -> SimpleNamespace:
    from partners import services as partner_services
    from submissions.window_services import window_schedule

    w = build_world()
    bring_to(w, "determined")
    version = create_suite(w)
    run = EvaluationRun.objects.create(
        request=w.request, suite_version=version, started_by=w.reviewer,
        status=EvaluationRun.Status.SUCCEEDED, suite_hash=version.content_hash,
        inspect_version=engine.INSPECT_VERSION, model_identity="portalsim/atlas-sim",
        samples_total=2, samples_done=2, finished_at=timezone.now(),
        metrics={"overall": {"accuracy": 0.5, "stderr": 0.5, "n": 2}})
    now = timezone.now()
    vetted_partner(w.admin, w.partner)
    window_schedule(model=w.model, actor=w.owner, starts_at=now + timedelta(days=1),
                    ends_at=now + timedelta(days=11))
    terms = partner_services.terms_set(model=w.model, actor=w.owner,
                                       text="Use it for defence only.")
    pw = SimpleNamespace(w=w, terms=terms, start=now + timedelta(days=12),
                         end=now + timedelta(days=40))
    grant = make_live_grant(pw)
    rubric = RubricVersion.objects.first()
    cw = open_case(build_cw(w))
    # What the clearinghouse released to the operator: one exposure, before publication.
    asset = asset_for(cw.operator.membership.organisation, cw.operator, version="1.2.0")
    exposure = exposure_for(asset, cw.statement,
                            released_at=timezone.now(), released_before_publication=True)
    details = {
        "report_detail": reverse("report_detail", args=[cw.report.pk]),
        "exposure_detail": reverse("exposure_detail", args=[exposure.pk]),
        "inventory_detail": reverse("inventory_detail", args=[asset.inventory_id]),
        "asset_edit": reverse("asset_edit", args=[asset.pk]),
        "case_detail": reverse("case_detail", args=[cw.case.pk]),
        "advisory_list": reverse("advisory_list", args=[cw.case.pk]),
        "embargo_propose": reverse("embargo_propose", args=[cw.case.pk]),
        "statement_edit": reverse("statement_edit", args=[cw.statement.pk]),
        "model_detail": reverse("model_detail", args=[w.model.pk]),
        "request_detail": reverse("request_detail", args=[w.request.pk]),
        "run_detail": reverse("run_detail", args=[run.pk]),
        "policy_detail": reverse("policy_detail", args=[w.policy.pk]),
        "rubric_detail": reverse("rubric_detail", args=[rubric.pk]),
        "review_edit": reverse("review_edit", args=[w.request.pk]),
        "granted_model_detail": reverse("granted_model_detail", args=[w.model.pk]),
        "grant_detail": reverse("grant_detail", args=[grant.pk]),
        "access_request_detail": reverse("access_request_detail",
                                         args=[grant.request_id]),
    }
    users = {"developer": w.owner, "reviewer": w.reviewer, "partner": w.partner,
             "admin": w.admin, "vendor": cw.vendor, "operator": cw.operator, "anonymous": None}
    portal.start()
    cookies = {role: session_cookie(user, portal.base) for role, user in users.items()
               if user is not None}
    return SimpleNamespace(server=portal, details=details, cookies=cookies, users=users)


@pytest.fixture(scope="module")
def chromium():
    import os

    from playwright.sync_api import sync_playwright

    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def new_tab(chromium, device: str, cookie: dict | None):
    context = chromium.new_context(
        viewport=PHONE if device == "phone" else {"width": 1280, "height": 900},
        device_scale_factor=1, is_mobile=device == "phone", has_touch=device == "phone")
    if cookie is not None:
        context.add_cookies([cookie])
    return context.new_page()


@pytest.fixture(scope="module")
def tabs(site, chromium):
    """One signed-in desktop tab and one phone tab per role, opened when first asked for."""
    opened = {}

    def tab(role: str, device: str):
        if (role, device) not in opened:
            opened[role, device] = new_tab(chromium, device, site.cookies.get(role))
        return opened[role, device]

    yield tab
    for page in opened.values():
        page.context.close()


def url_of(site, name: str) -> str:
    return site.details.get(name) or reverse(name)


def open_page(site, page, name: str) -> None:
    response = page.goto(site.server.base + url_of(site, name), wait_until="load")
    assert response is not None and response.status == 200, (name, response and response.status)
    page.wait_for_timeout(100)  # uswds.min.js sets up the menus and the banner on load


def assert_accessible(page, what: str) -> None:
    """axe finds no critical or serious violation on the page, and the layout keeps its own
    promise: everything inside a landmark, one main, one h1."""
    found = run_axe(page)
    blocking = found["critical"] + found["serious"]
    assert blocking == [], f"{what}:\n{describe(blocking)}"
    layout = [v for v in found["moderate"] + found["minor"]
              if v["id"] in ("region", "landmark-one-main", "landmark-no-duplicate-main",
                             "page-has-heading-one")]
    assert layout == [], f"{what}:\n{describe(layout)}"


@pytest.mark.parametrize("role,name", list(_cases()))
def test_axe_finds_no_critical_or_serious_violation(site, tabs, role, name):
    page = tabs(role, "desktop")
    open_page(site, page, name)
    screenshot(page, f"{role}-{name}")
    assert_accessible(page, f"{role} on {name}")


@pytest.mark.parametrize("role,name", list(_cases()))
def test_on_a_phone_nothing_scrolls_sideways_and_the_header_keeps_to_two_rows(site, tabs, role,
                                                                               name):
    page = tabs(role, "phone")
    open_page(site, page, name)
    screenshot(page, f"phone-{role}-{name}")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name} is {width}px wide on a {PHONE['width']}px phone"
    header = page.eval_on_selector("header.usa-header", "h => h.getBoundingClientRect().height")
    logo = page.eval_on_selector(".usa-logo", "e => e.getBoundingClientRect().height")
    assert header <= 2 * max(logo, 48) + 8, f"the header is {header}px high"


@pytest.mark.parametrize("role", ["developer", "reviewer", "partner", "admin", "vendor",
                                  "operator"])
def test_the_navigation_reaches_only_pages_listed_here(site, tabs, role):
    page = tabs(role, "desktop")
    open_page(site, page, "profile")
    hrefs = page.eval_on_selector_all("header.usa-header nav a",
                                      "links => links.map(a => a.pathname)")
    listed = {url_of(site, name) for name in PAGES[role]} | {reverse("home")}
    assert set(hrefs) <= listed, set(hrefs) - listed


def test_the_phone_menu_opens_with_every_entry_and_closes_again(site, tabs):
    page = tabs("admin", "phone")
    open_page(site, page, "profile")
    assert not page.is_visible("nav.usa-nav")
    page.click("button.usa-menu-btn")
    page.wait_for_selector("nav.usa-nav.is-visible")
    page.click("button[aria-controls=nav-windows]")
    assert page.is_visible(f"nav.usa-nav a[href='{reverse('window_list')}']")
    screenshot(page, "phone-admin-menu-open")
    page.click("button.usa-nav__close")
    page.wait_for_selector("nav.usa-nav", state="hidden")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_the_account_menu_opens_and_logs_out(site, chromium, django_db_blocker, device):
    with django_db_blocker.unblock():  # a session of its own, which logging out ends
        cookie = session_cookie(site.users["reviewer"], site.server.base)
    page = new_tab(chromium, device, cookie)
    open_page(site, page, "request_list")
    if device == "phone":
        page.click("button.usa-menu-btn")
    page.click("button[aria-controls=nav-account]")
    assert page.is_visible("#nav-account >> text=Inbox")
    assert page.is_visible("#nav-account >> text=Profile")
    screenshot(page, f"{device}-reviewer-account-menu-open")
    found = run_axe(page)
    assert found["critical"] + found["serious"] == [], describe(found["critical"] +
                                                               found["serious"])
    page.click("#nav-account button.portal-logout")
    page.wait_for_url("**/accounts/login/**")
    assert page.locator("nav.usa-nav").count() == 0
    page.context.close()


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_the_main_content(site, tabs):
    page = tabs("developer", "desktop")
    open_page(site, page, "request_list")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent.trim()") == \
        "Skip to main content"
    assert page.is_visible("a.usa-skipnav")
    page.keyboard.press("Enter")
    page.wait_for_timeout(100)
    assert page.evaluate("() => document.activeElement.id") == "main-content"


def test_axe_reports_content_outside_the_landmarks(site, tabs):
    """The harness itself: an element added outside every landmark is found (region)."""
    page = tabs("anonymous", "desktop")
    open_page(site, page, "account_login")
    page.evaluate("""() => { const p = document.createElement("p");
                             p.textContent = "Stray text"; document.body.append(p); }""")
    found = run_axe(page)
    assert [v["id"] for v in found["moderate"]] == ["region"]
    open_page(site, page, "account_login")


def test_the_official_banner_explains_how_you_know(site, tabs):
    page = tabs("anonymous", "desktop")
    open_page(site, page, "account_login")
    assert not page.is_visible("#gov-banner")
    page.click("button.usa-banner__button")
    assert page.is_visible("#gov-banner")
    assert "Secure .gov websites use HTTPS" in page.text_content("#gov-banner")


@pytest.mark.parametrize("template", ["500.html", "503.html"])
def test_the_error_pages_pass_axe_and_their_banner_opens(site, chromium, template):
    """The 500 and 503 pages, as gunicorn would send them (rendered without a request), served
    at the portal's address so that their static files load from it."""
    from django.template.loader import render_to_string

    html = render_to_string(template)
    page = new_tab(chromium, "desktop", None)
    try:
        url = f"{site.server.base}/an-error-page/"
        page.route(url, lambda route: route.fulfill(status=200, body=html,
                                                    content_type="text/html; charset=utf-8"))
        page.goto(url, wait_until="load")
        page.wait_for_timeout(100)
        screenshot(page, f"error-{template.split('.')[0]}")
        assert_accessible(page, template)
        page.click("button.usa-banner__button")
        assert page.is_visible("#gov-banner")
    finally:
        page.context.close()
