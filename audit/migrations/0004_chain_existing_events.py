"""Chain the events written before the chain existed, in id order (their order of commit is
not known; id order is the order they were inserted in)."""

from django.db import migrations

from audit import chain

TRIGGER = "audit_event_no_update_or_delete"


def forwards(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:  # the append-only trigger refuses this one-time update; the owner lifts it
        schema_editor.execute(f"ALTER TABLE audit_auditevent DISABLE TRIGGER {TRIGGER}")
    sequence, prev = 0, chain.GENESIS
    batch = []
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        sequence += 1
        event.sequence, event.prev_hash = sequence, prev
        event.hash = chain.event_hash(**{name: getattr(event, name)
                                         for name in chain.HASHED_FIELDS})
        prev = event.hash
        batch.append(event)
        if len(batch) >= 500:
            AuditEvent.objects.bulk_update(batch, ["sequence", "prev_hash", "hash"])
            batch = []
    if batch:
        AuditEvent.objects.bulk_update(batch, ["sequence", "prev_hash", "hash"])
    if postgres:
        schema_editor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {TRIGGER}")
    AuditChainHead.objects.update_or_create(pk=1, defaults={"sequence": sequence, "hash": prev})


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_hash_chain")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
