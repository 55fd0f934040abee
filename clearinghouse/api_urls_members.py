"""API routes for clearinghouse members and vendor catalogues."""

from rest_framework.routers import SimpleRouter

from clearinghouse.api_members import MemberViewSet, VendorProductViewSet

router = SimpleRouter()
router.register("clearinghouse-members", MemberViewSet, basename="api-clearinghouse-member")
router.register("vendor-products", VendorProductViewSet, basename="api-vendor-product")
urlpatterns = router.urls
