import hashlib
import logging

from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from audit import signing
from audit.models import AuditCheckpoint, AuditEvent, AuditTrailStatus
from audit.verification import Report, audit_trail_verify

logger = logging.getLogger(__name__)


def audit_record(*, actor, action: str, obj: models.Model, organisation=None,
                 data: dict | None = None) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records.

    Appending locks the chain's head until that transaction ends (AuditEvent.save), so keep
    what follows it in the transaction short."""
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_label=actor.get_username() if is_user else "system",
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_label=str(obj)[:300],
        organisation=organisation,
        data=data or {},
    )


def audit_checkpoint_create(*, sequence: int, head_hash: str) -> AuditCheckpoint:
    """Sign (sequence, head_hash) as of now. Only for a chain just verified: a checkpoint of a
    forged chain would vouch for the forgery. Nothing new since the newest checkpoint: that one
    is returned, so a re-run adds nothing."""
    newest = AuditCheckpoint.objects.order_by("-sequence", "-id").first()
    if newest is not None and (newest.sequence, newest.head_hash) == (sequence, head_hash):
        return newest
    created_at = timezone.now()
    signer, signature = signing.checkpoint_sign(sequence=sequence, head_hash=head_hash,
                                                created_at=created_at)
    return AuditCheckpoint.objects.create(created_at=created_at, sequence=sequence,
                                          head_hash=head_hash, signer=signer,
                                          signature=signature)


def _status_record(*, report: Report, checkpoint: AuditCheckpoint | None) -> AuditTrailStatus:
    from notifications.models import Notification
    from notifications.selectors import program_admins
    from notifications.services import notify

    now = timezone.now()
    status = AuditTrailStatus.objects.select_for_update().filter(pk=1).first() or \
        AuditTrailStatus(pk=1, checked_at=now, ok=True)
    status.checked_at, status.ok, status.events = now, report.ok, report.events
    status.problems = len(report.problems)
    status.problem = str(report.problems[0]) if report.problems else ""
    if checkpoint is not None:
        status.checkpoint_sequence, status.checkpoint_at = checkpoint.sequence, \
            checkpoint.created_at
    status.failing_since = None if report.ok else (status.failing_since or now)
    status.save()
    if not report.ok:
        # Once per new failure: notify() creates one notification per admin, object and
        # occasion, and the same first problem of the same failing stretch is the same occasion.
        digest = hashlib.sha256(status.problem.encode()).hexdigest()[:16]
        notify(users=program_admins(), kind=Notification.Kind.AUDIT_TRAIL_BROKEN, obj=status,
               occasion=f"{status.failing_since:%Y%m%dT%H%M%S}-{digest}",
               title="The audit trail failed verification",
               body=f"The periodic check found {status.problems} problem(s). The first: "
                    f"{status.problem}. Events may have been deleted, edited or forged by "
                    "someone with access to the database; run manage.py verify_audit (with "
                    "--checkpoints and the exported checkpoints) for the full list.",
               link=reverse("queue_health"))
    return status


def audit_trail_check() -> AuditTrailStatus:
    """The periodic job: verify the whole chain; when it holds, sign a checkpoint of its head;
    record the outcome for the status page and email the program admins about a new failure.
    Re-running it is harmless (the same checkpoint, the same failure not emailed twice)."""
    report = audit_trail_verify()
    with transaction.atomic():
        checkpoint = None
        if report.ok and report.head_sequence:
            checkpoint = audit_checkpoint_create(sequence=report.head_sequence,
                                                 head_hash=report.head_hash)
        if not report.ok:
            logger.error("audit trail verification failed: %s (%d problems)",
                         report.problems[0], len(report.problems))
        return _status_record(report=report, checkpoint=checkpoint)
