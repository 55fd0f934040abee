"""/api/v1/ for the intake: reports (file, list, read, triage moves, human validation), their
verifications and proofs of concept (every download audited), and the reporters' yields.

Each view parses, asks access.py for the object (404 when the caller may not see it), calls one
service of clearinghouse/intake.py and presents. Refusals are JSON 400/403/409 (the project's
exception handler), never a 500.
"""

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from clearinghouse import access, intake, intake_artifacts, intake_selectors
from clearinghouse.models import Report
from clearinghouse.serializers_reports import (
    ReportArtifactSerializer,
    ReportArtifactUploadSerializer,
    ReportCreateSerializer,
    ReporterYieldSerializer,
    ReportListSerializer,
    ReportSerializer,
    TransitionSerializer,
    VerificationSerializer,
)
from review_portal.api import parse_input
from review_portal.api_pagination import BoundedPageNumberPagination, CursorListMixin
from review_portal.errors import ApplicationError

ID = r"\d+"


def report_artifact_response(artifact, data: bytes) -> HttpResponse:
    """A proof of concept as an attachment the browser never renders or sniffs."""
    response = HttpResponse(data, content_type=artifact.content_type)
    response["Content-Disposition"] = f'attachment; filename="{artifact.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


class ReportViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    viewsets.GenericViewSet):
    lookup_value_regex = ID
    list_ordering = ("-created_at", "-id")
    serializer_class = ReportSerializer

    def get_queryset(self):
        qs = access.reports_visible_to(self.request.user)
        if self.action == "list":
            return qs.select_related("organisation")
        return qs.select_related("organisation", "human_validated_by").prefetch_related(
            "products")

    def get_serializer_class(self):
        return ReportListSerializer if self.action == "list" else ReportSerializer

    def _get(self, pk) -> Report:
        return access.report_get_for_user(user=self.request.user, pk=pk)

    def _present(self, report, code=status.HTTP_200_OK):
        return Response(ReportSerializer(self._get(report.pk),
                                         context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportSerializer})
    def create(self, request):
        data = parse_input(ReportCreateSerializer, request)
        user = request.user
        finder_model = run = None
        model_pk = data.pop("finder_model", None)
        if model_pk is not None:
            from submissions.selectors import models_visible_to

            finder_model = models_visible_to(user).filter(pk=model_pk).first()
            if finder_model is None:
                raise ApplicationError("There is no such model.", field="finder_model")
        run_pk = data.pop("evaluation_run", None)
        if run_pk is not None:
            from evaluations.selectors import runs_visible_to

            run = runs_visible_to(user).filter(pk=run_pk).first()
            if run is None:
                raise ApplicationError("There is no such evaluation run.",
                                       field="evaluation_run")
            provenance = intake.report_initial_from_run(actor=user, run=run)
            finder_model = finder_model or provenance["finder_model"]
            data["harness"] = data["harness"] or provenance["harness"]
        report = intake.report_file(
            actor=user, finder_model=finder_model, evaluation_run=run,
            channel=Report.Channel.EVALUATION if run else Report.Channel.API, **data)
        return self._present(report, status.HTTP_201_CREATED)

    def _transition(self, request, pk, name):
        report = self._get(pk)
        data = parse_input(TransitionSerializer, request)
        duplicate_of = None
        if data.get("duplicate_of") is not None:
            duplicate_of = access.reports_visible_to(request.user).filter(
                pk=data["duplicate_of"]).first()
            if duplicate_of is None:
                raise ApplicationError("There is no such report.", field="duplicate_of")
        report = intake.report_transition(
            report=report, actor=request.user, action=name, reason=data["reason"],
            close_reason=data["close_reason"], duplicate_of=duplicate_of,
            override_reason=data["override_reason"])
        return self._present(report)

    @extend_schema(request=TransitionSerializer, responses=ReportSerializer,
                   description="Valid needs a threat model, a product and a reproduced "
                               "verification, the vendor's confirmation or override_reason.")
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        return self._transition(request, pk, "validate")

    @extend_schema(request=TransitionSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def invalidate(self, request, pk=None):
        return self._transition(request, pk, "invalidate")

    @extend_schema(request=TransitionSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._transition(request, pk, "accept")

    @extend_schema(request=TransitionSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def defer(self, request, pk=None):
        return self._transition(request, pk, "defer")

    @extend_schema(request=TransitionSerializer, responses=ReportSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, pk, "close")

    @extend_schema(request=TransitionSerializer, responses=ReportSerializer,
                   description="The reporter's organisation withdraws its own report.")
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(request, pk, "withdraw")

    @extend_schema(request=None, responses=ReportSerializer,
                   description="The caller vouches that they checked the AI-found report "
                               "themselves; until someone does, no vendor sees it.")
    @action(detail=True, methods=["post"], url_path="human-validate")
    def human_validate(self, request, pk=None):
        report = intake.report_human_validate(report=self._get(pk), actor=request.user)
        return self._present(report)

    @extend_schema(methods=["get"], responses=VerificationSerializer(many=True))
    @extend_schema(methods=["post"], request=VerificationSerializer,
                   responses={201: VerificationSerializer})
    @action(detail=True, methods=["get", "post"])
    def verifications(self, request, pk=None):
        report = self._get(pk)
        if request.method == "POST":
            data = parse_input(VerificationSerializer, request)
            verification = intake.verification_record(report=report, actor=request.user,
                                                      **data)
            return Response(VerificationSerializer(
                verification, context=self.get_serializer_context()).data,
                            status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(report.verifications.select_related("verified_by"))
        return self.get_paginated_response(VerificationSerializer(
            page, many=True, context=self.get_serializer_context()).data)

    @extend_schema(methods=["get"], responses=ReportArtifactSerializer(many=True))
    @extend_schema(methods=["post"], request={"multipart/form-data":
                                              ReportArtifactUploadSerializer},
                   responses={201: ReportArtifactSerializer})
    @action(detail=True, methods=["get", "post"],
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    def artifacts(self, request, pk=None):
        report = self._get(pk)
        if request.method == "POST":
            data = parse_input(ReportArtifactUploadSerializer, request)
            artifact = intake_artifacts.report_artifact_upload(report=report, actor=request.user,
                                                     kind=data["kind"],
                                                     uploaded_file=data["file"])
            return Response(ReportArtifactSerializer(artifact).data,
                            status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(report.artifacts.all())
        return self.get_paginated_response(ReportArtifactSerializer(page, many=True).data)


class ReportArtifactViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A proof of concept: only coordinators and the affected vendors may read it (404 for
    anyone else, its existence hidden)."""

    lookup_value_regex = ID
    serializer_class = ReportArtifactSerializer

    def get_object(self):
        return access.artifact_get_for_user(user=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiResponse(
        description="The file's bytes; every download is recorded in the audit trail.")})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        artifact = self.get_object()
        return report_artifact_response(
            artifact, intake_artifacts.report_artifact_read(artifact=artifact, actor=request.user))


class ReporterYieldViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Each reporter organisation's yield: the share of its decided reports found valid. The
    coordinator sees every reporter; a reporter its own organisation."""

    serializer_class = ReporterYieldSerializer
    pagination_class = BoundedPageNumberPagination

    def get_queryset(self):
        return intake_selectors.reporter_organisations_with_yield(self.request.user)

