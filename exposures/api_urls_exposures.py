"""API routes of operators' exposures, the pre-disclosure terms and the coordinator's SSVC
assessment (exposures/api_exposures.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from exposures.api_exposures import AssessmentView, ExposureTermsView, ExposureViewSet

router = SimpleRouter()
router.register("exposures", ExposureViewSet, basename="api-exposure")
urlpatterns = [
    *router.urls,
    path("exposure-terms/", ExposureTermsView.as_view(), name="api-exposure-terms"),
    path("vulnerabilities/<int:pk>/assessment/", AssessmentView.as_view(),
         name="api-vulnerability-assessment"),
]
