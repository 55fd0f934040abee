from django.urls import path

from partners import views

urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("<int:pk>/<slug:action>/", views.partner_action, name="partner_action"),
    path("requests/", views.access_request_list, name="access_request_list"),
    path("requests/<int:pk>/", views.access_request_detail, name="access_request_detail"),
    path("requests/<int:pk>/actions/<slug:action>/", views.access_request_action,
         name="access_request_action"),
    path("grants/", views.grant_list, name="grant_list"),
    path("grants/<int:pk>/revoke/", views.grant_revoke_view, name="grant_revoke"),
    path("models/<int:pk>/", views.granted_model_detail, name="granted_model_detail"),
]
