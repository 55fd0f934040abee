"""axe-core in a Playwright page, and the screenshots folder of the browser tests.

axe-core (node_modules/axe-core, a devDependency in package-lock.json) is evaluated in the page
through the DevTools protocol (`page.evaluate` of the file's text). That is not a <script> the
page's Content-Security-Policy could block, so the browser tests keep the policy on: no
`bypass_csp`, and what axe checks is the page exactly as users get it.
"""

import os
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.1 levels A and AA (what Section 508 asks for).
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Best-practice rules also run: all content inside landmarks (region) and one main landmark.
EXTRA_RULES = ("region", "landmark-one-main", "landmark-no-duplicate-main", "page-has-heading-one")
IMPACTS = ("critical", "serious", "moderate", "minor")

_RUN = """async ([tags, extra]) => {
  const rules = Object.fromEntries(extra.map(id => [id, {enabled: true}]));
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}, rules,
                                           resultTypes: ["violations"]});
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                              summary: n.failureSummary}))}));
}"""


def run_axe(page, tags=WCAG_21_AA, extra_rules=EXTRA_RULES) -> dict[str, list[dict]]:
    """The page's axe violations for `tags` and `extra_rules`, by impact: {"critical": [...],
    "serious": [...], "moderate": [...], "minor": [...]}; each violation has id, help, helpUrl
    and nodes."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text())
    found = {impact: [] for impact in IMPACTS}
    for violation in page.evaluate(_RUN, [list(tags), list(extra_rules)]):
        found.setdefault(violation["impact"] or "minor", []).append(violation)
    return found


def describe(violations: list[dict]) -> str:
    """One line per violation and failing element, for an assertion message."""
    lines = []
    for v in violations:
        for node in v["nodes"][:5]:
            lines.append(f"{v['impact']} {v['id']} ({v['help']}) at {node['target']}: "
                         f"{node['html']}")
        if len(v["nodes"]) > 5:
            lines.append(f"  ... and {len(v['nodes']) - 5} more elements")
    return "\n".join(lines)


def screenshots_dir() -> Path:
    """Where the browser tests write their screenshots: $BROWSER_SCREENSHOTS, else
    <PORTAL_VAR_DIR>/browser-screenshots."""
    folder = Path(os.environ.get("BROWSER_SCREENSHOTS") or
                  Path(settings.VAR_DIR) / "browser-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page, name: str) -> Path:
    """A full-page screenshot named after `name` (made file-safe) in screenshots_dir()."""
    path = screenshots_dir() / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
