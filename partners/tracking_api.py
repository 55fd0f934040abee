"""/api/v1/windows-overview/ (every window the caller may track) and the government window's
token. Same selectors and rules as the tracking page."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from partners import tracking
from partners.tracking_views import WindowFilterForm
from review_portal.api_fields import StrictDateTimeField
from review_portal.errors import ApplicationError
from submissions.selectors import window_get_for_user
from submissions.window_services import window_issue_token


class TrackedWindowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[tracking.GOVERNMENT, tracking.PARTNER])
    id = serializers.IntegerField(source="pk")
    model = serializers.IntegerField(source="model_id")
    model_label = serializers.CharField()
    developer = serializers.CharField()
    organisation = serializers.CharField(source="holder")
    starts_at = StrictDateTimeField()
    ends_at = StrictDateTimeField()
    state = serializers.ChoiceField(choices=list(tracking.State.LABELS))
    note = serializers.CharField(help_text="The flag or revocation reason, if any")


FILTERS = [
    OpenApiParameter("model", OpenApiTypes.INT, description="A model id"),
    OpenApiParameter("organisation", OpenApiTypes.INT,
                     description="The developer or partner organisation id"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="Windows ending after"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="Windows starting before"),
    OpenApiParameter("state", OpenApiTypes.STR, enum=list(tracking.State.LABELS)),
]


class WindowOverviewView(APIView):
    """Every window, government and partner, with its state: program admins all, a developer
    those of its own models; anyone else 404."""

    @extend_schema(parameters=FILTERS, responses=TrackedWindowSerializer(many=True))
    def get(self, request):
        form = WindowFilterForm(request.query_params)
        if not form.is_valid():
            raise ApplicationError("Invalid filter: " + "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()),
                field=next(iter(form.errors)))
        rows = tracking.windows_overview(user=request.user, **form.filters())
        return Response(TrackedWindowSerializer(rows, many=True).data)


class WindowTokenSerializer(serializers.Serializer):
    window = serializers.IntegerField()
    token_hint = serializers.CharField()
    token = serializers.CharField(help_text="Shown once; only its SHA-256 is stored.")


class WindowTokenView(APIView):
    """Issue (or rotate) the government window's access token: a program admin or a reviewer
    assigned to a request of the model."""

    @extend_schema(request=None, responses={201: WindowTokenSerializer})
    def post(self, request, pk):
        window = window_get_for_user(user=request.user, pk=pk)
        window, token = window_issue_token(window=window, actor=request.user)
        return Response({"window": window.pk, "token_hint": window.token_hint, "token": token},
                        status=status.HTTP_201_CREATED)
