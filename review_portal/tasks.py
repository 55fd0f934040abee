from celery import shared_task

from review_portal.emails import send_rendered


@shared_task(name="portal.send_email", autoretry_for=(OSError,), retry_backoff=True,
             max_retries=5, acks_late=True)
def send_email(*, to: list[str], subject: str, text: str, html: str) -> None:
    """Kept for jobs queued before every email went through notifications (an outbox row may
    still name it after an upgrade); nothing enqueues it any more."""
    send_rendered(to=to, subject=subject, text=text, html=html)
