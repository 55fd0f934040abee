"""The clearinghouse's pages, under /clearinghouse/: reports and triage, cases with vendors and
embargoes, advisories."""

from django.urls import include, path

urlpatterns = [
    path("", include("clearinghouse.urls_members")),
    path("", include("clearinghouse.urls_reports")),
    path("", include("clearinghouse.urls_cases")),
    path("", include("clearinghouse.urls_publication")),
]
