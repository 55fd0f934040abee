"""The outbox: one row per job a transaction asked of a worker.

The row is written in the caller's transaction, so a job exists exactly when the change that
asked for it was committed. A relay publishes it to the broker afterwards and retries until the
broker takes it; the task id is the row's, so the worker marks the row done when the task ends.
"""

from django.db import models


class OutboxMessage(models.Model):
    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for the queue"
        PUBLISHED = "published", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    task = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=50)
    # What the job is about ("evaluations.evaluationrun:12"), so a page can say where it is.
    ref = models.CharField(max_length=100, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The relay publishes a waiting row once this has passed (a claim or a back-off moves it).
    available_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.WAITING)
    publish_attempts = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    # A published job not done after this long was lost with its message (a broker restarted
    # without persistence, a consumer killed): it is published again. Null: never (the job's own
    # sweep owns recovery, as evaluation runs do).
    redeliver_after = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["state", "available_at"], name="outbox_due"),
            models.Index(fields=["state", "published_at"], name="outbox_published"),
        ]

    def __str__(self) -> str:
        return f"{self.task} #{self.pk} ({self.state})"

    @property
    def task_id(self) -> str:
        return f"outbox-{self.pk}"


class Presence(models.Model):
    """A worker or beat process seen recently. Workers write theirs from the relay thread every
    few seconds, beat from its scheduler's tick; the health page reads them."""

    class Kind(models.TextChoices):
        WORKER = "worker", "Worker"
        BEAT = "beat", "Beat"

    name = models.CharField(max_length=200, unique=True)  # Celery's node name, or "beat"
    kind = models.CharField(max_length=10, choices=Kind.choices)
    hostname = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    queues = models.JSONField(default=list, blank=True)
    concurrency = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    stopped_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name
