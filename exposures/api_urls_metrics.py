"""API route of the coordinator's metrics (exposures/api_metrics.py)."""

from django.urls import path

from exposures.api_metrics import MetricsView

urlpatterns = [
    path("exposure-metrics/", MetricsView.as_view(), name="api-exposure-metrics"),
]
