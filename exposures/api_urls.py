"""API routes of inventories and exposures, under /api/v1/ (each part its own module)."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("exposures.api_urls_metrics")),
    path("", include("exposures.api_urls_inventory")),
    path("", include("exposures.api_urls_exposures")),
]
