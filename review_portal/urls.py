from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts import views as account_views
from audit.api import AuditEventViewSet
from audit.views import audit_list
from evaluations import views as evaluation_views
from evaluations.api import EndpointView, RunViewSet, SuiteViewSet
from jobs.api import QueueHealthView
from notifications.api import NotificationViewSet
from partners import api as partner_api
from partners import tracking_api
from review_portal import health
from reviews import api as review_api
from submissions import views
from submissions.api import (
    ArtifactViewSet,
    FrontierModelViewSet,
    ReviewRequestViewSet,
    WindowViewSet,
)

handler400 = "review_portal.api.bad_request"
handler404 = "review_portal.api.not_found"
handler500 = "review_portal.api.server_error"

router = DefaultRouter()
router.register("models", FrontierModelViewSet, basename="api-model")
router.register("review-requests", ReviewRequestViewSet, basename="api-request")
router.register(r"review-requests/(?P<request_pk>\d+)/artifacts", ArtifactViewSet,
                basename="api-artifact")
router.register("windows", WindowViewSet, basename="api-window")
router.register("audit-events", AuditEventViewSet, basename="api-audit")
router.register("suites", SuiteViewSet, basename="api-suite")
router.register("runs", RunViewSet, basename="api-run")
router.register("reviews", review_api.ReviewViewSet, basename="api-review")
router.register("conflicts", review_api.ConflictViewSet, basename="api-conflict")
router.register("assignments", review_api.AssignmentViewSet, basename="api-assignment")
router.register("rubrics", review_api.RubricViewSet, basename="api-rubric")
router.register("policies", review_api.PolicyViewSet, basename="api-policy")
router.register("partner-organisations", partner_api.PartnerProfileViewSet,
                basename="api-partner")
router.register("access-requests", partner_api.AccessRequestViewSet,
                basename="api-access-request")
router.register("access-grants", partner_api.AccessGrantViewSet, basename="api-access-grant")
router.register("notifications", NotificationViewSet, basename="api-notification")
router.register("gateway-clients", partner_api.GatewayClientViewSet,
                basename="api-gateway-client")

api_v1 = [
    path("", include("clearinghouse.api_urls")),
    path("", include("exposures.api_urls")),
    path("", include(router.urls)),
    path("models/<int:pk>/endpoint/", EndpointView.as_view(), name="api-endpoint"),
    path("review-requests/<int:request_pk>/recommendation/",
         review_api.RecommendationView.as_view(), name="api-recommendation"),
    path("review-requests/<int:request_pk>/feedback/", review_api.FeedbackView.as_view(),
         name="api-feedback"),
    path("models/<int:pk>/terms/", partner_api.ModelTermsView.as_view(), name="api-terms"),
    path("models/<int:pk>/gateway/", partner_api.ModelGatewayView.as_view(),
         name="api-model-gateway"),
    path("introspect/", partner_api.IntrospectView.as_view(), name="api-introspect"),
    path("gateway/check/", partner_api.GatewayCheckView.as_view(), name="api-gateway-check"),
    path("windows-overview/", tracking_api.WindowOverviewView.as_view(),
         name="api-windows-overview"),
    path("windows/<int:pk>/token/", tracking_api.WindowTokenView.as_view(),
         name="api-window-token"),
    path("jobs/health/", QueueHealthView.as_view(), name="api-queue-health"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (?script), not inline: the
    # Content-Security-Policy allows no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    # Probes for the load balancer and the orchestrator: no login, no second factor, no session.
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # The clearinghouse's public CSAF provider directory, for aggregators: no login.
    path(".well-known/csaf/", include("clearinghouse.urls_wellknown")),
    path("", views.home, name="home"),
    path("models/", views.model_list, name="model_list"),
    path("models/new/", views.model_create, name="model_create"),
    path("models/<int:pk>/", views.model_detail, name="model_detail"),
    path("models/<int:pk>/edit/", views.model_edit, name="model_edit"),
    path("models/<int:model_pk>/requests/new/", views.request_create, name="request_create"),
    path("models/<int:model_pk>/window/", views.window_edit, name="window_edit"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/actions/<slug:action>/", views.request_action, name="request_action"),
    path("requests/<int:pk>/messages/", views.message_create, name="message_create"),
    path("requests/<int:pk>/artifacts/", views.artifact_create, name="artifact_create"),
    path("requests/<int:pk>/assign/", views.reviewer_assign, name="reviewer_assign"),
    path("artifacts/<int:pk>/download/", views.artifact_download, name="artifact_download"),
    path("windows/", views.window_list, name="window_list"),
    path("windows/<int:pk>/cancel/", views.window_cancel_view, name="window_cancel"),
    path("partners/", include("partners.urls")),
    path("clearinghouse/", include("clearinghouse.urls")),
    path("exposures/", include("exposures.urls")),
    path("inbox/", include("notifications.urls")),
    path("audit/", audit_list, name="audit_list"),
    path("jobs/", include("jobs.urls")),
    path("", include("reviews.urls")),
    path("suites/", evaluation_views.suite_list, name="suite_list"),
    path("requests/<int:pk>/evaluation/", evaluation_views.request_evaluation,
         name="request_evaluation"),
    path("runs/<int:pk>/", evaluation_views.run_detail, name="run_detail"),
    path("runs/<int:pk>/cancel/", evaluation_views.run_cancel, name="run_cancel"),
    path("runs/<int:pk>/log/", evaluation_views.run_log, name="run_log"),
    path("models/<int:model_pk>/endpoint/", evaluation_views.endpoint_edit,
         name="endpoint_edit"),
    path("profile/", account_views.profile, name="profile"),
    path("profile/time-zone/", account_views.time_zone_set, name="profile_time_zone"),
    path("profile/tokens/<int:pk>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
]
