"""What operators are told of their exposures (called by exposures/disclosure.py).

Emails carry no vulnerability detail, as for the clearinghouse's cases
(notifications/clearinghouse_events.py): a title names the case by its reference and how many
exposures of which priority; never a title, product, asset, version, CWE, score or remediation.
Those are behind the login, on the exposure pages, for the operator's own members only.
"""

from datetime import date

from django.urls import reverse

from accounts.models import User
from exposures.models import SSVC
from notifications.clearinghouse_events import SEE, _members
from notifications.models import Notification
from notifications.services import notify

K = Notification.Kind
LABELS = {**dict(SSVC.Priority.choices), "unprioritised": "Not yet prioritised",
          "to_confirm": "To confirm"}
ORDER = [SSVC.Priority.IMMEDIATE, SSVC.Priority.OUT_OF_CYCLE, SSVC.Priority.SCHEDULED,
         SSVC.Priority.DEFER, "unprioritised", "to_confirm"]


def operator_members(organisation_id: int) -> list[User]:
    return _members([organisation_id])


def _occasion(exposure) -> str:
    occasion = f"v{max(exposure.assessment_version, 1)}"
    if exposure.reopened_at is not None:
        occasion += f"-r{exposure.reopened_at.timestamp():.6f}"
    return occasion


def exposure_urgent(exposure, *, users) -> list:
    """An immediate or out-of-cycle exposure, at once: once per assessment version (and once
    more after it was reopened)."""
    case = exposure.vulnerability.case
    priority = exposure.get_priority_display().lower()
    return notify(users=users, kind=K.EXPOSURE_URGENT, obj=exposure,
                  occasion=_occasion(exposure),
                  title=f"Case {case.reference}: 1 {priority} exposure of your systems",
                  body=("A fix or mitigation exists for something your organisation runs. "
                        f"{SEE}"),
                  link=reverse("exposure_detail", args=[exposure.pk]))


def digest_summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[key]} {LABELS[key].lower()}" for key in ORDER if counts.get(key))


def exposures_digest(case, *, organisation_id: int, counts: dict[str, int], day: date,
                     users) -> list:
    """One notification per member per case per day: counts only."""
    total = sum(counts.values())
    return notify(users=users, kind=K.EXPOSURES_DIGEST, obj=case,
                  occasion=f"exposures-digest-{day.isoformat()}",
                  title=f"Case {case.reference}: {total} exposure(s) of your systems",
                  body=f"{digest_summary(counts)}. {SEE}",
                  link=reverse("exposure_list") + f"?case={case.pk}")
