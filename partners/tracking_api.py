"""/api/v1/windows-overview/ (every window the caller may track) and the government window's
token. Same selectors and rules as the tracking page."""

from django import forms
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
    OpenApiParameter("date_from", OpenApiTypes.DATE,
                     description="First day of the range (windows ending after its start). "
                                 "Default: date_to - 89 days, or today"),
    OpenApiParameter("date_to", OpenApiTypes.DATE,
                     description="Last day of the range, included (windows starting before "
                                 "its end). Default: date_from + 89 days"),
    OpenApiParameter("state", OpenApiTypes.STR, enum=list(tracking.State.LABELS)),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From the previous page's `next`"),
    OpenApiParameter("page_size", OpenApiTypes.INT,
                     description=f"1-{tracking.API_MAX_PAGE_SIZE}, "
                                 f"default {tracking.API_PAGE_SIZE}"),
]


class WindowOverviewQuery(WindowFilterForm):
    cursor = forms.CharField(required=False, max_length=200)
    page_size = forms.IntegerField(required=False, min_value=1,
                                   max_value=tracking.API_MAX_PAGE_SIZE)


class WindowOverviewPageSerializer(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last")
    results = TrackedWindowSerializer(many=True)


class WindowOverviewView(APIView):
    """The windows, government and partner, that overlap a date range (default: the coming
    90 days), with their state, a page at a time in (starts_at, kind, id) order: program
    admins all, a developer those of its own models; anyone else 404. Cursor pagination: a
    page costs the same queries at any depth and whatever the number of windows."""

    @extend_schema(parameters=FILTERS, responses=WindowOverviewPageSerializer)
    def get(self, request):
        form = WindowOverviewQuery(request.query_params)
        if not form.is_valid():
            raise ApplicationError("Invalid filter: " + "; ".join(
                f"{field}: {' '.join(errors)}" for field, errors in form.errors.items()),
                field=next(iter(form.errors)))
        data = form.cleaned_data
        page = tracking.windows_overview(
            user=request.user, cursor=data["cursor"] or None,
            size=data["page_size"] or tracking.API_PAGE_SIZE, **form.filters())
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"date_from": page.date_range.date_from,
                         "date_to": page.date_range.date_to, "next": next_url,
                         "results": TrackedWindowSerializer(page.rows, many=True).data})


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
