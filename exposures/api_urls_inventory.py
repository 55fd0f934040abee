"""API routes of operators' inventories (exposures/api_inventory.py)."""

from rest_framework.routers import SimpleRouter

from exposures.api_inventory import AssetViewSet, InventoryCountsViewSet, InventoryViewSet

router = SimpleRouter()
router.register("inventories", InventoryViewSet, basename="api-inventory")
router.register("assets", AssetViewSet, basename="api-asset")
router.register("inventory-counts", InventoryCountsViewSet, basename="api-inventory-count")
urlpatterns = router.urls
