"""What the clearinghouse's intake tells whom: a report filed (the coordinators) and every move,
verification or validation of it (the reporter's organisation). Called by clearinghouse/intake.py
inside its transactions.

Titles and bodies carry "Report #N", its status and a link, nothing else: a report's title, its
product or its CWE is already vulnerability detail, and email leaves the portal
(docs/clearinghouse.md 4.4, rule 11).
"""

from django.urls import reverse

from notifications import selectors
from notifications.models import Notification
from notifications.services import notify

K = Notification.Kind


def _link(report) -> str:
    return reverse("report_detail", args=[report.pk])


def report_filed(report) -> None:
    notify(users=selectors.program_admins(), kind=K.REPORT_STATUS, obj=report, occasion="filed",
           title=f"Report #{report.pk}: received",
           body="A vulnerability report was filed with the clearinghouse. Open it to triage.",
           link=_link(report))
    notify(users=selectors.organisation_members(organisation_id=report.organisation_id),
           kind=K.REPORT_STATUS, obj=report, occasion="filed",
           title=f"Report #{report.pk}: received by the clearinghouse",
           body="The coordinator will triage it. Details are in the portal.", link=_link(report))


def report_changed(report, *, label: str, occasion: str) -> None:
    """A move, a verification or a validation: the reporter's organisation hears of it."""
    notify(users=selectors.organisation_members(organisation_id=report.organisation_id),
           kind=K.REPORT_STATUS, obj=report, occasion=occasion[:60],
           title=f"Report #{report.pk}: {label}",
           body=f"Its status is now: {report.get_status_display()}. Details are in the portal.",
           link=_link(report))
