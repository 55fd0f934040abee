"""What every worker process does besides running tasks: the outbox relay and its presence.

Connected to Celery's signals by review_portal.celery_app; runs in the worker's main process.
"""

import logging
import os
import socket

from celery.signals import worker_ready, worker_shutting_down

logger = logging.getLogger(__name__)
_state: dict = {}


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
        relay.stop()
    presence = _state.get("presence")
    if presence:
        try:
            from jobs.services import presence_stopped

            presence_stopped(name=presence["name"])
        except Exception:  # the database is down; the page will see the presence go stale
            logger.exception("could not record the worker's stop")


def pool_processes() -> list[int]:
    """The pids of this worker's pool processes (prefork), for hand-backs on shutdown."""
    consumer = _state.get("consumer")
    try:
        return list(consumer.pool.info.get("processes") or []) if consumer else []
    except Exception:
        return []
