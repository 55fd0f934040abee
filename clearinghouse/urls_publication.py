"""Advisory pages, under /clearinghouse/ (views_publication)."""

from django.urls import path

from clearinghouse import views_publication as v

urlpatterns = [
    path("cases/<int:pk>/advisories/", v.advisory_list, name="advisory_list"),
    path("cases/<int:pk>/advisories/new/", v.advisory_generate_view, name="advisory_generate"),
    path("advisories/<int:pk>/", v.advisory_detail, name="advisory_detail"),
    path("advisories/<int:pk>/publish/", v.advisory_publish_view, name="advisory_publish"),
    path("advisories/<int:pk>/withdraw/", v.advisory_withdraw_view, name="advisory_withdraw"),
    path("advisories/<int:pk>/<str:kind>.json", v.advisory_export, name="advisory_export"),
]
