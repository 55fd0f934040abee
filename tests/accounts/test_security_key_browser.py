"""Security keys in a real browser: Chromium with a virtual authenticator (CDP) against the portal
under gunicorn with GOVERNMENT_REQUIRE_WEBAUTHN on. A reviewer signs in with password and TOTP,
is sent to register a key, registers a passkey, signs out, signs in with the passkey alone and
reads a confidential page; then signs in with password and the key as second step. No page
reports a Content-Security-Policy violation. (No axe-core run: it is not vendored here.)"""

import pytest
from allauth.mfa.models import Authenticator

from audit.models import AuditEvent
from tests.accounts.test_login_and_mfa import PASSWORD, current_code
from tests.conftest import bring_to
from tests.faultkit import PortalServer
from tests.security.test_csp_in_a_browser import RECORD_VIOLATIONS, database_url

pytestmark = pytest.mark.slow

VIRTUAL_KEY = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
               "hasUserVerification": True, "isUserVerified": True}


@pytest.fixture
def server(transactional_db, tmp_path):
    portal = PortalServer({"DATABASE_URL": database_url(), "GOVERNMENT_REQUIRE_WEBAUTHN": "true"},
                          log=tmp_path / "gunicorn.log")
    try:
        yield portal.start()
    finally:
        portal.stop()


@pytest.fixture
def page(monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop in this thread
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            context = chromium.new_context()
            context.add_init_script(RECORD_VIOLATIONS)
            yield context.new_page()
        finally:
            chromium.close()


def no_csp_violations(page) -> None:
    assert page.evaluate("window.__csp") == [], page.url


def test_a_reviewer_registers_a_passkey_and_signs_in_with_it(world, server, page):
    from playwright.sync_api import expect

    bring_to(world, "in_review")  # the reviewer is assigned to world.request
    confidential = f"/requests/{world.request.pk}/"
    # A browser accepts "localhost" as a relying party over http, never "127.0.0.1".
    base = server.base.replace("127.0.0.1", "localhost")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator_id = cdp.send("WebAuthn.addVirtualAuthenticator",
                                {"options": VIRTUAL_KEY})["authenticatorId"]

    # 1. Password and TOTP code: the portal sends the reviewer to register a key.
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username or email").fill("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(
        current_code(world.reviewer))
    page.get_by_role("button", name="Sign in", exact=True).click()
    # allauth asks for the password again before a key is added.
    page.wait_for_url("**/accounts/reauthenticate/**")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/2fa/webauthn/add/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a security key or passkey")
    no_csp_violations(page)

    # 2. Register a passkey with the virtual authenticator.
    page.get_by_label("Name of this key").fill("Virtual passkey")
    page.get_by_label("Passkey: sign in with this key alone").check()
    page.get_by_role("button", name="Add the key").click()
    # This session signed in with a TOTP code: the portal asks for the new key before going on.
    page.wait_for_url("**/accounts/2fa/webauthn/reauthenticate/**")
    no_csp_violations(page)
    page.get_by_role("button", name="Use my security key").click()
    page.wait_for_url("**/accounts/2fa/recovery-codes/")
    key = Authenticator.objects.get(user=world.reviewer, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Virtual passkey"
    assert key.wrap().is_passwordless is True
    added = AuditEvent.objects.get(action="mfa.key_added", actor=world.reviewer)
    assert added.data["authenticator_id"] == key.pk
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["rpId"] == "localhost"

    # 3. Sign out; sign in with the passkey alone and read a confidential page.
    log_out(page)
    page.wait_for_url("**/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    page.wait_for_url(f"{base}/")  # a reviewer's home: status at a glance
    page.goto(f"{base}{confidential}")
    assert page.url == f"{base}{confidential}"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Atlas")
    no_csp_violations(page)
    key.refresh_from_db()
    assert key.last_used_at is not None

    # 4. Password, then the key as the second step, also reaches it.
    log_out(page)
    page.wait_for_url("**/accounts/login/")
    page.goto(f"{base}/accounts/login/?next={confidential}")
    page.get_by_label("Username or email").fill("reviewer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    no_csp_violations(page)
    page.get_by_role("button", name="Use my security key").click()
    page.wait_for_url(f"{base}{confidential}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Atlas")

    # The profile lists the key.
    page.goto(f"{base}/profile/")
    expect(page.get_by_role("table", name="Security keys and passkeys")).to_contain_text(
        "Virtual passkey")
    no_csp_violations(page)


def test_on_127_0_0_1_the_key_page_says_why_keys_do_not_work(world, server, page):
    """Browsers refuse an IP address as WebAuthn relying party: the page says so, no hang."""
    from playwright.sync_api import expect

    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_KEY})
    page.goto(f"{server.base}/accounts/login/")
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("alert")).to_contain_text("portal’s own address", timeout=10_000)
    no_csp_violations(page)


def log_out(page):
    """Log out from the account menu in the header (it opens first)."""
    page.click("button[aria-controls=nav-account]")
    page.get_by_role("button", name="Log out").click()
