from django.urls import path

from partners import gateway_views, tracking_views, views

urlpatterns = [
    path("", views.partner_list, name="partner_list"),
    path("apply/", views.partner_apply_view, name="partner_apply"),
    path("requests/new/", views.access_request_create_view, name="access_request_create"),
    path("requests/<int:pk>/terms/accept/", views.terms_accept_view, name="terms_accept"),
    path("invite/<int:model_pk>/", views.access_invite_view, name="access_invite"),
    path("terms/<int:model_pk>/", views.terms_edit_view, name="terms_edit"),
    path("artifacts/<int:pk>/share/", views.artifact_share_view, name="artifact_share"),
    path("gateways/", gateway_views.gateway_client_list, name="gateway_client_list"),
    path("gateways/<int:pk>/rotate/", gateway_views.gateway_client_rotate_view,
         name="gateway_client_rotate"),
    path("gateways/<int:pk>/revoke/", gateway_views.gateway_client_revoke_view,
         name="gateway_client_revoke"),
    path("gateways/models/<int:model_pk>/", gateway_views.gateway_address_edit,
         name="gateway_address_edit"),
    path("<int:pk>/<slug:action>/", views.partner_action, name="partner_action"),
    path("requests/", views.access_request_list, name="access_request_list"),
    path("requests/<int:pk>/", views.access_request_detail, name="access_request_detail"),
    path("requests/<int:pk>/actions/<slug:action>/", views.access_request_action,
         name="access_request_action"),
    path("grants/", views.grant_list, name="grant_list"),
    path("grants/<int:pk>/revoke/", views.grant_revoke_view, name="grant_revoke"),
    path("grants/<int:pk>/", views.grant_detail, name="grant_detail"),
    path("grants/<int:pk>/token/", views.grant_token_view, name="grant_token"),
    path("models/<int:pk>/", views.granted_model_detail, name="granted_model_detail"),
    path("artifacts/<int:pk>/download/", views.partner_artifact_download,
         name="partner_artifact_download"),
]

# Window tracking and the iCalendar feed (partners/tracking_views.py).
urlpatterns += [
    path("windows/", tracking_views.window_tracking, name="window_tracking"),
    path("calendar/", tracking_views.calendar_feed_create, name="calendar_feed_create"),
    path("calendar/revoke/", tracking_views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("calendar/<str:token>.ics", tracking_views.calendar_feed, name="calendar_feed"),
]
