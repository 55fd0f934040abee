"""What the trusted-partner workflow tells whom. Called by partners/services.py (events) and by
the beat jobs in notifications/tasks.py (the timed reminders).

Texts carry a request's or grant's number, the model's name, the partner organisation's name and
the window's dates: all of it visible to every recipient in the portal. Never a justification,
a denial or revocation reason, the terms' text or a token.
"""

from datetime import timedelta

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone

from notifications import selectors
from notifications.models import GrantUsage, Notification
from notifications.services import notify

K = Notification.Kind
GRANT_TYPE = "partners.accessgrant"


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC"


def _window(obj) -> str:
    return f"{_when(obj.starts_at)} to {_when(obj.ends_at)}"


def _request_link(access_request) -> str:
    return reverse("access_request_detail", args=[access_request.pk])


def _occasion(access_request) -> str:
    # A denied request may be reconsidered once: its second round notifies again.
    return "reconsidered" if access_request.reconsidered_at else ""


def _developers(model):
    return selectors.organisation_members(organisation_id=model.organisation_id)


def _partners(organisation_id):
    return selectors.organisation_members(organisation_id=organisation_id)


def request_received(access_request) -> None:
    """A new request (or invitation): the partner hears it is in; both approving sides hear
    their approval is needed."""
    label = f"Early-access request #{access_request.pk} for {access_request.model}"
    link = _request_link(access_request)
    notify(users=_partners(access_request.organisation_id), kind=K.REQUEST_RECEIVED,
           obj=access_request, title=f"{label}: received",
           body=f"It asks for the window {_window(access_request)} and needs the approval of "
                "the developer and of the agency.", link=link)
    notify(users=_developers(access_request.model) + selectors.program_admins(),
           kind=K.APPROVAL_NEEDED, obj=access_request,
           title=f"{label} from {access_request.organisation}: approval needed",
           body=f"Window requested: {_window(access_request)}. Open the request to approve "
                "or deny it.", link=link)


def reconsideration_requested(access_request) -> None:
    notify(users=_developers(access_request.model) + selectors.program_admins(),
           kind=K.APPROVAL_NEEDED, obj=access_request, occasion="reconsidered",
           title=f"Early-access request #{access_request.pk} for {access_request.model}: "
                 "reconsideration requested; approval needed",
           body="Both approvals are needed again.", link=_request_link(access_request))


def request_approved(access_request) -> None:
    notify(users=_partners(access_request.organisation_id) + _developers(access_request.model),
           kind=K.APPROVED, obj=access_request, occasion=_occasion(access_request),
           title=f"Early-access request #{access_request.pk} for {access_request.model}: "
                 "approved by both sides",
           body="Access starts once a member of the partner organisation has accepted the "
                "model's current terms of access.", link=_request_link(access_request))


def request_denied(access_request) -> None:
    notify(users=_partners(access_request.organisation_id), kind=K.DENIED, obj=access_request,
           occasion=_occasion(access_request),
           title=f"Early-access request #{access_request.pk} for {access_request.model}: "
                 "denied",
           body="The reason is in the portal. A denied request may be reconsidered once.",
           link=_request_link(access_request))


def _grant_label(grant) -> str:
    return f"Early access #{grant.pk} to {grant.model}"


def grant_event(grant, event: str) -> None:
    """granted / revoked / ended, told to the partner (and the developer for granted/revoked)."""
    kind, users = {
        "granted": (K.ACCESS_GRANTED, _partners(grant.organisation_id) + _developers(grant.model)),
        "revoked": (K.ACCESS_REVOKED, _partners(grant.organisation_id) + _developers(grant.model)),
        "ended": (K.WINDOW_ENDED, _partners(grant.organisation_id)),
    }[event]
    body = {
        "granted": f"Window: {_window(grant)}.",
        "revoked": "Access ended early. The reason is in the portal.",
        "ended": f"The window ended at {_when(grant.ends_at)}; the access token is inactive.",
    }[event]
    notify(users=users, kind=kind, obj=grant, title=f"{_grant_label(grant)}: {event}",
           body=body, link=reverse("grant_list"))


def partner_status(profile, *, to_members: bool) -> None:
    """A partner organisation applied or changed status (vetted, suspended, revoked)."""
    users = selectors.program_admins()
    if to_members:
        users = _partners(profile.organisation_id) + users
    notify(users=users, kind=K.PARTNER_STATUS, obj=profile,
           occasion=f"{profile.status}@{profile.status_changed_at.timestamp():.0f}",
           title=f"Partner organisation {profile.organisation}: "
                 f"{profile.get_status_display().lower()}",
           body="Details are in the portal.", link=reverse("partner_list"))


# --- timed reminders (beat) -----------------------------------------------------------------

def _not_yet(kind: str):
    return ~Exists(Notification.objects.filter(kind=kind, object_type=GRANT_TYPE,
                                               object_id=OuterRef("pk")))


def reminders_send() -> dict[str, list[int]]:
    """The beat job: window starts, ends within 3 days, unused 7 days in. Re-runs harmlessly:
    grants already notified are skipped, and `notify` creates each row once."""
    from accounts.policy import live_grant_q
    from partners.models import AccessGrant

    now = timezone.now()
    live = AccessGrant.objects.filter(live_grant_q()).select_related("model", "organisation")
    done: dict[str, list[int]] = {"starts": [], "ends_soon": [], "unused": []}
    for grant in live.filter(_not_yet(K.WINDOW_STARTS)):
        if notify(users=_partners(grant.organisation_id), kind=K.WINDOW_STARTS, obj=grant,
                  title=f"{_grant_label(grant)}: the window has started",
                  body=f"Window: {_window(grant)}.", link=reverse("grant_list")):
            done["starts"].append(grant.pk)
    for grant in live.filter(_not_yet(K.WINDOW_ENDS_SOON), ends_at__lte=now + timedelta(days=3)):
        if notify(users=_partners(grant.organisation_id), kind=K.WINDOW_ENDS_SOON, obj=grant,
                  title=f"{_grant_label(grant)}: the window ends within 3 days",
                  body=f"It ends at {_when(grant.ends_at)}.", link=reverse("grant_list")):
            done["ends_soon"].append(grant.pk)
    used = GrantUsage.objects.filter(grant_id=OuterRef("pk"))
    for grant in live.filter(_not_yet(K.ACCESS_UNUSED), ~Exists(used),
                             starts_at__lte=now - timedelta(days=7)):
        if notify(users=_partners(grant.organisation_id) + _developers(grant.model),
                  kind=K.ACCESS_UNUSED, obj=grant,
                  title=f"{_grant_label(grant)}: not used 7 days into the window",
                  body=f"{grant.organisation} has not used this access yet. Window: "
                       f"{_window(grant)}.", link=reverse("grant_list")):
            done["unused"].append(grant.pk)
    return done
