"""What the clearinghouse's cases tell whom. Called by clearinghouse/cases.py and
clearinghouse/embargo.py (events) and by their beat sweeps (reminders).

Emails carry no vulnerability detail (issue 11, point 7): a title names the case by its
reference ("Case CH-2026-0001") and what kind of thing happened; the body says where to look.
Never a title, summary, product, CWE, score, statement text, reason or message body.
"""

from django.urls import reverse

from accounts.models import User
from notifications.models import Notification
from notifications.selectors import program_admins
from notifications.services import notify

K = Notification.Kind
SEE = "Details are in the portal, behind your login."


def _case_link(case) -> str:
    return reverse("case_detail", args=[case.pk])


def _members(organisation_ids) -> list[User]:
    """The active members of these organisations, in one query."""
    ids = {pk for pk in organisation_ids if pk is not None}
    if not ids:
        return []
    return list(User.objects.filter(membership__organisation_id__in=ids, is_active=True)
                .order_by("pk"))


def _coordinators(case) -> list[User]:
    """The coordinating organisation's members, and the program admins (who coordinate)."""
    from clearinghouse.models import Participant

    org_ids = case.participants.filter(role=Participant.Role.COORDINATOR).values_list(
        "organisation_id", flat=True)
    return _members(list(org_ids)) + program_admins()


def _participants(case, *, but=None) -> list[User]:
    """Every member of every confirmed participant organisation, less `but` (a user)."""
    org_ids = case.participants.filter(confirmed=True).values_list("organisation_id", flat=True)
    users = _members(list(org_ids)) + program_admins()
    return [u for u in users if but is None or u.pk != but.pk]


def vendor_notified(participant) -> None:
    case = participant.case
    notify(users=_members([participant.organisation_id]), kind=K.CASE_VENDOR_NOTIFIED,
           obj=participant, title=f"Case {case.reference}: your organisation was added as a vendor",
           body="The coordinator asks for a statement on each of your products named in the "
                f"case. {SEE}", link=_case_link(case))


def statement_changed(statement, case) -> None:
    notify(users=_coordinators(case), kind=K.CASE_UPDATE, obj=statement,
           occasion=f"statement-v{statement.version}",
           title=f"Case {case.reference}: a vendor statement changed",
           body=SEE, link=_case_link(case))


def remediation_added(remediation, case) -> None:
    notify(users=_coordinators(case), kind=K.CASE_UPDATE, obj=remediation,
           title=f"Case {case.reference}: a vendor added a remediation",
           body=SEE, link=_case_link(case))


def message_posted(message) -> None:
    case = message.case
    notify(users=_participants(case, but=message.author), kind=K.CASE_MESSAGE, obj=message,
           title=f"Case {case.reference}: a new message in the thread",
           body=SEE, link=_case_link(case) + "#thread")


def vendor_reminded(participant, *, days: int) -> list:
    case = participant.case
    return notify(users=_members([participant.organisation_id]), kind=K.STATEMENT_REMINDER,
                  obj=participant, occasion=f"day-{days}",
                  title=f"Case {case.reference}: your statement is awaited ({days} days)",
                  body="Some of your products in this case are still under investigation. "
                       "Silence is never read as \"not affected\". " + SEE,
                  link=_case_link(case))


def vendor_no_response(participant) -> None:
    case = participant.case
    notify(users=_coordinators(case), kind=K.STATEMENT_REMINDER, obj=participant,
           occasion="no-response",
           title=f"Case {case.reference}: a vendor has not responded in 21 days",
           body=SEE, link=_case_link(case))


def case_state_set(case, *, field: str) -> None:
    notify(users=_participants(case), kind=K.CASE_UPDATE, obj=case, occasion=f"state-{field}",
           title=f"Case {case.reference}: case state updated", body=SEE,
           link=_case_link(case))


def embargo_changed(embargo, *, event: str) -> None:
    """proposed, revised, active, rejected, revision_dropped or exited, to every participant."""
    case = embargo.case
    notify(users=_participants(case), kind=K.EMBARGO_UPDATE, obj=embargo,
           occasion=f"{event}@{embargo.status_changed_at.timestamp():.3f}",
           title=f"Case {case.reference}: embargo {event.replace('_', ' ')}",
           body=("Open the case to see the embargo's end in UTC and your time zone, and to "
                 f"answer if asked. {SEE}"), link=_case_link(case) + "#embargo")


def advisory_published(advisory, *, link: str) -> None:
    """Every participant: the case's advisory is out (called by clearinghouse/publication.py).
    `link` is the published CSAF document, public by then; the email still names only the case."""
    case = advisory.case
    notify(users=_participants(case), kind=K.ADVISORY_PUBLISHED, obj=advisory,
           title=f"Case {case.reference}: the advisory is published",
           body="The clearinghouse published the case's advisory (CSAF, VEX, OSV and CVE "
                "records). Follow the link to read it.", link=link)


def advisory_withdrawn(advisory) -> None:
    case = advisory.case
    notify(users=_participants(case), kind=K.CASE_UPDATE, obj=advisory, occasion="withdrawn",
           title=f"Case {case.reference}: the advisory was withdrawn", body=SEE,
           link=_case_link(case))
