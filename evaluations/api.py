"""/api/v1/ for suites, evaluation runs and the model's evaluation endpoint."""

from django.db.models import Prefetch
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from evaluations import selectors, services
from evaluations.models import EvaluationEndpoint, SuiteVersion
from evaluations.serializers import (
    BenchmarkSuiteSerializer,
    EndpointSerializer,
    RunSerializer,
    RunStartedSerializer,
    RunStartSerializer,
    SampleResultSerializer,
    SuiteCreateSerializer,
    SuiteVersionSerializer,
)
from review_portal.api import parse_input
from review_portal.api_pagination import CursorListMixin
from submissions.selectors import request_get_for_user


class SuiteViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Benchmark suites: confidential, government only. Program admins add versions."""

    serializer_class = BenchmarkSuiteSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.suites_visible_to(self.request.user).prefetch_related(
            Prefetch("versions", queryset=SuiteVersion.objects.defer("items")
                     .select_related("suite")))

    @extend_schema(request=SuiteCreateSerializer, responses=SuiteVersionSerializer)
    def create(self, request):
        data = parse_input(SuiteCreateSerializer, request)
        upload = data.get("file")
        version = services.suite_version_create(
            actor=request.user, suite_name=data["suite_name"],
            description=data.get("description", ""),
            filename=upload.name if upload else "", content=upload.read() if upload else b"",
            solver=data.get("solver", ""), scorer=data.get("scorer", ""),
            grader_model=data.get("grader_model", ""),
            registry_name=data.get("registry_name", ""), task_args=data.get("task_args"))
        return Response(SuiteVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class RunViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                 viewsets.GenericViewSet):
    """Evaluation runs: start, progress, cancel, per-sample results and the Inspect log."""

    serializer_class = RunSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.runs_visible_to(self.request.user)

    def list(self, request):
        """As ListModelMixin's, with the page's queue notices read at once."""
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        runs = queryset if page is None else page
        data = RunSerializer.for_runs(runs, context=self.get_serializer_context()).data
        return Response(data) if page is None else self.get_paginated_response(data)

    @extend_schema(request=RunStartSerializer, responses={
        201: RunStartedSerializer,
        202: OpenApiResponse(RunStartedSerializer, description=(
            "Recorded, but the job queue is unreachable: the run waits and is queued "
            "automatically when it answers (queue_state \"waiting\")."))})
    def create(self, request):
        data = parse_input(RunStartSerializer, request)
        review_request = request_get_for_user(user=request.user, pk=data["request"])
        version = get_object_or_404(selectors.suite_versions_visible_to(request.user),
                                    pk=data["suite_version"])
        run = services.run_start(review_request=review_request, suite_version=version,
                                 actor=request.user, repeat=data["repeat"])
        # The job was published (or not) when run_start committed: say which, never a false
        # "queued".
        waiting = selectors.run_waiting_for_queue(run=run)
        run.queue_state = "waiting" if waiting else "queued"
        return Response(RunStartedSerializer(run).data,
                        status=status.HTTP_202_ACCEPTED if waiting else status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = services.run_cancel(run=self.get_object(), actor=request.user)
        return Response(RunSerializer(run).data)

    @extend_schema(responses=SampleResultSerializer(many=True))
    @action(detail=True, methods=["get"])
    def samples(self, request, pk=None):
        page = self.paginate_queryset(self.get_object().samples.all())
        return self.get_paginated_response(SampleResultSerializer(page, many=True).data)

    @extend_schema(responses={(200, "application/zip"): OpenApiResponse(
        description="The Inspect log (.eval). Every download is recorded.")})
    @action(detail=True, methods=["get"])
    def log(self, request, pk=None):
        return log_response(*services.run_log_open(run=self.get_object(), actor=request.user))


def log_response(name: str, body, size: int | None) -> FileResponse:
    """The log streamed from the storage through this (permission-checked) view, in blocks:
    never a URL of the bucket, and never the whole log in memory."""
    response = FileResponse(body, content_type="application/zip", as_attachment=True,
                            filename=name)
    if size is not None:
        response["Content-Length"] = str(size)
    response["Cache-Control"] = "private, no-store"
    return response


class EndpointView(APIView):
    """The model's evaluation endpoint. Developers of the model set it; the key is write-only."""

    serializer_class = EndpointSerializer

    def _model(self, request, pk):
        return selectors.endpoint_model_get_for_user(user=request.user, pk=pk)

    @extend_schema(responses=EndpointSerializer)
    def get(self, request, pk):
        endpoint = get_object_or_404(EvaluationEndpoint, model=self._model(request, pk))
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(request=EndpointSerializer, responses=EndpointSerializer)
    def put(self, request, pk):
        model = self._model(request, pk)
        data = parse_input(EndpointSerializer, request)
        endpoint = services.endpoint_set(
            model=model, actor=request.user, kind=data["kind"], model_name=data["model_name"],
            base_url=data.get("base_url", ""), api_key=data.get("api_key") or None,
            simulated_levels=data.get("simulated_levels"),
            simulated_latency_ms=data.get("simulated_latency_ms", 0))
        return Response(EndpointSerializer(endpoint).data)
