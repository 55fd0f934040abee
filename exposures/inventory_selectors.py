"""Reads of operators' inventories, through exposures/access.py (pages and API alike)."""

from django.db.models import Count, Q, QuerySet

from accounts import policy
from accounts.models import Organisation
from exposures import access
from exposures.models import Asset, Inventory
from review_portal.ids import id_or_none


def inventories_with_counts(user) -> QuerySet[Inventory]:
    return access.inventories_visible_to(user).annotate(
        live_assets=Count("assets", filter=Q(assets__removed_at__isnull=True))).order_by(
        "name", "id")


def assets_filtered(user, params) -> QuerySet[Asset]:
    qs = access.assets_visible_to(user)
    inventory = params.get("inventory", "")
    if inventory:
        inventory_id = id_or_none(inventory)
        qs = qs.filter(inventory_id=inventory_id) if inventory_id else qs.none()
    if params.get("removed", "").lower() in ("true", "1"):
        return qs.filter(removed_at__isnull=False).order_by("inventory_id", "id")
    return qs.filter(removed_at__isnull=True).order_by("inventory_id", "id")


def assets_an_inputs_change_overwrites(inventory: Inventory, inputs: dict) -> int:
    """How many listed assets of the inventory hold SSVC inputs other than `inputs` (what
    inventory.inventory_inputs_set would change), for its confirmation."""
    return Asset.objects.filter(inventory=inventory, removed_at__isnull=True).exclude(
        **inputs).count()


def operator_counts(user) -> QuerySet[Organisation]:
    """Operators with their numbers of inventories and listed assets: the program office's."""
    if not policy.is_clearinghouse_coordinator(user):
        return Organisation.objects.none()
    return Organisation.objects.filter(kind=Organisation.Kind.OPERATOR).annotate(
        inventory_count=Count("inventories", distinct=True),
        asset_count=Count("assets", filter=Q(assets__removed_at__isnull=True),
                          distinct=True)).order_by("name", "id")
