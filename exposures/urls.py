"""Pages of operators' inventories and exposures, under /exposures/ (each part its own module)."""

from django.urls import include, path

urlpatterns: list = [
    path("", include("exposures.urls_metrics")),
    path("", include("exposures.urls_inventory")),
    path("", include("exposures.urls_exposures")),
]
