"""The intake's pages, under /clearinghouse/ (clearinghouse/views_reports.py)."""

from django.urls import path

from clearinghouse import views_reports as views

urlpatterns = [
    path("reports/", views.report_list, name="report_list"),
    path("reports/new/", views.report_create, name="report_create"),
    path("reports/triage/", views.triage_queue, name="report_triage"),
    path("reports/reporters/", views.reporter_list, name="report_reporters"),
    path("reports/<int:pk>/", views.report_detail, name="report_detail"),
    path("reports/<int:pk>/actions/<slug:action>/", views.report_action, name="report_action"),
    path("reports/<int:pk>/human-validate/", views.report_human_validate_view,
         name="report_human_validate"),
    path("reports/<int:pk>/verifications/", views.verification_create,
         name="report_verification_create"),
    path("reports/<int:pk>/artifacts/", views.report_artifact_create,
         name="report_artifact_create"),
    path("report-artifacts/<int:pk>/download/", views.report_artifact_download,
         name="report_artifact_download"),
]
