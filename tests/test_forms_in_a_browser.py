"""Forms that guide, in Chromium: a refused upload comes back with the focus on its error summary
and the kind kept, the summary's link takes the focus to the field; a new policy version saves as
offered, a half-filled row is one error; the audit trail fits a 1280 px screen with every row's
details open. axe-core finds no critical or serious violation in these error states; a
screenshot of each goes to tests/browser/axe.py's screenshots_dir()."""

from pathlib import Path

import pytest

from reviews.models import PolicyVersion
from submissions.models import Artifact
from tests.browser.axe import describe, run_axe, screenshot
from tests.conftest import bring_to
from tests.security.test_csp_in_a_browser import Visitor, browser, server  # noqa: F401

pytestmark = pytest.mark.slow



def assert_accessible(page, name: str) -> None:
    screenshot(page, name)
    found = run_axe(page)
    bad = found["critical"] + found["serious"]
    assert bad == [], describe(bad)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


def test_a_refused_upload_returns_to_its_form_with_the_focus_on_the_summary(
        world, server, browser, tmp_path):  # noqa: F811
    visitor = Visitor(browser, server, world.owner)
    page = visitor.page
    visitor.visit(f"/requests/{world.request.pk}/")
    bad = Path(tmp_path / "card.pdf")
    bad.write_bytes(PNG)
    page.select_option("#id_kind", "system_card")
    page.set_input_files("#id_file", str(bad))
    with page.expect_navigation():
        page.click("form[enctype='multipart/form-data'] button")
    visitor.settle("after the refused upload")
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    summary = page.locator("[data-error-summary]")
    assert "There is a problem" in summary.inner_text()
    assert "not a PDF" in summary.inner_text()
    # The summary is in the upload form, on screen, and the kind is the one chosen.
    assert page.evaluate(
        "!!document.activeElement.closest(\"form[enctype='multipart/form-data']\")")
    assert page.input_value("#id_kind") == "system_card"
    assert_accessible(page, "forms-refused-upload")
    summary.locator("a[href='#id_file']").click()
    assert page.evaluate("document.activeElement.id") == "id_file"
    assert not Artifact.objects.exists()
    visitor.context.close()


def test_a_new_policy_version_saves_as_offered_in_the_browser(world, server, browser):  # noqa: F811
    visitor = Visitor(browser, server, world.admin)
    page = visitor.page
    visitor.visit("/policies/new/")
    page.fill("#id_name", "Offered as is")
    with page.expect_navigation():
        page.click("main form button:has-text('Save')")
    visitor.settle("after saving")
    new = PolicyVersion.objects.get(name="Offered as is")
    assert page.url.endswith(f"/policies/{new.pk}/")
    assert new.rules.count() == 1
    visitor.visit("/policies/new/")
    page.fill("#id_name", "Half")
    page.fill("#id_rule-2-threshold", "0.5")
    with page.expect_navigation():
        page.click("main form button:has-text('Save')")
    visitor.settle("after a half-filled row")
    summary = page.locator("[data-error-summary]")
    assert "Rule 3, citation: This rule is incomplete" in summary.inner_text()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert_accessible(page, "forms-policy-half-filled-row")
    visitor.context.close()


def test_the_audit_trail_fits_1280_pixels_with_its_details_open(world, server, browser):  # noqa: F811
    bring_to(world, "determined")
    visitor = Visitor(browser, server, world.admin)
    page = visitor.page
    page.set_viewport_size({"width": 1280, "height": 900})
    visitor.visit("/audit/")
    page.eval_on_selector_all("table.audit-trail details", "els => els.forEach(d => d.open = true)")
    width = page.evaluate("document.documentElement.scrollWidth")
    table = page.evaluate("document.querySelector('table.audit-trail').scrollWidth")
    assert width <= 1280 and table <= 1280, (width, table)
    assert_accessible(page, "forms-audit-trail-details-open")
    # Choosing by label filters by code.
    page.select_option("#id_action", label="Submitted a review request")
    with page.expect_navigation():
        page.click("form.audit-filters button:has-text('Filter')")
    rows = page.locator("table.audit-trail tbody tr")
    assert rows.count() == 1 and "submitted review request" in rows.inner_text()
    visitor.context.close()
