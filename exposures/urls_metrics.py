"""The coordinator's metrics pages (exposures/views_metrics.py)."""

from django.urls import path

from exposures import views_metrics as views

urlpatterns = [
    path("metrics/", views.metrics_page, name="exposure_metrics"),
    path("metrics.csv", views.metrics_csv, name="exposure_metrics_csv"),
]
