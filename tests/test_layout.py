"""The shared layout (templates/base.html): the U.S. Web Design System on every page, served by
the portal itself; the official-website banner, a skip link and one main landmark; a header
whose navigation is grouped per role, with one "Windows" entry; messages as USWDS alerts."""

import json

import pytest
from bs4 import BeautifulSoup
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.core.management import call_command
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.urls import reverse

from tests.conftest import bring_to

PAGES = {
    "owner": ["home", "model_list", "request_list", "window_list", "window_tracking",
              "access_request_list", "inbox", "profile"],
    "reviewer": ["home", "request_list", "conflict_list", "policy_list", "rubric_list",
                 "suite_list", "access_request_list", "inbox", "profile"],
    "partner": ["home", "partner_list", "access_request_list", "inbox", "profile"],
    "admin": ["home", "request_list", "model_list", "conflict_list", "policy_list",
              "rubric_list", "suite_list", "window_tracking", "window_list", "partner_list",
              "access_request_list", "audit_list", "queue_health", "inbox", "profile"],
}


def soup_of(response) -> BeautifulSoup:
    assert response.status_code == 200, response
    return BeautifulSoup(response.content.decode(), "html.parser")


def nav_of(soup) -> dict:
    """The primary navigation as {top-level label: [its links' labels]} (a plain link: [])."""
    nav = soup.select_one("header.usa-header nav.usa-nav")
    entries = {}
    for item in nav.select("ul.usa-nav__primary > li.usa-nav__primary-item"):
        if item.select_one(":scope > a"):
            entries[item.select_one(":scope > a").get_text(strip=True)] = []
        else:
            label = item.select_one(":scope > button").get_text(strip=True)
            entries[label] = [a.get_text(strip=True) for a in item.select(".usa-nav__submenu a")]
    return entries


def assert_the_layout(soup, where):
    banner = soup.select_one("section.usa-banner")
    assert banner is not None, where
    assert "An official website of the United States government" in banner.get_text(), where
    assert "Official websites use .gov" in banner.get_text(), where
    skip = soup.select("body > a.usa-skipnav")
    assert [a["href"] for a in skip] == ["#main-content"], where
    # The skip link is the first thing a keyboard reaches.
    assert soup.body.find(["a", "button", "input", "select", "textarea"]) is skip[0], where
    mains = soup.find_all("main")
    assert len(mains) == 1 and mains[0]["id"] == "main-content", where
    assert soup.select_one("header.usa-header.usa-header--basic"), where
    assert soup.select_one("footer.usa-footer .usa-identifier"), where
    assert "A voluntary program." in soup.select_one("section.usa-site-alert").get_text(), where
    stylesheets = [link["href"] for link in soup.select("link[rel=stylesheet]")]
    assert any(href.endswith("uswds/css/uswds.min.css") for href in stylesheets), where
    scripts = [s["src"] for s in soup.select("script[src]")]
    assert scripts[0].endswith("uswds/js/uswds-init.min.js"), where
    assert any(src.endswith("uswds/js/uswds.min.js") for src in scripts), where
    assert all("//" not in src for src in scripts + stylesheets), "no CDN"


@pytest.mark.parametrize("actor", list(PAGES))
def test_every_page_of_each_role_has_the_banner_the_skip_link_and_one_main(client, world, actor):
    bring_to(world, "in_review")
    client.force_login(world.actors()[actor])
    for name in PAGES[actor]:
        assert_the_layout(soup_of(client.get(reverse(name), follow=True)), (actor, name))
    detail = {"owner": [f"/models/{world.model.pk}/", f"/requests/{world.request.pk}/"],
              "reviewer": [f"/requests/{world.request.pk}/", f"/policies/{world.policy.pk}/"],
              "admin": [f"/requests/{world.request.pk}/"], "partner": []}[actor]
    for path in detail:
        assert_the_layout(soup_of(client.get(path)), (actor, path))


def test_the_login_page_has_the_layout_and_no_navigation(client):
    soup = soup_of(client.get(reverse("account_login")))
    assert_the_layout(soup, "login")
    assert soup.select_one("nav.usa-nav") is None
    assert soup.select_one(".usa-menu-btn") is None


def test_a_program_admin_gets_six_menus_instead_of_fifteen_links(client, world):
    client.force_login(world.admin)
    nav = nav_of(soup_of(client.get(reverse("profile"))))
    assert nav == {
        "Reviews": ["Requests", "Models", "Conflicts"],
        "Standards": ["Threshold policy", "Rubrics", "Benchmark suites"],
        "Windows": ["Timeline", "All windows and flags"],
        "Partners": ["Partner organisations", "Early access"],
        "Operations": ["Audit trail", "Background jobs"],
        "Clearinghouse": ["Reports", "Triage queue", "Cases", "Members", "Metrics",
                          "Operators' inventories"],
        "admin": ["Inbox", "Profile"],
    }


@pytest.mark.parametrize("actor,expected", [
    ("owner", {"Models": [], "Requests": [], "Windows": ["Timeline", "All windows and flags"],
               "Early access": [], "Gateways": [], "Reports": [], "Cases": [],
               "owner": ["Inbox", "Profile"]}),
    ("reviewer", {"Requests": [], "Conflicts": [],
                  "Standards": ["Threshold policy", "Rubrics", "Benchmark suites"],
                  "Early access": [], "Reports": [], "reviewer": ["Inbox", "Profile"]}),
    ("partner", {"Partners": [], "Early access": [], "partner": ["Inbox", "Profile"]}),
])
def test_each_role_gets_its_own_navigation(client, world, actor, expected):
    client.force_login(world.actors()[actor])
    assert nav_of(soup_of(client.get(reverse("profile")))) == expected


@pytest.mark.parametrize("kind,expected", [
    ("vendor", {"Cases": [], "Reports": [], "Membership": [], "vendor": ["Inbox", "Profile"]}),
    ("operator", {"Exposures": [], "Reports": [], "Membership": [],
                  "operator": ["Inbox", "Profile"]}),
])
def test_vendors_and_operators_get_the_clearinghouse_and_no_early_access(client, db, kind,
                                                                          expected):
    from tests.factories import OrganisationFactory, UserFactory

    user = UserFactory(username=kind, organisation=OrganisationFactory(name=kind, kind=kind))
    client.force_login(user)
    assert nav_of(soup_of(client.get(reverse("profile")))) == expected


@pytest.mark.parametrize("actor", ["owner", "admin"])
def test_windows_is_one_entry_that_reaches_the_timeline_and_the_list(client, world, actor):
    client.force_login(world.actors()[actor])
    soup = soup_of(client.get(reverse("profile")))
    nav = soup.select_one("nav.usa-nav")
    labels = [e.get_text(strip=True) for e in nav.select(".usa-nav__primary-item > :first-child")]
    assert [label for label in labels if "window" in label.lower()] == ["Windows"]
    hrefs = [a["href"] for a in nav.select("a")]
    assert hrefs.count(reverse("window_tracking")) == 1
    assert hrefs.count(reverse("window_list")) == 1


def test_the_page_a_user_is_on_is_marked_current_in_its_menu(client, world):
    client.force_login(world.admin)
    soup = soup_of(client.get(reverse("audit_list")))
    current = soup.select('nav.usa-nav a[aria-current="page"]')
    assert [a.get_text(strip=True) for a in current] == ["Audit trail"]
    button = soup.find("button", attrs={"aria-controls": "nav-operations"})
    assert "usa-current" in button["class"]


def test_the_account_menu_holds_the_inbox_the_profile_and_log_out(client, world):
    client.force_login(world.owner)
    soup = soup_of(client.get(reverse("profile")))
    menu = soup.select_one("#nav-account")
    assert "Acme AI" in menu.get_text()
    assert [a["href"] for a in menu.select("a")] == [reverse("inbox"), reverse("profile")]
    form = menu.select_one("form")
    assert form["action"] == reverse("account_logout") and form["method"] == "post"
    assert form.button.get_text(strip=True) == "Log out"


@pytest.mark.parametrize("level,variant,role", [
    (constants.SUCCESS, "usa-alert--success", "status"),
    (constants.INFO, "usa-alert--info", "status"),
    (constants.WARNING, "usa-alert--warning", "alert"),
    (constants.ERROR, "usa-alert--error", "alert"),
])
def test_messages_are_usa_alerts_of_their_level(rf: RequestFactory, level, variant, role):
    request = rf.get("/")
    html = render_to_string("base.html", {"messages": [Message(level, "Saved the thing.")]},
                            request=request)
    alert = BeautifulSoup(html, "html.parser").select_one("main .usa-alert")
    assert variant in alert["class"] and alert["role"] == role
    assert alert.get_text(strip=True) == "Saved the thing."


def test_a_message_after_an_action_is_shown_as_a_success_alert(client, world):
    client.force_login(world.owner)
    response = client.post(reverse("notification_preferences"), {"delivery": "digest"},
                           follow=True)
    alerts = soup_of(response).select("main .usa-alert.usa-alert--success[role=status]")
    assert [a.get_text(strip=True) for a in alerts] == ["Your email preference is saved."]


def test_the_design_system_is_served_by_the_portal_itself(client):
    for path in ["uswds/css/uswds.min.css", "uswds/js/uswds.min.js",
                 "uswds/js/uswds-init.min.js", "uswds/img/us_flag_small.png",
                 "uswds/fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2", "js/portal.js"]:
        response = client.get(f"/static/{path}")
        assert response.status_code == 200, path
        b"".join(response.streaming_content if response.streaming else [response.content])


@pytest.mark.slow
def test_collectstatic_hashes_the_design_system_and_every_file_its_css_names(tmp_path):
    storages = {"default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
                "staticfiles": {
                    "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        # The manifest storage fails here if the CSS names a font or image that is not served.
        call_command("collectstatic", "--no-input", verbosity=0)
    paths = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    for name in ["uswds/css/uswds.min.css", "uswds/js/uswds.min.js", "uswds/js/uswds-init.min.js",
                 "uswds/img/us_flag_small.png", "uswds/img/icon-dot-gov.svg", "js/portal.js"]:
        assert name in paths, name
    css = (tmp_path / paths["uswds/css/uswds.min.css"]).read_text()
    font = "uswds/fonts/source-sans-pro/sourcesanspro-regular-webfont.woff2"
    hashed_font = paths[font].split("/")[-1]
    assert hashed_font in css
    assert (tmp_path / (paths["uswds/css/uswds.min.css"] + ".gz")).exists()
    assert not any(name.startswith("uswds/scss/") for name in paths)


@pytest.mark.parametrize("template, heading", [("500.html", "Server error"),
                                               ("503.html", "Temporarily unavailable")])
def test_the_error_pages_have_the_design_system_without_a_request(template, heading):
    # No request and no `db` fixture: a page that needed a user, a session or the database
    # (as base.html does) would fail here, as it would when the database is down.
    soup = BeautifulSoup(render_to_string(template, {"detail": "The queue is unreachable."}),
                         "html.parser")
    assert soup.html["lang"] == "en"
    stylesheets = [link["href"] for link in soup.select("link[rel=stylesheet]")]
    assert any(href.endswith("uswds/css/uswds.min.css") for href in stylesheets)
    assert all("//" not in href for href in stylesheets), "no CDN"
    banner = soup.select_one("section.usa-banner")
    assert "An official website of the United States government" in banner.get_text()
    assert "Official websites use .gov" in banner.get_text()
    assert soup.select_one("header.usa-header .usa-logo").get_text(strip=True) == (
        "Frontier Review Portal")
    mains = soup.find_all("main")
    assert len(mains) == 1 and mains[0]["id"] == "main-content"
    assert [a["href"] for a in soup.select("body > a.usa-skipnav")] == ["#main-content"]
    assert mains[0].h1.get_text(strip=True) == heading
    assert mains[0].select_one(".usa-alert")
    # The content security policy: no inline style or script.
    assert not soup.select("[style], style")
    assert all(script.get("src") and not script.string for script in soup.select("script"))


def test_the_503_page_says_what_is_unreachable():
    html = render_to_string("503.html", {"detail": "The job queue is unreachable."})
    alert = BeautifulSoup(html, "html.parser").select_one("main .usa-alert")
    assert alert.get_text(strip=True) == "The job queue is unreachable."


def test_a_vetted_operator_gets_its_inventories_first(client, db):
    from accounts.models import Organisation
    from tests.clearinghouse.conftest import vet
    from tests.conftest import build_world
    from tests.factories import OrganisationFactory, UserFactory

    admin = build_world().admin
    user = UserFactory(username="operator", organisation=OrganisationFactory(
        name="Water Works", kind=Organisation.Kind.OPERATOR))
    vet(admin, user)
    client.force_login(user)
    assert nav_of(soup_of(client.get(reverse("profile")))) == {
        "Exposures": [], "Inventories": [], "Reports": [], "Membership": [],
        "operator": ["Inbox", "Profile"]}
