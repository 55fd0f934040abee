"""Read-only admin views: every change goes through the services (pages, API)."""

from django.contrib import admin

from reviews.models import (
    ConflictOfInterest,
    PolicyRule,
    PolicyVersion,
    Recusal,
    Review,
    RubricVersion,
)
from submissions.admin import ReadOnlyAdmin


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(ReadOnlyAdmin):
    list_display = ("reviewer", "organisation", "kind", "declared_at")


@admin.register(Recusal)
class RecusalAdmin(ReadOnlyAdmin):
    list_display = ("reviewer", "request", "was_lead", "recused_at")


@admin.register(RubricVersion)
class RubricVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "name", "is_active", "created_at")


@admin.register(Review)
class ReviewAdmin(ReadOnlyAdmin):
    list_display = ("request", "reviewer", "status", "recommendation", "submitted_at")


class PolicyRuleInline(admin.TabularInline):
    model = PolicyRule
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PolicyVersion)
class PolicyVersionAdmin(ReadOnlyAdmin):
    list_display = ("number", "name", "is_active", "created_at")
    inlines = [PolicyRuleInline]
