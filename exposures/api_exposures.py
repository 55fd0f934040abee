"""/api/v1/ for operators' exposures and the pre-disclosure terms (issue 12), and the
coordinator's SSVC assessment of a vulnerability.

- exposures/: the user's operator's released, live exposures by priority then deadline
  (?case=<id>); exposures/{id}/: what the exposure page shows (asset label, match, priority,
  deadline, status, TLP flag, the vendor's remediations with download address, SHA-256 and
  signature as given). Never a report, a proof of concept, or another operator.
  POST exposures/{id}/status/, confirm/, reject/: exposures/services.py.
- exposure-terms/: GET the current terms version and whether the organisation accepted it;
  POST accepts it (services.terms_accept).
- vulnerabilities/{id}/assessment/: GET the current exploitation / automatable, version, who
  set it and why, and its history; POST sets it (exposures/assessment.assessment_set).
  Coordinators only.
Parse, one access helper (exposures/access.py), one service, present. What one may not see
answers 404 (unreleased exposures and other operators' too).
"""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from clearinghouse.models import ProductStatement, Remediation
from exposures import access, assessment, exposure_selectors, services
from exposures.models import SSVC, Exposure, TermsAcceptance, VulnerabilityAssessment
from exposures.workflow import EXPOSURE_TRANSITIONS
from review_portal.api import parse_input
from review_portal.api_fields import ModelSerializer, StrictDateTimeField
from review_portal.ids import id_or_none

ID = r"\d+"
XS = Exposure.Status


# --- exposures ------------------------------------------------------------------------------

class RemediationOutSerializer(ModelSerializer):
    class Meta:
        model = Remediation
        fields = ["id", "category", "details", "fixed_range", "url", "artifact_sha256",
                  "signature", "created_at"]
        read_only_fields = fields


class ExposureListSerializer(ModelSerializer):
    case = serializers.IntegerField(source="vulnerability.case_id", read_only=True)
    case_reference = serializers.CharField(source="vulnerability.case.reference",
                                           read_only=True)
    case_public = serializers.BooleanField(read_only=True)
    vulnerability_title = serializers.CharField(source="vulnerability.title", read_only=True)
    cve_id = serializers.CharField(source="vulnerability.cve_id", read_only=True)
    asset_label = serializers.CharField(read_only=True)

    class Meta:
        model = Exposure
        fields = ["id", "case", "case_reference", "case_public", "vulnerability",
                  "vulnerability_title", "cve_id", "asset", "asset_label", "method",
                  "confidence", "confirmed", "priority", "due_at", "status", "reopened_at"]
        read_only_fields = fields


class ExposureSerializer(ExposureListSerializer):
    asset_purl = serializers.SerializerMethodField()
    asset_cpe = serializers.SerializerMethodField()
    cwe = serializers.CharField(source="vulnerability.cwe", read_only=True)
    cvss_version = serializers.CharField(source="vulnerability.cvss_version", read_only=True)
    cvss_score = serializers.DecimalField(source="vulnerability.cvss_score", max_digits=3,
                                          decimal_places=1, read_only=True)
    cvss_severity = serializers.CharField(source="vulnerability.cvss_severity", read_only=True)
    cvss_vector = serializers.CharField(source="vulnerability.cvss_vector", read_only=True)
    statement_product = serializers.CharField(source="statement.product_name", read_only=True)
    statement_status = serializers.ChoiceField(source="statement.status", read_only=True,
                                               choices=ProductStatement.Status.choices)
    statement_version_range = serializers.CharField(source="statement.version_range",
                                                    read_only=True)
    remediations = RemediationOutSerializer(many=True, read_only=True)
    allowed_statuses = serializers.SerializerMethodField()

    class Meta:
        model = Exposure
        fields = [*ExposureListSerializer.Meta.fields, "asset_purl", "asset_cpe",
                  "match_detail", "active", "priority_table", "priority_inputs",
                  "justification", "status_reason", "status_changed_at", "cwe",
                  "cvss_version", "cvss_score", "cvss_severity", "cvss_vector",
                  "statement_product", "statement_status", "statement_version_range",
                  "remediations", "allowed_statuses"]
        read_only_fields = fields

    def get_asset_purl(self, exposure) -> str:
        return exposure.asset_details.get("purl", "")

    def get_asset_cpe(self, exposure) -> str:
        return exposure.asset_details.get("cpe", "")

    def get_allowed_statuses(self, exposure) -> list[str]:
        """The statuses a status change may set now (none until a match is confirmed)."""
        if not (exposure.active and exposure.confirmed):
            return []
        allowed = EXPOSURE_TRANSITIONS.get(exposure.status, frozenset())
        return [value for value in XS.values if value in allowed]


def _present(exposure: Exposure) -> Exposure:
    facts = exposure_selectors.exposure_facts(exposure)
    exposure.asset_label, exposure.asset_details = facts.asset_label, facts.asset_details
    exposure.case_public, exposure.remediations = facts.case_public, facts.remediations
    return exposure


class ExposureStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=XS.choices)
    justification = serializers.ChoiceField(
        choices=ProductStatement.Justification.choices, required=False, allow_blank=True,
        default="", help_text="The CSAF VEX justification: required for not_affected only.")
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                   default="", help_text="Required for risk_accepted.")


class ExposureRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True,
                                   default="", help_text="Why this is not what you run.")


class ExposureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """An operator's own released exposures (a vetted operator's members only; anyone else
    sees none, and 404 on one)."""

    lookup_value_regex = ID

    def get_serializer_class(self):
        return ExposureListSerializer if self.action == "list" else ExposureSerializer

    def get_queryset(self):
        if self.action != "list":
            return access.exposures_visible_to(self.request.user)
        case = self.request.query_params.get("case", "")
        case_id = id_or_none(case) if case else None
        qs = exposure_selectors.operator_exposures(self.request.user, case_id=case_id)
        return qs.none() if case and case_id is None else qs

    @extend_schema(parameters=[OpenApiParameter(
        "case", OpenApiTypes.INT, required=False, description="Only this case's exposures")])
    def list(self, request):
        """The user's operator's live released exposures, by priority (immediate first) then
        deadline (due_at). Anyone but a vetted operator's member: an empty list."""
        page = exposure_selectors.with_labels(self.paginate_queryset(self.get_queryset()))
        return self.get_paginated_response(ExposureListSerializer(page, many=True).data)

    def _exposure(self, pk) -> Exposure:
        return exposure_selectors.exposure_for_page(user=self.request.user, pk=pk)

    def _answer(self, pk) -> Response:
        return Response(ExposureSerializer(_present(self._exposure(pk))).data)

    def retrieve(self, request, pk=None):
        """One exposure as its page shows it: the asset, the match, priority and deadline,
        status, whether the case is public yet (else TLP:AMBER), the vulnerability's title,
        CVE, CWE and CVSS, the vendor's statement and its remediations (download address,
        SHA-256, signature as the vendor gave it)."""
        return self._answer(pk)

    @extend_schema(request=ExposureStatusSerializer, responses=ExposureSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        """Change the status: new -> acknowledged -> patched / mitigated / not_affected (with a
        CSAF VEX justification) / risk_accepted (with a reason). A refused transition: 409."""
        exposure = self._exposure(pk)
        data = parse_input(ExposureStatusSerializer, request)
        services.exposure_status_set(exposure=exposure, actor=request.user, **data)
        return self._answer(exposure.pk)

    @extend_schema(request=None, responses=ExposureSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        """Confirm a vendor/product-name match: it becomes a live exposure."""
        exposure = self._exposure(pk)
        services.exposure_confirm(exposure=exposure, actor=request.user)
        return self._answer(exposure.pk)

    @extend_schema(request=ExposureRejectSerializer, responses=ExposureSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a vendor/product-name match: recorded as not affected (component not
        present) with the reason."""
        exposure = self._exposure(pk)
        data = parse_input(ExposureRejectSerializer, request)
        services.exposure_reject(exposure=exposure, actor=request.user, **data)
        return self._answer(exposure.pk)


# --- terms ----------------------------------------------------------------------------------

class ExposureTermsSerializer(serializers.Serializer):
    version = serializers.CharField()
    accepted = serializers.BooleanField()
    accepted_at = StrictDateTimeField(allow_null=True)
    accepted_by = serializers.CharField(allow_null=True, help_text="The member who accepted")


def _terms(acceptance: TermsAcceptance | None) -> dict:
    return {"version": services.terms_current_version(), "accepted": acceptance is not None,
            "accepted_at": acceptance.accepted_at if acceptance else None,
            "accepted_by": acceptance.accepted_by.get_username() if acceptance else None}


class ExposureTermsView(APIView):
    """The pre-disclosure terms: the current version and whether the user's operator accepted
    it; POST accepts it for the organisation (once per version). Not a vetted operator's
    member: 404."""

    def _require_operator(self, request) -> None:
        if not access.may_manage_inventory(request.user):
            raise Http404

    @extend_schema(responses=ExposureTermsSerializer)
    def get(self, request):
        self._require_operator(request)
        acceptance = services.terms_acceptance_of(request.user)
        return Response(ExposureTermsSerializer(_terms(acceptance)).data)

    @extend_schema(request=None, responses={200: ExposureTermsSerializer,
                                            201: ExposureTermsSerializer})
    def post(self, request):
        self._require_operator(request)
        before = services.terms_acceptance_of(request.user)
        acceptance = services.terms_accept(actor=request.user)
        return Response(ExposureTermsSerializer(_terms(acceptance)).data,
                        status=status.HTTP_200_OK if before else status.HTTP_201_CREATED)


# --- the coordinator's assessment -----------------------------------------------------------

class AssessmentChangeSerializer(serializers.Serializer):
    at = StrictDateTimeField()
    actor = serializers.CharField(help_text="Username, or 'system'")
    action = serializers.CharField(help_text="exposure.assessment_set (the coordinator) or "
                                             "exposure.assessment_raised (a case state)")
    version = serializers.IntegerField(allow_null=True)
    exploitation = serializers.CharField(allow_blank=True)
    automatable = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)


class AssessmentSerializer(ModelSerializer):
    source = serializers.CharField(read_only=True, help_text="report, coordinator or case_state")
    reason = serializers.CharField(read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True,
                                              allow_null=True)
    history = AssessmentChangeSerializer(many=True, read_only=True)

    class Meta:
        model = VulnerabilityAssessment
        fields = ["vulnerability", "exploitation", "automatable", "version", "source",
                  "reason", "updated_by", "updated_at", "history"]
        read_only_fields = fields


class AssessmentSetSerializer(serializers.Serializer):
    exploitation = serializers.ChoiceField(choices=SSVC.Exploitation.choices)
    automatable = serializers.ChoiceField(choices=SSVC.Automatable.choices)
    reason = serializers.CharField(max_length=2000, help_text="The evidence for it")


class AssessmentView(APIView):
    """A vulnerability's SSVC Exploitation and Automatable (the case-wide inputs of every
    operator's priority): GET the current values, version, source and history; POST sets them
    (a change bumps the version once and re-prioritises; the same values change nothing).
    Coordinators only: anyone else 404."""

    def _present(self, vulnerability, code=status.HTTP_200_OK) -> Response:
        current = assessment.assessment_view(vulnerability)
        return Response(AssessmentSerializer(current).data, status=code)

    @extend_schema(responses=AssessmentSerializer)
    def get(self, request, pk):
        return self._present(access.assessable_vulnerability_get(user=request.user, pk=pk))

    @extend_schema(request=AssessmentSetSerializer, responses=AssessmentSerializer)
    def post(self, request, pk):
        vulnerability = access.assessable_vulnerability_get(user=request.user, pk=pk)
        data = parse_input(AssessmentSetSerializer, request)
        assessment.assessment_set(vulnerability=vulnerability, actor=request.user, **data)
        return self._present(vulnerability)
