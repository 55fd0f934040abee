from celery import shared_task
from django.conf import settings

from evaluations.services import run_execute, runs_reconcile


@shared_task(name="evaluations.run_evaluation", acks_late=True, reject_on_worker_lost=True,
             time_limit=settings.EVALUATION_HARD_TIME_LIMIT)
def run_evaluation_task(run_id: int) -> str:
    """Thin: the service claims the run, so a duplicate delivery does nothing."""
    return run_execute(run_id=run_id)


@shared_task(name="evaluations.reconcile_runs", acks_late=True)
def reconcile_runs_task() -> dict:
    return runs_reconcile()
