from django.db import models

from audit.models import AuditEvent


def audit_record(*, actor, action: str, obj: models.Model, organisation=None,
                 data: dict | None = None) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records."""
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
