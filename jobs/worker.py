"""What every worker process does besides running tasks: the outbox relay and its presence.

Connected to Celery's signals by review_portal.celery_app; runs in the worker's main process.
"""

import logging
import os
import socket

from celery.signals import worker_init, worker_ready, worker_shutting_down

logger = logging.getLogger(__name__)
_state: dict = {}


@worker_init.connect(dispatch_uid="jobs-worker-init")
def _never_eager(sender=None, **_):
    """A worker publishes what it enqueues (hand-backs, the relay, jobs its tasks ask for); it
    never runs a job inline, whatever the settings say for other processes (the test settings
    run tasks eagerly in the test process). Before the pool forks, so children inherit it."""
    if sender is not None:
        sender.app.conf.task_always_eager = False


@worker_ready.connect(dispatch_uid="jobs-worker-ready")
def _start_relay(sender=None, **_):
    from django.utils import timezone

    from jobs.relay import Relay

    consumer = sender
    queues = sorted(q.name for q in consumer.task_consumer.queues) if consumer else []
    presence = {"name": consumer.hostname if consumer else f"worker@{socket.gethostname()}",
                "kind": "worker", "hostname": socket.gethostname(), "pid": os.getpid(),
                "queues": queues, "concurrency": getattr(consumer.pool, "limit", 0) or 0,
                "started_at": timezone.now()}
    relay = Relay(presence=presence)
    relay.start()
    _state.update(relay=relay, presence=presence, consumer=consumer)


@worker_shutting_down.connect(dispatch_uid="jobs-worker-shutting-down")
def _stop_relay(**_):
    relay = _state.get("relay")
    if relay is not None:
        # Not a plain stop: this signal's other handlers (hand-backs) leave jobs to publish.
        relay.drain_and_stop()
        relay.join(timeout=5)
    presence = _state.get("presence")
    if presence:
        try:
            from jobs.services import presence_stopped

            presence_stopped(name=presence["name"])
        except Exception:  # the database is down; the page will see the presence go stale
            logger.exception("could not record the worker's stop")


def stop_consuming(queue: str) -> None:
    """Take no more messages from `queue` (what `celery control cancel_consumer` does): a worker
    that is stopping must not pick up the very job it is handing back."""
    consumer = _state.get("consumer")
    if consumer is not None:
        try:
            consumer.cancel_task_queue(queue)
        except Exception:
            logger.exception("could not stop consuming %s", queue)


def pool_processes() -> list[int]:
    """The pids of this worker's pool processes (prefork), for hand-backs on shutdown."""
    consumer = _state.get("consumer")
    try:
        return list(consumer.pool.info.get("processes") or []) if consumer else []
    except Exception:
        return []
