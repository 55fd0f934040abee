"""What the determination workflow tells whom: a request's moves and messages, a reviewer's
assignment and a flagged government window. Called by submissions/services.py and
submissions/window_services.py inside their transactions; `notify` writes the inbox rows and
asks for the immediate emails (or leaves them to the digest) after the commit.

Titles and bodies carry a request's or window's number, the model's name, the new status and
the rule a window breaks: all of it visible to every recipient in the portal. Never a message's
text, a rationale, an internal note or who reviewed.
"""

from django.urls import reverse

from notifications import selectors
from notifications.models import Notification
from notifications.services import notify

K = Notification.Kind


def _request_link(review_request) -> str:
    return reverse("request_detail", args=[review_request.pk])


def request_changed(*, review_request, to_agency: bool, label: str, occasion: str) -> None:
    """A request moved or got a message. The developer side's news goes to the assigned
    reviewers (the program admins while nobody is assigned); the agency's to the developer
    organisation's members. `occasion` tells two events on one request apart."""
    if to_agency:
        users = [a.reviewer for a in review_request.assignments.select_related("reviewer")]
        users = users or selectors.program_admins()
    else:
        users = selectors.organisation_members(
            organisation_id=review_request.model.organisation_id)
    notify(users=users, kind=K.REQUEST_STATUS, obj=review_request, occasion=occasion,
           title=f"Request #{review_request.pk} ({review_request.model}): {label}",
           body=f"Its status is now: {review_request.get_status_display()}.",
           link=_request_link(review_request))


def reviewer_assigned(*, assignment) -> None:
    review_request = assignment.request
    notify(users=[assignment.reviewer], kind=K.REVIEWER_ASSIGNED, obj=assignment,
           title=f"You are assigned to review request #{review_request.pk}",
           body=f"Request #{review_request.pk} ({review_request.model}). If you have a conflict "
                "of interest, tell the program office before you read the material.",
           link=_request_link(review_request))


def window_flagged(*, window, reason: str, occasion: str) -> None:
    """A government window no longer keeps the rules (it is never changed): the program
    admins hear why."""
    notify(users=selectors.program_admins(), kind=K.WINDOW_FLAGGED, obj=window,
           occasion=occasion, title=f"Access window flagged for {window.model}",
           body=f"The government access window #{window.pk} no longer keeps the program's "
                f"rules: {reason} The window was not changed.",
           link=reverse("window_list") + "?flagged=1")
