"""The header's navigation, per role (templates/base.html draws it as a USWDS header).

Who sees which page is asked of accounts/policy.py only. A role with few pages gets plain links;
the program admin's fourteen pages are grouped in six menus (usa-nav__submenu). Window tracking
(the timeline) and the window list (every window, the flagged ones) are one "Windows" menu.
"""

from dataclasses import dataclass, field

from django.urls import reverse

from accounts import policy
from exposures.access import may_manage_inventory


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    current: bool = False
    is_group = False


@dataclass(frozen=True)
class Group:
    """A menu: a button that opens its links (USWDS accordion, uswds.min.js)."""
    label: str
    key: str
    links: list[Link] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)

    is_group = True


def _is_current(url: str, path: str) -> bool:
    # The home page is "/" and a prefix of everything: only an exact match counts for it.
    return path == url if url == "/" else path.startswith(url)


def navigation_for(user, path: str = "") -> list:
    """The header's entries for `user` (empty for anyone without a role): Links and Groups."""
    role = policy.role_of(user)
    if role is None:
        return []

    def link(label: str, name: str) -> Link:
        url = reverse(name)
        return Link(label, url, _is_current(url, path))

    def group(label: str, key: str, *links: Link) -> Group:
        return Group(label, key, list(links))

    def windows() -> Group:
        return group("Windows", "windows", link("Timeline", "window_tracking"),
                     link("All windows and flags", "window_list"))

    early_access = link("Early access", "access_request_list")
    # The clearinghouse's reports: everyone who files them (policy.may_file_report).
    reports = link("Reports", "report_list")
    if policy.is_program_admin(user):
        return [
            group("Reviews", "reviews", link("Requests", "request_list"),
                  link("Models", "model_list"), link("Conflicts", "conflict_list")),
            group("Standards", "standards", link("Threshold policy", "policy_list"),
                  link("Rubrics", "rubric_list"), link("Benchmark suites", "suite_list")),
            windows(),
            group("Partners", "partners", link("Partner organisations", "partner_list"),
                  early_access),
            group("Operations", "operations", link("Audit trail", "audit_list"),
                  link("Background jobs", "queue_health")),
            group("Clearinghouse", "clearinghouse", reports,
                  link("Triage queue", "report_triage"), link("Cases", "case_list"),
                  link("Members", "clearinghouse_member_list"),
                  link("Metrics", "exposure_metrics"),
                  link("Operators' inventories", "inventory_counts")),
        ]
    if policy.is_developer(user):
        entries = [link("Models", "model_list"), link("Requests", "request_list")]
        if policy.may_track_windows(user):
            entries.append(windows())
        # Finders and reporters follow their reports' cases (the case summary).
        # The organisation's model gateways: their credentials and published addresses.
        return entries + [early_access, link("Gateways", "gateway_client_list"), reports,
                          link("Cases", "case_list")]
    if policy.is_agency_reviewer(user):
        return [link("Requests", "request_list"), link("Conflicts", "conflict_list"),
                group("Standards", "standards", link("Threshold policy", "policy_list"),
                      link("Rubrics", "rubric_list"), link("Benchmark suites", "suite_list")),
                early_access, reports]
    if policy.is_partner(user):
        return [link("Partners", "partner_list"), early_access]
    # Vendors and operators are clearinghouse members, not trusted partners: no early access.
    membership = link("Membership", "clearinghouse_member_list")
    if policy.is_vendor(user):
        return [link("Cases", "case_list"), reports, membership]
    if policy.is_operator(user):
        # What the clearinghouse released to the operator about what it runs, by priority;
        # its inventories only while the program office has it vetted (before that the page
        # is not there for it: exposures/access.py).
        entries = [link("Exposures", "exposure_list")]
        if may_manage_inventory(user):
            entries.append(link("Inventories", "inventory_list"))
        return entries + [reports, membership]
    return [early_access]
