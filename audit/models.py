from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from audit import chain


class AppendOnlyError(Exception):
    pass


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit trail is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit trail is append-only.")

    def bulk_create(self, objs, *args, **kwargs):
        # bulk_create skips save(), and with it the hash chain.
        raise AppendOnlyError("Audit events are appended one at a time (audit_record).")

    def bulk_update(self, objs, fields, batch_size=None):
        # Refuse before Django opens its savepoint-less atomic block, so the refusal does not
        # also poison the caller's transaction.
        raise AppendOnlyError("The audit trail is append-only.")


class AuditEvent(models.Model):
    """Who did what to which object, and when. Rows are only ever inserted.

    The ORM refuses updates and deletes; on PostgreSQL a trigger refuses them too, so not even
    raw SQL from the application's role can rewrite history. Someone who owns the database can
    still get past both (TRUNCATE, a disabled trigger): each event is therefore chained to the
    one before it (audit.chain) and the chain's head is signed now and then (AuditCheckpoint),
    so `manage.py verify_audit` finds what was removed, changed or made up.
    """

    # Set before the hash is made (not auto_now_add, which would set it after).
    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.PROTECT, related_name="+")
    actor_label = models.CharField(max_length=200, help_text="Username at the time, or 'system'")
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80)
    object_id = models.CharField(max_length=64)
    object_label = models.CharField(max_length=300, blank=True)
    organisation = models.ForeignKey("accounts.Organisation", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    data = models.JSONField(default=dict, blank=True)
    # The event's place in the chain: 1, 2, 3... with no gaps. Unique, so the chain cannot fork.
    sequence = models.PositiveBigIntegerField(unique=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False,
                            help_text="SHA-256 of the event's content and prev_hash")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"]),
                   models.Index(fields=["-created_at", "-id"], name="audit_event_list_order")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("The audit trail is append-only.")
        # Every insert goes through here, so no way of writing an event skips the chain. The
        # head row stays locked until the caller's transaction ends: appends are serialised and
        # the committed events are always an unbroken prefix 1..n of the chain.
        with transaction.atomic(using=kwargs.get("using"), savepoint=False):
            head = AuditChainHead.lock()
            self.sequence = head.sequence + 1
            self.prev_hash = head.hash
            self.created_at = timezone.now()
            self.hash = self.content_hash()
            super().save(*args, **kwargs)
            AuditChainHead.objects.filter(pk=head.pk).update(sequence=self.sequence,
                                                             hash=self.hash)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit trail is append-only.")

    def content_hash(self) -> str:
        return chain.event_hash(**{name: getattr(self, name) for name in chain.HASHED_FIELDS})


class AuditChainHead(models.Model):
    """One row: the sequence and hash of the newest event. Appending locks it (SELECT ... FOR
    UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already serialises writers), so two
    transactions never take the same place in the chain."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=chain.GENESIS)

    def __str__(self) -> str:
        return f"audit chain head at {self.sequence}"

    @classmethod
    def lock(cls) -> "AuditChainHead":
        head = cls.objects.select_for_update().filter(pk=1).first()
        if head is not None:
            return head
        # No head yet (a new database, or one whose tables were flushed): start from the newest
        # event, if any, so a lost head row never restarts the chain at 1. Two first appends at
        # once: one insert wins, the other waits on its lock and reads the winner's row.
        last = AuditEvent.objects.order_by("-sequence").values("sequence", "hash").first()
        cls.objects.bulk_create([cls(pk=1, sequence=last["sequence"] if last else 0,
                                     hash=last["hash"] if last else chain.GENESIS)],
                                ignore_conflicts=True)
        return cls.objects.select_for_update().get(pk=1)


class AuditCheckpoint(models.Model):
    """A signed statement "the trail had `sequence` events, the last with hash `head_hash`, at
    `created_at`". Signed with AUDIT_SIGNING_KEY, which the database never holds. Exported with
    `manage.py export_audit_checkpoints` and kept elsewhere, checkpoints also survive someone
    who empties this table."""

    created_at = models.DateTimeField(editable=False)
    sequence = models.PositiveBigIntegerField(help_text="Events in the trail: the head's sequence")
    head_hash = models.CharField(max_length=64)
    signer = models.CharField(max_length=16, help_text="Key id: SHA-256 of the public key, cut")
    signature = models.CharField(max_length=100, help_text="Ed25519, base64")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-sequence", "-id"]

    def __str__(self) -> str:
        return f"checkpoint at {self.sequence} ({self.created_at:%Y-%m-%d %H:%M})"

    def as_export(self) -> dict:
        return {"sequence": self.sequence, "head_hash": self.head_hash,
                "created_at": chain.canonical_time(self.created_at), "signer": self.signer,
                "signature": self.signature}


class AuditTrailStatus(models.Model):
    """One row: the last periodic verification's outcome, for the jobs status page (and the
    object of the program admins' notification when it fails)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    checked_at = models.DateTimeField()
    ok = models.BooleanField()
    events = models.PositiveBigIntegerField(default=0)
    problem = models.TextField(blank=True, help_text="The first problem found, in a sentence")
    problems = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    checkpoint_sequence = models.PositiveBigIntegerField(null=True, blank=True)
    checkpoint_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "audit trail status"

    def __str__(self) -> str:
        return "audit trail verified" if self.ok else "audit trail failed verification"
