"""The clearinghouse's API, under /api/v1/ (reports, verifications, cases, statements,
remediations, embargoes, advisories and their exports)."""

from django.urls import include, path

urlpatterns = [
    path("", include("clearinghouse.api_urls_members")),
    path("", include("clearinghouse.api_urls_reports")),
    path("", include("clearinghouse.api_urls_cases")),
    path("", include("clearinghouse.api_urls_publication")),
]
