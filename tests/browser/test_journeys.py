"""Each role's daily journey, clicked through in Chromium on the portal under gunicorn, end to end:
a developer registers a model and asks for a determination, a partner applies for vetting, the
program office assigns a reviewer and vets the partner, the lead reviewer reviews and determines
the model covered, the developer schedules the agency's window, publishes partner terms and
shares a document, the partner asks for early access, the developer and the program office
approve, and the partner accepts the terms and uses the granted model.

Every page the browser lands on is checked with axe-core (0 critical, 0 serious; WCAG 2.1 AA
plus the landmark rules) and screenshotted to tests/browser/axe.py's screenshots_dir(); a
journey fails if it lands on a page it did not check, or on any answer of 500 or above.

The stages run in this file's order and build on each other (one server and one set of data for
the module, as in test_accessibility.py); each role keeps one browser context, so each signs in
once, through the sign-in form (and the TOTP step for the government roles)."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from partners.models import AccessGrant, AccessRequest, PartnerProfile
from submissions.models import Artifact, FrontierModel, ReviewRequest
from tests.accounts.test_login_and_mfa import current_code
from tests.browser.axe import describe, run_axe, screenshot, screenshots_dir
from tests.browser.test_accessibility import chromium  # noqa: F401 (the module's browser)
from tests.conftest import build_world
from tests.faultkit import PortalServer
from tests.security.test_csp_in_a_browser import database_url

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"  # tests/factories.py's UserFactory


class Journey:
    """One role's browser tab. Every navigation's landing page is checked with check(); the
    landings are recorded from the browser's own responses, so a page reached by a redirect or
    a form's answer is never missed."""

    def __init__(self, browser, base: str, role: str):
        self.base, self.role = base, role
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.landed: list[tuple[str, int]] = []
        self.checked: set[str] = set()
        self.steps = 0
        self.page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        request = response.request
        if request.resource_type != "document" or request.frame != self.page.main_frame:
            return
        if response.headers.get("content-disposition", "").startswith("attachment"):
            return  # a download: the page stays where it was
        self.landed.append((response.url, response.status))

    def check(self, label: str) -> None:
        """The page now shown: axe finds no critical or serious violation; a screenshot."""
        page = self.page
        page.wait_for_load_state("load")
        page.wait_for_timeout(50)  # uswds.min.js sets up the menus and the banner on load
        self.steps += 1
        screenshot(page, f"journey-{self.role}-{self.steps:02d}-{label}")
        found = run_axe(page)
        blocking = found["critical"] + found["serious"]
        assert blocking == [], f"{self.role} on {page.url} ({label}):\n{describe(blocking)}"
        self.checked.add(page.url)

    def go(self, path: str, label: str) -> None:
        self.page.goto(self.base + path, wait_until="load")
        self.check(label)

    def click(self, locator, label: str) -> None:
        """Click a link or button that navigates, then check where it lands."""
        with self.page.expect_navigation(wait_until="load"):
            locator.click()
        self.check(label)

    def link(self, name: str, label: str, scope=None) -> None:
        self.click((scope or self.main).get_by_role("link", name=name, exact=True).first, label)

    def button(self, name: str, label: str, scope=None) -> None:
        self.click((scope or self.main).get_by_role("button", name=name, exact=True).first,
                   label)

    def confirm(self, label: str) -> None:
        """The confirmation page of a weighty action: it says what happens; confirm it."""
        assert self.page.locator("h1").inner_text().startswith("Confirm:"), self.page.url
        assert "recorded in the audit trail" in self.main.inner_text()
        self.click(self.main.locator("form button").first, label)

    @property
    def main(self):
        return self.page.locator("main")

    def says(self, text: str) -> None:
        assert text in self.main.inner_text(), f"{text!r} not on {self.page.url}"

    def sign_in(self, user, totp: bool = False) -> None:
        self.go(reverse("account_login"), "sign-in")
        self.page.get_by_label("Username or email").fill(user.username)
        self.page.get_by_label("Password", exact=True).fill(PASSWORD)
        self.button("Sign in", "signed-in")
        if totp:
            cache.clear()  # allauth refuses a code used before; another test's code may linger
            self.page.get_by_label("Code from your authenticator app").fill(current_code(user))
            self.button("Sign in", "second-step")
        assert self.page.url.rstrip("/") == self.base, self.page.url  # the role's home
        self.says("What needs your action")

    def finish(self) -> None:
        failures = [(url, status) for url, status in self.landed if status >= 500]
        assert failures == [], failures
        pages = {url for url, status in self.landed if not 300 <= status < 400}
        unchecked = pages - self.checked
        assert unchecked == set(), f"{self.role} landed on pages axe did not check: {unchecked}"


@pytest.fixture(scope="module")
def story(module_database, django_db_blocker, tmp_path_factory):
    """The cast (tests/conftest.py's world, with the policy that covers models above 1e26
    FLOP), the portal under gunicorn on it; the world's own draft request stays a draft."""
    portal = PortalServer({"DATABASE_URL": database_url()},
                          log=tmp_path_factory.mktemp("gunicorn") / "gunicorn.log")
    try:
        with django_db_blocker.unblock():
            w = build_world()
        portal.start()
        yield SimpleNamespace(w=w, server=portal, base=portal.base, tabs={}, ok=[])
    finally:
        portal.stop()
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        connections.close_all()  # the stages' reads; the database may be dropped next
        print(f"\nBrowser screenshots: {screenshots_dir()}")


@pytest.fixture
def tab(story, chromium, django_db_blocker):  # noqa: F811
    """tab(role): the role's journey, kept across the stages. A stage runs only when every
    stage before it passed (they build on each other; each records itself in story.ok as it
    ends); the database is readable in it."""
    def open_tab(role: str) -> Journey:
        if role not in story.tabs:
            story.tabs[role] = Journey(chromium, story.base, role)
        return story.tabs[role]

    with django_db_blocker.unblock():
        yield open_tab
    for journey in story.tabs.values():
        journey.finish()


def _stage(story, number: int) -> None:
    if len(story.ok) != number - 1:
        pytest.skip(f"an earlier stage failed (passed: {story.ok})")


def _in(days: int) -> str:
    """A datetime-local value `days` from now, at 09:00 in the user's zone (UTC here)."""
    return (timezone.now() + timedelta(days=days)).strftime("%Y-%m-%dT09:00")


def test_1_a_developer_registers_a_model_and_submits_it_for_review(story, tab, tmp_path):
    _stage(story, 1)
    w, dev = story.w, tab("developer")
    dev.sign_in(w.owner)
    dev.link("Models", "models", scope=dev.page.locator("header"))
    dev.link("Register a model version", "model-form")
    page = dev.page
    page.get_by_label("Name").fill("Beacon")
    page.get_by_label("Version").fill("2.0")
    page.get_by_label("Description").fill("A general model with strong coding skills.")
    page.get_by_label("Text").check()
    page.get_by_label("Estimated training compute (FLOP)").fill("3e26")
    page.get_by_label("Compute estimation method").select_option(index=1)
    page.get_by_label("Planned release to trusted partners").fill(_in(60))
    page.get_by_label("Planned public release").fill(_in(90))
    dev.button("Save", "model-registered")
    model = FrontierModel.objects.get(name="Beacon", version="2.0")
    assert model.organisation == w.acme and model.training_compute_flop == 3e26

    dev.button("Start a draft request", "draft-request")
    review_request = ReviewRequest.objects.get(model=model)
    assert review_request.status == ReviewRequest.Status.DRAFT
    note = tmp_path / "system-card.txt"
    note.write_text("Beacon 2.0 system card: evaluations and mitigations.\n")
    page.get_by_label("Kind").select_option(label="System card")
    page.get_by_label("File").set_input_files(str(note))
    dev.button("Upload", "uploaded")
    dev.says("system-card.txt")
    dev.button("Submit for review", "submitted")
    review_request.refresh_from_db()
    assert review_request.status == ReviewRequest.Status.SUBMITTED
    assert AuditEvent.objects.filter(action="review_request.submit", actor=w.owner,
                                     object_id=str(review_request.pk)).count() == 1
    story.model, story.request = model, review_request
    story.ok.append("developer submits")


def test_2_a_partner_applies_to_be_vetted(story, tab):
    _stage(story, 2)
    w, partner = story.w, tab("partner")
    partner.sign_in(w.partner)
    partner.link("Apply for vetting", "apply-form")
    page = partner.page
    page.get_by_label("Sector").select_option(index=1)
    page.get_by_label("What your organisation protects").fill("Two rural hospitals.")
    page.get_by_label("Contact name").fill("Pat Doe")
    page.get_by_label("Contact email").fill("pat@hospital.example")
    page.get_by_label("Justification").fill("We defend patient systems.")
    partner.click(page.locator("main form button").first, "applied")
    profile = PartnerProfile.objects.get()
    assert profile.status == PartnerProfile.Status.APPLIED
    story.ok.append("partner applies")


def test_3_the_program_office_assigns_a_reviewer_and_vets_the_partner(story, tab):
    _stage(story, 3)
    w, admin = story.w, tab("admin")
    admin.sign_in(w.admin, totp=True)
    admin.says("Unassigned requests")
    admin.link(f"Request #{story.request.pk} · {story.model}", "unassigned-request")
    reviewer_name = w.reviewer.get_full_name() or w.reviewer.username
    admin.page.get_by_label("Reviewer:", exact=True).select_option(label=reviewer_name)
    admin.button("Assign", "assigned")
    assert story.request.assignments.filter(reviewer=w.reviewer, is_lead=True).exists()

    admin.go(reverse("home"), "home-again")
    admin.click(admin.main.get_by_role("link", name=re.compile("^Rural Hospital · applied")),
                "vetting-queue")
    admin.page.get_by_label("Reason to vet Rural Hospital").fill("References checked.")
    admin.button("Vet", "vet")
    admin.confirm("vetted")
    profile = PartnerProfile.objects.get()
    assert profile.status == PartnerProfile.Status.VETTED

    admin.go(reverse("audit_list"), "audit")
    admin.page.get_by_label("Action").select_option(label="Submitted a review request")
    admin.click(admin.main.get_by_role("button", name="Filter"), "audit-filtered")
    admin.says(f"owner submitted review request #{story.request.pk}.")
    admin.go(reverse("queue_health"), "queue-health")
    story.ok.append("admin assigns and vets")


def test_4_the_lead_reviewer_reviews_and_determines_the_model_covered(story, tab):
    _stage(story, 4)
    w, reviewer = story.w, tab("reviewer")
    reviewer.sign_in(w.reviewer, totp=True)
    reviewer.click(reviewer.main.get_by_role("link", name=re.compile(
        re.escape(str(story.model)))).first, "assigned-request")
    reviewer.says("In review")  # the assignment started the review
    reviewer.link("Write your review", "review-form")
    page = reviewer.page
    scores = page.locator("main select[name^=score_]")
    for i in range(scores.count()):
        scores.nth(i).select_option(index=3)
    page.get_by_label("Overall recommendation").select_option(label="Covered")
    page.get_by_label("Confidence").select_option(index=2)
    page.get_by_label("Comments for developer").fill("Compute is above the threshold.")
    reviewer.button("Submit (final)", "review-confirm")
    reviewer.confirm("review-submitted")
    assert story.request.reviews.filter(reviewer=w.reviewer, submitted_at__isnull=False).exists()

    reviewer.go(reverse("request_detail", args=[story.request.pk]), "request-again")
    page.get_by_label("Covered frontier model", exact=True).check()
    page.get_by_label("Rationale").fill("Training compute is above the program's level.")
    reviewer.button("Record the determination", "determine-confirm")
    reviewer.confirm("determined")
    story.request.refresh_from_db()
    assert story.request.status == ReviewRequest.Status.DETERMINED
    assert [d.outcome for d in story.request.determinations.all()] == ["covered"]
    story.ok.append("reviewer determines")


def test_5_the_developer_schedules_the_window_publishes_terms_and_shares_a_document(story, tab):
    _stage(story, 5)
    dev = tab("developer")
    dev.go(reverse("request_detail", args=[story.request.pk]), "determined-request")
    dev.says("covered")
    dev.link("Schedule the early-access window", "window-form")
    dev.page.get_by_label("Access starts").fill(_in(1))
    dev.page.get_by_label("Access ends").fill(_in(11))
    dev.click(dev.main.locator("form button").first, "window-scheduled")
    model = FrontierModel.objects.get(pk=story.model.pk)
    assert model.windows.filter(status="scheduled").count() == 1

    dev.go(reverse("model_detail", args=[model.pk]), "model")
    dev.link("Partner terms", "terms-form")
    dev.page.get_by_label("Terms of access").fill("Use it to defend your own systems only.")
    dev.button("Publish", "terms-published")
    dev.go(reverse("request_detail", args=[story.request.pk]), "request-documents")
    dev.button("Share with partners", "shared")
    assert Artifact.objects.get(request=story.request).shareable_with_partners
    story.ok.append("developer schedules")


def test_6_the_vetted_partner_asks_for_early_access(story, tab):
    _stage(story, 6)
    partner = tab("partner")
    partner.go(reverse("home"), "home-vetted")
    partner.link("Request early access", "request-form")
    page = partner.page
    page.get_by_label("Model").select_option(label=f"{story.model} (Acme AI)")
    page.get_by_label("Access starts").fill(_in(12))
    page.get_by_label("Access ends").fill(_in(40))
    page.get_by_label("Justification").fill("We protect patients' records.")
    partner.button("Send", "requested")
    access_request = AccessRequest.objects.get(model=story.model)
    assert access_request.status == AccessRequest.Status.PENDING
    story.access_request = access_request
    story.ok.append("partner requests")


def test_7_the_developer_and_the_program_office_approve_the_request(story, tab):
    _stage(story, 7)
    w = story.w
    dev = tab("developer")
    dev.go(reverse("home"), "home-to-approve")  # "partner requests to approve"
    dev.click(dev.main.get_by_role("link", name=re.compile(re.escape(str(story.model)))).first,
              "access-request")
    dev.button("Approve", "developer-approved")
    admin = tab("admin")
    admin.go(reverse("home"), "home-again")
    header = admin.page.locator("header")
    header.get_by_role("button", name="Partners").click()
    admin.click(header.get_by_role("link", name="Early access"), "access-requests")
    admin.link(f"#{story.access_request.pk}", "access-request")
    admin.button("Approve", "agency-approved")
    access_request = AccessRequest.objects.get(pk=story.access_request.pk)
    assert access_request.developer_approved_by == w.owner
    assert access_request.agency_approved_by == w.admin
    assert access_request.status == AccessRequest.Status.APPROVED
    story.ok.append("both approve")


def test_8_the_partner_accepts_the_terms_and_uses_the_granted_model(story, tab):
    _stage(story, 8)
    w, partner = story.w, tab("partner")
    partner.go(reverse("access_request_detail", args=[story.access_request.pk]),
               "approved-request")
    partner.page.get_by_label("Your full name").fill("Pat Doe")
    partner.button("I accept these terms for Rural Hospital", "accepted")
    grant = AccessGrant.objects.get(request=story.access_request)
    # The clock moves on to the window (the services refuse starts in the past).
    now = timezone.now()
    AccessGrant.objects.filter(pk=grant.pk).update(starts_at=now - timedelta(hours=1),
                                                   ends_at=now + timedelta(days=5))
    partner.go(reverse("home"), "home-live")
    partner.click(partner.main.get_by_role("link", name=re.compile(
        re.escape(str(story.model)))).first, "granted-model")
    partner.button("Issue a token", "token-issued")
    partner.says("it is shown only this once")
    token = partner.main.locator("code.token").inner_text()
    grant.refresh_from_db()
    assert grant.token_hash == AccessGrant.hash_token(token)  # the portal keeps its fingerprint
    with partner.page.expect_download() as download:
        partner.main.get_by_role("link", name="system-card.txt").click()
    assert download.value.suggested_filename == "system-card.txt"
    assert AuditEvent.objects.filter(action="artifact.downloaded", actor=w.partner).count() == 1
    story.ok.append("partner uses the grant")
