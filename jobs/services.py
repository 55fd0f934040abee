"""Writes for the outbox: record a job with the transaction, publish it, redeliver a lost one.

`job_enqueue` is the one way anything in the portal asks a worker for work. The row is part of
the caller's transaction; after the commit the same process tries to publish it at once (the
fast path), and the relay (jobs.relay, a thread in every worker) publishes whatever the fast
path could not: the broker was down, the process died between commit and publish. A publish
never waits for an unreachable broker (no retries, short timeouts), so no request hangs on it.

Publishing is claimed with a conditional update, so two relays (or a relay and the fast path)
rarely publish a row twice; when they do, the task's own claim makes the second run a no-op:
every task is idempotent.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from jobs.models import OutboxMessage

logger = logging.getLogger(__name__)
S = OutboxMessage.State

# The relay leaves a new row to the process that committed it for this long (its fast path).
FAST_PATH_GRACE = timedelta(seconds=5)
# A publish in progress holds its row for this long; a relay that died mid-publish lets go.
CLAIM = timedelta(seconds=30)
# A failed publish costs a refused connection: retry often, so work starts soon after the broker
# returns.
MAX_BACKOFF_SECONDS = 2.0
MAX_DELIVERIES = 5
_DEFAULT = object()


def queue_for(task: str) -> str:
    route = settings.CELERY_TASK_ROUTES.get(task) or {}
    return route.get("queue", settings.CELERY_TASK_DEFAULT_QUEUE)


def _redeliver_after(task: str) -> int:
    """A job not done long after its hard time limit was lost with its message."""
    from review_portal.celery_app import app

    # The task modules are light (they import services, never Inspect); load them so the
    # task's own limit is known here too.
    app.loader.import_default_modules()
    limit = getattr(app.tasks.get(task), "time_limit", None) or settings.CELERY_TASK_TIME_LIMIT
    return int(limit) + 300


def job_enqueue(*, task: str, kwargs: dict, ref: str = "",
                redeliver_after: int | None = _DEFAULT,  # type: ignore[assignment]
                publish_now: bool = True) -> OutboxMessage:
    """Record the job in the current transaction; publish it after the commit. With
    publish_now=False the relay publishes it (within a poll): for a worker's main process
    during shutdown, which must not publish from inside a signal handler."""
    row = OutboxMessage.objects.create(
        task=task, kwargs=kwargs, queue=queue_for(task), ref=ref,
        available_at=timezone.now() + (FAST_PATH_GRACE if publish_now else timedelta(0)),
        redeliver_after=_redeliver_after(task) if redeliver_after is _DEFAULT
        else redeliver_after)
    if publish_now:
        # robust: a failed publish is handled (the row waits for the relay); this only keeps
        # an unexpected error in an eagerly run task (tests) from undoing what was committed.
        transaction.on_commit(lambda: outbox_publish(message_id=row.pk), robust=True)
    return row


def _claim(message_id: int, *, due_only: bool) -> OutboxMessage | None:
    now = timezone.now()
    due = Q(pk=message_id, state=S.WAITING)
    if due_only:
        due &= Q(available_at__lte=now)
    if not OutboxMessage.objects.filter(due).update(available_at=now + CLAIM):
        return None
    return OutboxMessage.objects.get(pk=message_id)


def _send(row: OutboxMessage, connection=None) -> None:
    """Publish by name: the web process never imports what only workers run. A connection of
    its own (or the relay's for its batch), never a pooled one that a broker restart broke."""
    from review_portal.celery_app import app

    if app.conf.task_always_eager:  # tests: run the task here, now
        app.loader.import_default_modules()
        app.tasks[row.task].apply_async(kwargs=row.kwargs, task_id=row.task_id)
        return
    if connection is None:
        with app.connection_for_write() as own:
            own.ensure_connection(max_retries=0)
            app.send_task(row.task, kwargs=row.kwargs, task_id=row.task_id, queue=row.queue,
                          retry=False, connection=own)
        return
    app.send_task(row.task, kwargs=row.kwargs, task_id=row.task_id, queue=row.queue,
                  retry=False, connection=connection)


def outbox_publish(*, message_id: int, due_only: bool = False, connection=None) -> str:
    """Publish one waiting row: "published" when the broker took it, "skipped" when someone
    else has it, "failed" when the broker did not take it (the row stays waiting, with the
    reason, and becomes due again after a short back-off)."""
    from review_portal.celery_app import app

    row = _claim(message_id, due_only=due_only)
    if row is None:
        return "skipped"
    if app.conf.task_always_eager:
        # Tests run tasks in-process: mark it published first, the task marks it done.
        OutboxMessage.objects.filter(pk=row.pk).update(
            state=S.PUBLISHED, published_at=timezone.now(), deliveries=F("deliveries") + 1,
            publish_attempts=F("publish_attempts") + 1)
        _send(row)
        return "published"
    try:
        _send(row, connection)
    except Exception as exc:  # the broker is unreachable or refused the message
        backoff = min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** row.publish_attempts)
        OutboxMessage.objects.filter(pk=row.pk, state=S.WAITING).update(
            publish_attempts=F("publish_attempts") + 1,
            last_error=f"The job queue did not take it: {type(exc).__name__}: {exc}"[:1000],
            available_at=timezone.now() + timedelta(seconds=backoff))
        logger.warning("outbox: could not publish %s: %s", row, exc)
        return "failed"
    OutboxMessage.objects.filter(pk=row.pk, state=S.WAITING).update(
        state=S.PUBLISHED, published_at=timezone.now(), last_error="",
        deliveries=F("deliveries") + 1, publish_attempts=F("publish_attempts") + 1)
    return "published"


def outbox_relay_once(*, limit: int = 200) -> int:
    """Publish due rows, oldest first; stop at the first failure (the broker is down: the
    rest would fail the same way). Returns how many were published."""
    due = list(OutboxMessage.objects.filter(state=S.WAITING, available_at__lte=timezone.now())
               .order_by("available_at", "id").values_list("pk", flat=True)[:limit])
    if not due:
        return 0
    from review_portal.celery_app import app

    published = 0
    with app.connection_for_write() as connection:
        for message_id in due:
            outcome = outbox_publish(message_id=message_id, due_only=True,
                                     connection=connection)
            if outcome == "failed":
                break
            published += outcome == "published"
    return published


def outbox_redeliver_lost() -> list[int]:
    """Published jobs not done long after they should have been (their message was lost) are
    published again, up to MAX_DELIVERIES; then they fail with a reason an admin can see."""
    now = timezone.now()
    again, failed = [], []
    rows = OutboxMessage.objects.filter(state=S.PUBLISHED, redeliver_after__isnull=False)
    for row in rows.only("pk", "published_at", "redeliver_after", "deliveries", "task"):
        if row.published_at + timedelta(seconds=row.redeliver_after) > now:
            continue
        unchanged = OutboxMessage.objects.filter(pk=row.pk, state=S.PUBLISHED,
                                                 deliveries=row.deliveries)
        if row.deliveries >= MAX_DELIVERIES:
            if unchanged.update(state=S.FAILED, done_at=now,
                                last_error=f"Not done after {row.deliveries} deliveries."):
                failed.append(row.pk)
        elif unchanged.update(state=S.WAITING, available_at=now):
            again.append(row.pk)
    if again or failed:
        logger.warning("outbox: redelivering %s, giving up on %s", again, failed)
    return again


KEEP_FINISHED = timedelta(days=7)


def outbox_prune(*, batch: int = 1000) -> int:
    """Delete jobs finished more than KEEP_FINISHED ago (the health page reads the last day;
    the audit trail, not the outbox, is the record). A batch per call, so a sweep stays short."""
    cutoff = timezone.now() - KEEP_FINISHED
    ids = list(OutboxMessage.objects.filter(state__in=[S.DONE, S.FAILED], done_at__lt=cutoff)
               .values_list("pk", flat=True)[:batch])
    if not ids:
        return 0
    return OutboxMessage.objects.filter(pk__in=ids).delete()[0]


def outbox_mark_finished(*, task_id: str, succeeded: bool, error: str = "") -> bool:
    """Called when a task ends (jobs.signals): the job is done, or failed with its reason."""
    if not task_id.startswith("outbox-"):
        return False
    try:
        message_id = int(task_id.removeprefix("outbox-"))
    except ValueError:
        return False
    return bool(OutboxMessage.objects.filter(pk=message_id, done_at__isnull=True).update(
        state=S.DONE if succeeded else S.FAILED, done_at=timezone.now(),
        last_error="" if succeeded else error[:1000]))


def presence_beat(*, name: str, kind: str, hostname: str, pid: int, queues: list[str],
                  concurrency: int, started_at) -> None:
    """A process says it is alive (upsert on its name)."""
    from jobs.models import Presence

    Presence.objects.update_or_create(name=name, defaults={
        "kind": kind, "hostname": hostname, "pid": pid, "queues": queues,
        "concurrency": concurrency, "started_at": started_at, "seen_at": timezone.now(),
        "stopped_at": None})


def presence_stopped(*, name: str) -> None:
    from jobs.models import Presence

    Presence.objects.filter(name=name).update(stopped_at=timezone.now())
