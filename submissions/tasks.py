from celery import shared_task

from submissions.window_services import windows_check_rules


@shared_task(name="submissions.windows_check_rules", acks_late=True)
def windows_check_rules_task() -> list[int]:
    """Idempotent sweep: flags windows that a moved date or a lowered cap made invalid."""
    return windows_check_rules()
