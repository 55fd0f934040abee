"""Writes for notifications: create them once, email them once, mark them read.

`notify` is the one way anything in the portal tells a user something. It claims a
Notification row per recipient (unique on user, kind, object, occasion) inside the caller's
transaction; only a row created now is emailed, so a service or a beat job that runs twice
sends nothing the second time. Users who chose the daily digest get no immediate email; the
digest job sends their unsent items in one email, once.
"""

from collections.abc import Iterable
from datetime import timedelta

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from notifications.models import GrantUsage, Notification, NotificationPreference
from review_portal.emails import render_email, send_rendered

D = NotificationPreference.Delivery

# An immediate notification that no worker emailed within this time (a broker outage) is
# picked up by the next digest run instead of being lost.
LOST_AFTER = timedelta(hours=1)


def _object_type(obj) -> str:
    return f"{obj._meta.app_label}.{obj._meta.model_name}"


def notify(*, users: Iterable[User], kind: str, obj, title: str, body: str = "", link: str = "",
           occasion: str = "") -> list[Notification]:
    """Create the notification for each user unless it exists; email the new ones (after the
    commit) to the users who want immediate emails. Returns the rows created now.

    `title` and `body` go into emails: give only what every recipient may see."""
    created_rows = []
    seen = set()
    for user in users:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        # get_or_create on the unique key: two concurrent runs cannot both create the row.
        row, created = Notification.objects.get_or_create(
            user=user, kind=kind, object_type=_object_type(obj), object_id=obj.pk,
            occasion=occasion, defaults={"title": title[:300], "body": body, "link": link})
        if created:
            created_rows.append(row)
    if not created_rows:
        return []
    digest_users = set(NotificationPreference.objects.filter(
        user_id__in=[row.user_id for row in created_rows], delivery=D.DIGEST,
    ).values_list("user_id", flat=True))
    immediate = [row.pk for row in created_rows if row.user_id not in digest_users]
    if immediate:
        from jobs.services import job_enqueue

        # In the caller's transaction, published after it commits (and retried until the broker
        # takes it); the digest job is the second net for a row never emailed (LOST_AFTER).
        for pk in immediate:
            job_enqueue(task="notifications.send_notification",
                        kwargs={"notification_id": pk}, ref=f"notifications.notification:{pk}")
    return created_rows


def notification_send(*, notification_id: int) -> bool:
    """Email one notification, once. The row is locked (a concurrent run skips it) and marked
    sent in the same transaction as the send, so a second run finds it sent."""
    with transaction.atomic():
        row = (Notification.objects.select_for_update(skip_locked=True, of=("self",))
               .select_related("user").filter(pk=notification_id, emailed_at__isnull=True)
               .first())
        if row is None:
            return False
        if row.user.is_active and row.user.email:
            subject, text, html = render_email("notification", {"n": row})
            send_rendered(to=[row.user.email], subject=subject, text=text, html=html)
        row.emailed_at = timezone.now()
        row.save(update_fields=["emailed_at"])
    return True


def digests_send() -> list[int]:
    """The daily job: one email per digest user with their unsent notifications (and any
    immediate one that was never sent). Returns the ids of the users emailed."""
    lost = timezone.now() - LOST_AFTER
    due = Q(user__notification_preference__delivery=D.DIGEST) | Q(created_at__lt=lost)
    user_ids = (Notification.objects.filter(due, emailed_at__isnull=True)
                .values_list("user_id", flat=True).distinct())
    emailed = []
    for user_id in list(user_ids):
        with transaction.atomic():
            rows = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                        .filter(due, user_id=user_id, emailed_at__isnull=True)
                        .order_by("created_at", "id"))
            if not rows:
                continue
            user = User.objects.get(pk=user_id)
            if user.is_active and user.email:
                subject, text, html = render_email("notification-digest",
                                                   {"items": rows, "user": user})
                send_rendered(to=[user.email], subject=subject, text=text, html=html)
                emailed.append(user_id)
            Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
                emailed_at=timezone.now())
    return emailed


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now())


def preference_set(*, user: User, delivery: str) -> NotificationPreference:
    preference, _ = NotificationPreference.objects.get_or_create(user=user)
    preference.delivery = delivery
    preference.full_clean()
    preference.save()
    return preference


# At most one write per grant per this interval, so a busy gateway does not hammer one row.
USAGE_RESOLUTION = timedelta(minutes=5)

_UPSERT = (
    "INSERT INTO {table} (grant_id, first_used_at, last_used_at) {source} "
    "ON CONFLICT (grant_id) DO UPDATE SET last_used_at = EXCLUDED.last_used_at "
    "WHERE {table}.last_used_at < %s")


def grant_mark_used(*, grant_id: int) -> None:
    """Record that a partner used a grant. One SQL statement; no row change within
    USAGE_RESOLUTION of the last recorded use."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(table=GrantUsage._meta.db_table,
                                      source="VALUES (%s, %s, %s)"),
                       [grant_id, now, now, now - USAGE_RESOLUTION])


def grant_mark_used_later(*, grant_id: int) -> None:
    """For the token-introspection endpoint: the use is recorded by a worker, at most once per
    USAGE_RESOLUTION per grant. The cache key is the throttle, so most calls cost no SQL; when
    the throttle lets one through, the job is one outbox row. A cache that is down (or lost the
    key) only costs an extra upsert: the use is still recorded, the answer never fails."""
    try:
        first = cache.add(f"notifications:grant-used:{grant_id}", 1,
                          timeout=int(USAGE_RESOLUTION.total_seconds()))
    except Exception:  # the cache is unreachable: record the use anyway
        first = True
    if first is False:
        return
    from jobs.services import job_enqueue

    job_enqueue(task="notifications.grant_mark_used", kwargs={"grant_id": grant_id})


def granted_model_viewed(*, organisation_id: int, model_id: int) -> None:
    """The granted model's page was viewed by a member of the partner organisation: mark its
    live grants on that model used. One SQL statement, no lookup needed by the caller."""
    from partners.models import AccessGrant

    now = timezone.now()
    source = (f"SELECT id, %s, %s FROM {AccessGrant._meta.db_table} WHERE organisation_id = %s "
              "AND model_id = %s AND starts_at <= %s AND ends_at > %s AND revoked_at IS NULL")
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(table=GrantUsage._meta.db_table, source=source),
                       [now, now, organisation_id, model_id, now, now,
                        now - USAGE_RESOLUTION])
