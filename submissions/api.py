"""/api/v1/ for models, determination requests, their thread and artifacts, and windows.

Each view parses, calls one access helper and one service, and presents. Objects the caller may
not see answer 404 (they come from the same filtered querysets as the pages).
"""

from django.db.models import F, Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from accounts.policy import is_government
from review_portal.api import parse_input
from review_portal.api_fields import model_label_sql
from review_portal.api_pagination import CursorListMixin
from submissions import selectors, services
from submissions.artifact_services import artifact_read, artifact_upload
from submissions.models import Determination, ReviewRequest
from submissions.serializers import (
    ArtifactSerializer,
    ArtifactUploadSerializer,
    AssignSerializer,
    DetermineSerializer,
    FrontierModelSerializer,
    MessageSerializer,
    QuestionSerializer,
    ReasonSerializer,
    ReviewRequestCreateSerializer,
    ReviewRequestSerializer,
    WindowSerializer,
    WindowWriteSerializer,
)
from submissions.window_services import window_cancel, window_change, window_schedule

# Ids in URLs are digits: anything else answers 404 from the router instead of reaching a
# query that would fail on a non-numeric primary key.
ID = r"\d+"


class FrontierModelViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    lookup_value_regex = ID
    list_ordering = ("name", "version", "id")
    serializer_class = FrontierModelSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        models = selectors.models_visible_to(self.request.user)
        if self.action == "list":  # what the list shows: of the organisation, its name
            return models.select_related(None).only(*(
                f for f in FrontierModelSerializer.Meta.fields if f != "organisation"),
                "organisation").annotate(list_organisation_name=F("organisation__name"))
        return models

    def create(self, request):
        data = parse_input(FrontierModelSerializer, request)
        model = services.model_register(actor=request.user, **data)
        return Response(FrontierModelSerializer(model).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        model = selectors.model_get_for_user(user=request.user, pk=pk)
        data = parse_input(FrontierModelSerializer, request, partial=True)
        model = services.model_update(model=model, actor=request.user, **data)
        return Response(FrontierModelSerializer(model).data)


class ReviewRequestViewSet(CursorListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID
    serializer_class = ReviewRequestSerializer
    list_ordering = ("-created_at", "-id")

    # What the list shows (ReviewRequestSerializer, in_list): the request's own columns, its
    # model's label, each determination's outcome and rationale. Nothing else is read.
    LIST_COLUMNS = ("id", "model", "status", "cover_note", "created_at", "submitted_at",
                    "status_changed_at")
    LIST_DETERMINATION_COLUMNS = ("id", "request", "outcome", "rationale", "decided_at")

    def get_queryset(self):
        requests = selectors.requests_visible_to(self.request.user)
        if self.action != "list":
            return requests.prefetch_related("determinations__decided_by")
        # A list shows each determination's outcome and rationale only; who decided is read
        # for the single-request answer.
        # The model's label is computed in SQL, not read from a model row per request.
        return requests.select_related(None).only(*self.LIST_COLUMNS).annotate(
            list_model_label=model_label_sql()).prefetch_related(Prefetch(
                "determinations",
                queryset=Determination.objects.only(*self.LIST_DETERMINATION_COLUMNS),
                to_attr=ReviewRequestSerializer.PREFETCHED_DETERMINATIONS))

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "in_list": self.action == "list"}

    def _get(self, pk) -> ReviewRequest:
        return selectors.request_get_for_user(user=self.request.user, pk=pk)

    def _answer(self, review_request, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=review_request.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def retrieve(self, request, pk=None):
        # One fetch with what the answer shows (not _get and then _answer's fresh copy). The
        # government's answer also lists the runs and reviews each determination rests on.
        queryset = self.get_queryset()
        if is_government(request.user):
            queryset = queryset.prefetch_related("determinations__runs",
                                                 "determinations__reviews")
        review_request = get_object_or_404(queryset, pk=pk)
        services.request_view_record(review_request=review_request, actor=request.user)
        return Response(self.get_serializer(review_request).data)

    @extend_schema(request=ReviewRequestCreateSerializer, responses=ReviewRequestSerializer)
    def create(self, request):
        data = parse_input(ReviewRequestCreateSerializer, request)
        model = selectors.model_get_for_user(user=request.user, pk=data["model"])
        review_request = services.request_create(model=model, actor=request.user,
                                                 cover_note=data.get("cover_note", ""))
        return self._answer(review_request, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ReviewRequestSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        review_request = services.request_submit(review_request=self._get(pk), actor=request.user)
        return self._answer(review_request)

    @extend_schema(request=ReasonSerializer, responses=ReviewRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        data = parse_input(ReasonSerializer, request)
        review_request = services.request_withdraw(review_request=self._get(pk),
                                                   actor=request.user,
                                                   reason=data.get("reason", ""))
        return self._answer(review_request)

    @extend_schema(request=ReasonSerializer, responses=ReviewRequestSerializer)
    @action(detail=True, methods=["post"], url_path="request-reconsideration")
    def request_reconsideration(self, request, pk=None):
        data = parse_input(ReasonSerializer, request)
        review_request = services.request_reconsideration(
            review_request=self._get(pk), actor=request.user, reason=data.get("reason", ""))
        return self._answer(review_request)

    @extend_schema(request=QuestionSerializer, responses=ReviewRequestSerializer)
    @action(detail=True, methods=["post"], url_path="request-information")
    def request_information(self, request, pk=None):
        data = parse_input(QuestionSerializer, request)
        review_request = self._get(pk)
        services.request_ask_information(review_request=review_request, actor=request.user,
                                         question=data["question"])
        return self._answer(review_request)

    @extend_schema(request=DetermineSerializer, responses=ReviewRequestSerializer)
    @action(detail=True, methods=["post"])
    def determine(self, request, pk=None):
        data = parse_input(DetermineSerializer, request)
        review_request = self._get(pk)
        services.request_determine(review_request=review_request, actor=request.user, **data)
        return self._answer(review_request)

    @extend_schema(request=AssignSerializer, responses=ReviewRequestSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        data = parse_input(AssignSerializer, request)
        review_request = self._get(pk)
        reviewer = selectors.agency_reviewers().filter(username=data["reviewer"]).first()
        services.reviewer_assign(review_request=review_request, reviewer=reviewer,
                                 actor=request.user, is_lead=data["is_lead"])
        return self._answer(review_request)

    @extend_schema(methods=["get"], responses=MessageSerializer(many=True))
    @extend_schema(methods=["post"], request=MessageSerializer,
                   responses={201: MessageSerializer})
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        review_request = self._get(pk)
        if request.method == "POST":
            data = parse_input(MessageSerializer, request)
            message = services.message_post(review_request=review_request, actor=request.user,
                                            body=data["body"])
            return Response(MessageSerializer(message, context={"request": request}).data,
                            status=status.HTTP_201_CREATED)
        services.request_view_record(review_request=review_request, actor=request.user)
        page = self.paginate_queryset(selectors.messages_for_request(
            review_request=review_request))
        return self.get_paginated_response(MessageSerializer(
            page, many=True, context={"request": request}).data)


class ArtifactViewSet(viewsets.GenericViewSet):
    """Artifacts under a request: /review-requests/{request_pk}/artifacts/."""

    lookup_value_regex = ID

    serializer_class = ArtifactSerializer
    parser_classes = [MultiPartParser, FormParser]

    def _request(self) -> ReviewRequest:
        return selectors.request_get_for_user(user=self.request.user,
                                              pk=self.kwargs["request_pk"])

    def get_queryset(self):
        return selectors.artifacts_for_request(review_request=self._request())

    def list(self, request, request_pk=None):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ArtifactSerializer(page, many=True).data)

    @extend_schema(request=ArtifactUploadSerializer, responses=ArtifactSerializer)
    def create(self, request, request_pk=None):
        data = parse_input(ArtifactUploadSerializer, request)
        artifact = artifact_upload(review_request=self._request(), actor=request.user,
                                   kind=data["kind"], uploaded_file=data["file"])
        return Response(ArtifactSerializer(artifact).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request, request_pk=None, pk=None):
        return Response(ArtifactSerializer(get_object_or_404(self.get_queryset(), pk=pk)).data)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(
        description="The artifact's bytes; every download is recorded in the audit trail.")})
    @action(detail=True, methods=["get"])
    def download(self, request, request_pk=None, pk=None):
        artifact = get_object_or_404(self.get_queryset(), pk=pk)
        return artifact_response(artifact, artifact_read(artifact=artifact, actor=request.user))


def artifact_response(artifact, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type=artifact.content_type)
    response["Content-Disposition"] = f'attachment; filename="{artifact.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["X-Marking"] = artifact.marking
    return response


class WindowViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_regex = ID
    serializer_class = WindowSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.windows_visible_to(self.request.user)

    @extend_schema(request=WindowWriteSerializer, responses=WindowSerializer)
    def create(self, request):
        data = parse_input(WindowWriteSerializer, request)
        if "model" not in data:
            return Response({"detail": "Say which model the window is for.", "field": "model"},
                            status=status.HTTP_400_BAD_REQUEST)
        model = selectors.model_get_for_user(user=request.user, pk=data["model"])
        window = window_schedule(model=model, actor=request.user, starts_at=data["starts_at"],
                                 ends_at=data["ends_at"])
        return Response(WindowSerializer(window).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WindowWriteSerializer, responses=WindowSerializer)
    def partial_update(self, request, pk=None):
        window = selectors.window_get_for_user(user=request.user, pk=pk)
        data = parse_input(WindowWriteSerializer, request)
        window = window_change(window=window, actor=request.user, starts_at=data["starts_at"],
                               ends_at=data["ends_at"])
        return Response(WindowSerializer(window).data)

    @extend_schema(request=ReasonSerializer, responses=WindowSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        window = selectors.window_get_for_user(user=request.user, pk=pk)
        data = parse_input(ReasonSerializer, request)
        window = window_cancel(window=window, actor=request.user, reason=data.get("reason", ""))
        return Response(WindowSerializer(window).data)
