from django.contrib import admin

from audit.models import AuditCheckpoint, AuditEvent, AuditTrailStatus


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is append-only in every interface."""

    list_display = ("sequence", "created_at", "actor_label", "action", "object_type",
                    "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("actor_label", "object_label", "object_id")


@admin.register(AuditCheckpoint)
class AuditCheckpointAdmin(ReadOnlyAdmin):
    list_display = ("sequence", "created_at", "head_hash", "signer")


@admin.register(AuditTrailStatus)
class AuditTrailStatusAdmin(ReadOnlyAdmin):
    """The last periodic verification (audit.check_trail); also on /jobs/health/."""

    list_display = ("checked_at", "ok", "events", "problems", "problem", "failing_since",
                    "checkpoint_sequence", "checkpoint_at")
