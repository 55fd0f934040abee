"""Reads for notifications: a user's own, nothing else."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import Membership, User
from notifications.models import Notification, NotificationPreference


def notifications_for(*, user) -> QuerySet[Notification]:
    if not getattr(user, "is_authenticated", False):
        return Notification.objects.none()
    return Notification.objects.filter(user=user)


def notification_get_for_user(*, user, pk) -> Notification:
    return get_object_or_404(notifications_for(user=user), pk=pk)


def unread_count(*, user) -> int:
    return notifications_for(user=user).filter(read_at__isnull=True).count()


def delivery_of(*, user) -> str:
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.delivery if preference else NotificationPreference.Delivery.IMMEDIATE


def organisation_members(*, organisation_id: int) -> list[User]:
    return list(User.objects.filter(membership__organisation_id=organisation_id, is_active=True))


def program_admins() -> list[User]:
    return list(User.objects.filter(membership__role=Membership.Role.PROGRAM_ADMIN,
                                    is_active=True))
