"""Operators' inventories in the admin: read-only, ids and counts only. An asset's details
are encrypted and never shown here (nor an inventory's name: coordinators see counts only)."""

from django.contrib import admin

from exposures.models import Asset, Inventory, InventoryImport


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inventory)
class InventoryAdmin(ReadOnlyAdmin):
    list_display = ["id", "organisation", "format", "created_at", "imported_at"]
    fields = ["id", "organisation", "format", "created_at", "imported_at"]
    readonly_fields = fields


@admin.register(InventoryImport)
class InventoryImportAdmin(ReadOnlyAdmin):
    list_display = ["id", "inventory_id", "format", "added", "updated", "unchanged", "removed",
                    "created_at"]
    fields = ["id", "inventory_id", "format", "size_bytes", "added", "updated", "unchanged",
              "removed", "created_at"]
    readonly_fields = fields


@admin.register(Asset)
class AssetAdmin(ReadOnlyAdmin):
    list_display = ["id", "inventory_id", "organisation", "exposure", "mission_impact",
                    "safety_impact", "removed_at"]
    fields = ["id", "inventory_id", "organisation", "exposure", "mission_impact",
              "safety_impact", "removed_at", "created_at", "updated_at"]
    readonly_fields = fields
