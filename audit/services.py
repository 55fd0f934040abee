import logging

from django.db import models, transaction
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
    from accounts.selectors import program_admin_emails
    from review_portal.emails import enqueue_email

    now = timezone.now()
    status = AuditTrailStatus.objects.select_for_update().filter(pk=1).first() or \
        AuditTrailStatus(pk=1, checked_at=now, ok=True)
    status.checked_at, status.ok, status.events = now, report.ok, report.events
    status.problems = len(report.problems)
    status.problem = str(report.problems[0]) if report.problems else ""
    if checkpoint is not None:
        status.checkpoint_sequence, status.checkpoint_at = checkpoint.sequence, \
            checkpoint.created_at
    if report.ok:
        status.failing_since, status.notified_problem = None, ""
    else:
        status.failing_since = status.failing_since or now
        # Once per new failure: the same first problem found again is not news.
        if status.problem != status.notified_problem:
            enqueue_email("audit-trail-broken", to=program_admin_emails(), context={
                "problem": status.problem, "problems": status.problems,
                "checked_at": now.strftime("%Y-%m-%d %H:%M UTC")})
            status.notified_problem = status.problem
    status.save()
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
