"""Pages of operators' exposures and the pre-disclosure terms ."""

from django.urls import path

from exposures import views_exposures as views

urlpatterns = [
    path("", views.exposure_list, name="exposure_list"),
    path("terms/", views.terms, name="exposure_terms"),
    path("<int:pk>/", views.exposure_detail, name="exposure_detail"),
    path("<int:pk>/status/", views.exposure_status, name="exposure_status"),
    path("<int:pk>/confirm/", views.exposure_confirm, name="exposure_confirm"),
    path("<int:pk>/reject/", views.exposure_reject, name="exposure_reject"),
]
