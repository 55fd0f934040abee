from celery import shared_task

from partners.services import grants_sweep_ended


@shared_task(name="partners.grants_sweep_ended", acks_late=True, soft_time_limit=240,
             time_limit=300)
def grants_sweep_ended_task() -> list[int]:
    """Removes the permissions of ended grants; access itself already ended with the window."""
    return grants_sweep_ended()
