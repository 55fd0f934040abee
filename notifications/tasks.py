from celery import shared_task

from notifications import partner_events, services


@shared_task(name="notifications.send_notification", acks_late=True, autoretry_for=(OSError,),
             retry_backoff=True, max_retries=5, soft_time_limit=60, time_limit=90)
def send_notification_task(notification_id: int) -> bool:
    """Emails one notification; a second run (or a concurrent one) sends nothing."""
    return services.notification_send(notification_id=notification_id)


@shared_task(name="notifications.send_digests", acks_late=True, soft_time_limit=540,
             time_limit=600)
def send_digests_task() -> list[int]:
    return services.digests_send()


@shared_task(name="notifications.partner_reminders", acks_late=True, soft_time_limit=240,
             time_limit=300)
def partner_reminders_task() -> dict[str, list[int]]:
    """Window starts, ends within 3 days, unused 7 days in."""
    return partner_events.reminders_send()


@shared_task(name="notifications.grant_mark_used", acks_late=True, soft_time_limit=30,
             time_limit=60)
def grant_mark_used_task(grant_id: int) -> None:
    services.grant_mark_used(grant_id=grant_id)
