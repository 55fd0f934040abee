"""Reads for the health of background jobs: the admin's status page and API, and the notice on a
queued run's page.

What a worker did is read from the database (the presences workers and beat write, the outbox),
what waits in the broker from the broker itself. The broker is asked in a thread given at most
BROKER_DEADLINE_SECONDS, so the page answers while the broker hangs: that is when it is needed.
The page runs a fixed number of queries (PAGE_QUERIES), whatever the size of the tables.
"""

import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Max, Min, Q
from django.http import Http404
from django.utils import timezone

from accounts.policy import is_program_admin
from audit.models import AuditTrailStatus
from evaluations.models import EvaluationRun
from evaluations.services import run_ref
from jobs.models import OutboxMessage, Presence
from notifications.models import Notification

logger = logging.getLogger(__name__)
S = OutboxMessage.State

# A worker writes its presence every 5 s (jobs.relay), beat every 15 s (jobs.beat); a few missed
# writes are a slow database, not a dead process.
WORKER_ALIVE_SECONDS = 20
BEAT_STALE_SECONDS = 60
# A waiting outbox row younger than this is the committing process's own fast path at work.
OUTBOX_LATE_SECONDS = 30
FAILED_WINDOW = timedelta(hours=24)
BROKER_TIMEOUT_SECONDS = 2.0
BROKER_DEADLINE_SECONDS = 3.0
# Workers long gone (an old container's node name) drop off the page after this.
WORKERS_SEEN_WITHIN = timedelta(days=7)
EMAIL_TASKS = ("portal.send_email", "notifications.send_notification")


def duration(seconds: int | None) -> str:
    """42 s, 5 min, 3 h, 2 days: how long, for people."""
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


def _age(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


@dataclass(frozen=True)
class WorkerHealth:
    name: str
    hostname: str
    queues: list[str]
    concurrency: int
    started_at: datetime
    seen_at: datetime
    stopped_at: datetime | None
    seen_seconds_ago: int
    alive: bool

    @property
    def status(self) -> str:
        if self.alive:
            return "Alive"
        if self.stopped_at is not None:
            return "Stopped"
        return f"Not seen for {duration(self.seen_seconds_ago)}"


@dataclass(frozen=True)
class QueueHealth:
    name: str
    depth: int | None  # messages waiting in the broker; None when it did not answer
    depth_error: str  # why depth is None
    live_workers: int


@dataclass(frozen=True)
class OutboxHealth:
    waiting: int
    oldest_waiting_at: datetime | None
    oldest_waiting_seconds: int | None
    last_error: str  # the newest reason a waiting job was not taken
    failed_last_24h: int


@dataclass(frozen=True)
class BeatHealth:
    last_tick_at: datetime | None
    seconds_ago: int | None
    stale: bool

    @property
    def status(self) -> str:
        if self.last_tick_at is None:
            return "Never seen"
        return f"Stale: no tick for {duration(self.seconds_ago)}" if self.stale else "Ticking"


@dataclass(frozen=True)
class AuditTrailHealth:
    checked_at: datetime | None  # the last periodic verification (audit.check_trail)
    ok: bool | None  # None: never checked
    events: int
    problem: str  # the first problem found
    problems: int
    failing_since: datetime | None
    checkpoint_sequence: int | None
    checkpoint_at: datetime | None

    @property
    def status(self) -> str:
        if self.ok is None:
            return "Not checked yet"
        return "Verified" if self.ok else f"Failed verification ({self.problems} problem(s))"


@dataclass(frozen=True)
class QueuedRun:
    id: int
    created_at: datetime
    age_seconds: int


@dataclass(frozen=True)
class QueueHealthReport:
    checked_at: datetime
    workers: list[WorkerHealth]
    queues: list[QueueHealth]
    outbox: OutboxHealth
    beat: BeatHealth
    audit_trail: AuditTrailHealth
    oldest_queued_run: QueuedRun | None
    last_email_sent_at: datetime | None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        return "OK" if self.ok else "Needs attention"


def can_see_queue_health(user) -> bool:
    return is_program_admin(user)


def _queue_names() -> list[str]:
    return [settings.EVALUATIONS_QUEUE, settings.CELERY_TASK_DEFAULT_QUEUE]


def _is_alive(presence: Presence, now: datetime) -> bool:
    return (presence.stopped_at is None
            and presence.seen_at >= now - timedelta(seconds=WORKER_ALIVE_SECONDS))


def _ask_broker(names: list[str], answer: dict) -> None:
    from review_portal.celery_app import app

    try:
        with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            # One retry, soon: a broker that restarts answers the second time.
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS,
                                   interval_start=0.2, interval_step=0.2)
            channel = conn.default_channel
            answer["depths"] = {
                name: app.amqp.queues[name].bind(channel).queue_declare().message_count
                for name in names}
    except Exception as exc:  # every failure is an answer here; where is for the log only
        logger.warning("queue health: the broker did not answer: %s: %s",
                       type(exc).__name__, exc)
        answer["error"] = f"the broker did not answer ({type(exc).__name__})"


def broker_depths(names: list[str]) -> tuple[dict[str, int] | None, str]:
    """Messages waiting in the broker per queue, or (None, why) when it did not answer within
    BROKER_DEADLINE_SECONDS. A hung broker's thread is left to finish on its own (daemon)."""
    answer: dict = {}
    thread = threading.Thread(target=_ask_broker, args=(names, answer), daemon=True,
                              name="queue-health-broker")
    thread.start()
    thread.join(BROKER_DEADLINE_SECONDS)
    if "depths" in answer:
        return answer["depths"], ""
    return None, answer.get("error") or (
        f"the broker gave no answer within {BROKER_DEADLINE_SECONDS:g} s")


def _problems(*, workers, queues, outbox, beat, audit_trail) -> list[str]:
    found = []
    if not any(w.alive for w in workers):
        found.append("No worker is running: evaluations, emails and reminders are not being "
                     "done.")
    else:
        found += [f"No running worker consumes the {q.name} queue." for q in queues
                  if not q.live_workers]
    broken = next((q for q in queues if q.depth is None), None)
    if broken is not None:
        found.append(f"The job queue could not be read: {broken.depth_error}.")
    if outbox.waiting and (outbox.oldest_waiting_seconds or 0) >= OUTBOX_LATE_SECONDS:
        found.append(f"{outbox.waiting} job(s) wait to be handed to the job queue, the oldest "
                     f"for {duration(outbox.oldest_waiting_seconds)}.")
    if outbox.failed_last_24h:
        found.append(f"{outbox.failed_last_24h} job(s) failed in the last 24 hours.")
    if beat.last_tick_at is None:
        found.append("Beat has never been seen: periodic jobs (reminders, digests, the "
                     "evaluation sweep) are not scheduled.")
    elif beat.stale:
        found.append(f"Beat has not ticked for {duration(beat.seconds_ago)}: periodic jobs "
                     "(reminders, digests, the evaluation sweep) are not scheduled.")
    if audit_trail.ok is False:
        found.append(f"The audit trail failed verification: {audit_trail.problem}")
    return found


# presences, outbox aggregate, newest waiting error, oldest queued run, last notification email,
# the audit trail's last verification
PAGE_QUERIES = 6


def queue_health(*, user) -> QueueHealthReport:
    """Workers, queues, the outbox, beat, the oldest queued run and the last email sent, for
    program admins (anyone else: 404). PAGE_QUERIES queries, plus the role check's."""
    if not can_see_queue_health(user):
        raise Http404
    now = timezone.now()
    presences = list(Presence.objects.filter(
        Q(kind=Presence.Kind.BEAT) | Q(seen_at__gte=now - WORKERS_SEEN_WITHIN))
        .order_by("-seen_at", "name"))
    workers = [
        WorkerHealth(name=p.name, hostname=p.hostname, queues=list(p.queues or []),
                     concurrency=p.concurrency, started_at=p.started_at, seen_at=p.seen_at,
                     stopped_at=p.stopped_at, seen_seconds_ago=_age(now, p.seen_at),
                     alive=_is_alive(p, now))
        for p in presences if p.kind == Presence.Kind.WORKER]
    beat_row = next((p for p in presences if p.kind == Presence.Kind.BEAT), None)
    beat_age = _age(now, beat_row.seen_at) if beat_row else None
    beat = BeatHealth(last_tick_at=beat_row.seen_at if beat_row else None, seconds_ago=beat_age,
                      stale=beat_age is None or beat_age > BEAT_STALE_SECONDS)

    names = _queue_names()
    depths, depth_error = broker_depths(names)
    queues = [QueueHealth(name=name, depth=depths[name] if depths else None,
                          depth_error=depth_error,
                          live_workers=sum(1 for w in workers if w.alive and name in w.queues))
              for name in names]

    waiting = Q(state=S.WAITING)
    totals = OutboxMessage.objects.aggregate(
        waiting=Count("pk", filter=waiting), oldest=Min("created_at", filter=waiting),
        failed=Count("pk", filter=Q(state=S.FAILED, done_at__gte=now - FAILED_WINDOW)),
        last_email=Max("done_at", filter=Q(state=S.DONE, task__in=EMAIL_TASKS)))
    # A failed publish moves the row's available_at past now (its back-off), so the waiting row
    # with the latest available_at carries the newest reason.
    last_error = (OutboxMessage.objects.filter(waiting).exclude(last_error="")
                  .order_by("-available_at", "-pk").values_list("last_error", flat=True)
                  .first()) or ""
    outbox = OutboxHealth(waiting=totals["waiting"], oldest_waiting_at=totals["oldest"],
                          oldest_waiting_seconds=_age(now, totals["oldest"]),
                          last_error=last_error, failed_last_24h=totals["failed"])

    oldest = (EvaluationRun.objects.filter(status=EvaluationRun.Status.QUEUED)
              .order_by("created_at", "pk").values("pk", "created_at").first())
    oldest_run = QueuedRun(id=oldest["pk"], created_at=oldest["created_at"],
                           age_seconds=_age(now, oldest["created_at"])) if oldest else None

    emailed = Notification.objects.aggregate(last=Max("emailed_at"))["last"]

    verified = AuditTrailStatus.objects.filter(pk=1).first()
    audit_trail = AuditTrailHealth(
        checked_at=verified.checked_at if verified else None,
        ok=verified.ok if verified else None, events=verified.events if verified else 0,
        problem=verified.problem if verified else "",
        problems=verified.problems if verified else 0,
        failing_since=verified.failing_since if verified else None,
        checkpoint_sequence=verified.checkpoint_sequence if verified else None,
        checkpoint_at=verified.checkpoint_at if verified else None)
    last_email = max((t for t in (totals["last_email"], emailed) if t is not None), default=None)

    return QueueHealthReport(
        checked_at=now, workers=workers, queues=queues, outbox=outbox, beat=beat,
        audit_trail=audit_trail, oldest_queued_run=oldest_run, last_email_sent_at=last_email,
        problems=_problems(workers=workers, queues=queues, outbox=outbox, beat=beat,
                           audit_trail=audit_trail))


_ERROR_KIND = re.compile(r"did not take it: ([A-Za-z_][\w.]*)")


def _error_kind(last_error: str) -> str:
    """The exception's name from the outbox's reason: never the host or port it names."""
    found = _ERROR_KIND.search(last_error or "")
    return found.group(1) if found else ""


def _notice(run: EvaluationRun, job: OutboxMessage | None, live: list[Presence],
            now: datetime) -> str:
    queued_for = duration(_age(now, job.created_at if job else run.created_at))
    if job is not None and job.state == S.WAITING:
        # Every worker runs a relay (jobs.relay): with none alive, nothing hands the job over.
        kind = _error_kind(job.last_error)
        why = f": the broker is unreachable ({kind})" if kind else ""
        then = ("the run will be queued automatically" + (" when it answers" if kind else "")
                if live else "no worker is running to hand it over")
        return f"Waiting for the job queue for {queued_for}{why}; {then}."
    evaluating = sum(1 for p in live if settings.EVALUATIONS_QUEUE in (p.queues or []))
    if not evaluating:
        return f"Queued for {queued_for}: no evaluation worker is running."
    return f"Queued for {queued_for}; waiting for a free evaluation worker ({evaluating} running)."


def run_queue_notices(*, runs) -> dict[int, str]:
    """What each queued run of `runs` waits for, in a sentence for its page, by run id (runs
    not queued have none). Two queries when any is queued (the runs' jobs, the live workers),
    none otherwise, whatever the number of runs."""
    queued = [run for run in runs if run.status == EvaluationRun.Status.QUEUED]
    if not queued:
        return {}
    now = timezone.now()
    # The newest job of each run: a run handed back by a worker that shut down is enqueued
    # again. A run has a job per enqueue, a handful at most.
    newest: dict[str, OutboxMessage] = {}
    for job in (OutboxMessage.objects.filter(ref__in=[run_ref(run.pk) for run in queued])
                .order_by("-pk").only("ref", "state", "created_at", "last_error")):
        newest.setdefault(job.ref, job)
    live = list(Presence.objects.filter(
        kind=Presence.Kind.WORKER, stopped_at__isnull=True,
        seen_at__gte=now - timedelta(seconds=WORKER_ALIVE_SECONDS)).only("queues"))
    return {run.pk: _notice(run, newest.get(run_ref(run.pk)), live, now) for run in queued}


def run_queue_notice(*, run: EvaluationRun) -> str | None:
    """What a queued run waits for (the job queue, an evaluation worker), or None when it is
    not queued."""
    return run_queue_notices(runs=[run]).get(run.pk)
