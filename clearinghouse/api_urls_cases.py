"""API routes for cases and product statements."""

from rest_framework.routers import SimpleRouter

from clearinghouse.api_cases import CaseViewSet, StatementViewSet

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="api-case")
router.register("statements", StatementViewSet, basename="api-statement")
urlpatterns = router.urls
