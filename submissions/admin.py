"""Read-only admin views. Every change goes through the services (pages, API, commands), so the
admin cannot become a side door around the program's rules."""

from django.contrib import admin

from submissions.models import (
    AccessWindow,
    Artifact,
    Determination,
    FrontierModel,
    Message,
    ReviewerAssignment,
    ReviewRequest,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(FrontierModel)
class FrontierModelAdmin(ReadOnlyAdmin):
    list_display = ("name", "version", "organisation", "planned_partner_release_at")


@admin.register(ReviewRequest)
class ReviewRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "model", "status", "submitted_at")
    list_filter = ("status",)


@admin.register(AccessWindow)
class AccessWindowAdmin(ReadOnlyAdmin):
    list_display = ("model", "kind", "status", "starts_at", "ends_at", "flag_reason")
    exclude = ("token_hash",)
    list_filter = ("kind", "status")


admin.site.register([Determination, ReviewerAssignment, Message], ReadOnlyAdmin)


@admin.register(Artifact)
class ArtifactAdmin(ReadOnlyAdmin):
    # No download link here: downloads go through the audited, permission-checked view.
    list_display = ("filename", "request", "kind", "size_bytes", "uploaded_at")
