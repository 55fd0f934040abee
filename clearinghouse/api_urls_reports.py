"""The intake's API, under /api/v1/ (clearinghouse/api_reports.py)."""

from rest_framework.routers import SimpleRouter

from clearinghouse import api_reports

router = SimpleRouter()
router.register("reports", api_reports.ReportViewSet, basename="api-report")
router.register("report-artifacts", api_reports.ReportArtifactViewSet,
                basename="api-report-artifact")
router.register("reporter-yields", api_reports.ReporterYieldViewSet,
                basename="api-reporter-yield")

urlpatterns = router.urls
