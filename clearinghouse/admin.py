"""Read-only admin views of the clearinghouse. Every change goes through the services (pages,
API, commands), so the admin cannot mark a report valid without a reproduction, move an
embargo past its ceiling or edit a generated advisory."""

from django.contrib import admin

from clearinghouse import models as m
from submissions.admin import ReadOnlyAdmin


@admin.register(m.MemberProfile)
class MemberProfileAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "status", "status_changed_at")
    list_filter = ("status",)


@admin.register(m.Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ("id", "organisation", "status", "ai_found", "created_at")
    list_filter = ("status", "ai_found")


@admin.register(m.Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "title", "status", "created_at")
    list_filter = ("status",)


@admin.register(m.ProductStatement)
class ProductStatementAdmin(ReadOnlyAdmin):
    list_display = ("vulnerability", "vendor", "product_name", "status", "updated_at")
    list_filter = ("status",)


@admin.register(m.Embargo)
class EmbargoAdmin(ReadOnlyAdmin):
    list_display = ("case", "status", "ends_at")
    list_filter = ("status",)


@admin.register(m.Advisory)
class AdvisoryAdmin(ReadOnlyAdmin):
    list_display = ("tracking_id", "revision", "status", "published_at")
    list_filter = ("status",)
