"""Evaluation workers' start and stop, connected to Celery's signals by review_portal.celery_app.

At start, a worker on the evaluations queue hands back the runs of this host's processes that no
longer exist (its predecessor was killed), so they start again without waiting for beat. On a
warm shutdown (SIGTERM: every deploy) it hands back the runs its pool processes hold at once,
instead of holding the deploy for hours or leaving them to the visibility timeout.
"""

import logging
import socket

from celery.signals import worker_ready, worker_shutting_down

logger = logging.getLogger(__name__)
_consumes = {"evaluations": False}


@worker_ready.connect(dispatch_uid="evaluations-worker-ready")
def _reclaim_orphans(sender=None, **_):
    from django.conf import settings

    from evaluations.services import runs_reclaim_orphans

    queues = {q.name for q in sender.task_consumer.queues} if sender is not None else set()
    _consumes["evaluations"] = settings.EVALUATIONS_QUEUE in queues
    if not _consumes["evaluations"]:
        return
    try:
        handed = runs_reclaim_orphans()
    except Exception:  # the database is down: the reconcile sweep will do it later
        logger.exception("could not reclaim orphaned runs")
        return
    if handed:
        logger.warning("Handed back runs whose worker was gone: %s", handed)


@worker_shutting_down.connect(dispatch_uid="evaluations-worker-shutting-down")
def _hand_back(sig=None, how=None, **_):
    if not _consumes["evaluations"]:
        return
    from django.conf import settings

    from evaluations.services import runs_hand_back
    from jobs.worker import pool_processes, stop_consuming

    stop_consuming(settings.EVALUATIONS_QUEUE)
    host = socket.gethostname()
    claimants = [f"{host}:{pid}" for pid in pool_processes()]
    try:
        handed = runs_hand_back(claimants=claimants,
                                reason=f"the worker was stopping ({sig or how})")
    except Exception:
        logger.exception("could not hand back running evaluations")
        return
    if handed:
        logger.warning("Handed back running evaluations on shutdown: %s", handed)
