"""API routes for advisories (clearinghouse/api_publication.py)."""

from rest_framework.routers import SimpleRouter

from clearinghouse.api_publication import AdvisoryViewSet

router = SimpleRouter()
router.register("advisories", AdvisoryViewSet, basename="api-advisory")
urlpatterns = router.urls
