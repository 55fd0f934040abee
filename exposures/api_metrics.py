"""/api/v1/exposure-metrics/: the coordinator's metrics as JSON, the same numbers as the page
and its CSV (exposures/metrics.py). Anyone but a coordinator gets 404."""

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import policy
from exposures import metrics
from review_portal.api_fields import StrictDateTimeField
from review_portal.errors import ApplicationError


class HoursField(serializers.FloatField):
    """A duration in hours (one decimal), null when there is none yet."""

    def to_representation(self, value):
        return metrics.hours(value)


def _hours(**kw):
    return HoursField(allow_null=True, **kw)


class CaseMetricsSerializer(serializers.Serializer):
    case = serializers.IntegerField(source="case_id")
    reference = serializers.CharField()
    opened_at = StrictDateTimeField(source="created_at")
    vendors_notified = serializers.IntegerField()
    vendors_acknowledged = serializers.IntegerField()
    acknowledge_median_hours = _hours(source="acknowledge_median")
    fix_ready_at = StrictDateTimeField(allow_null=True)
    time_to_fix_hours = _hours(source="time_to_fix")
    exposures = serializers.IntegerField()
    exposures_deployed = serializers.IntegerField()
    deploy_median_hours = _hours(source="deploy_median")
    fix_deployed_hours = _hours(source="fix_deployed",
                                help_text="Fix ready to the case's fix-deployed state")
    ai_found_reports = serializers.IntegerField(source="ai_reports")
    ai_found_reproduced = serializers.IntegerField(source="ai_reproduced")
    embargo_ends_at = StrictDateTimeField(allow_null=True)
    operators_exposed = serializers.IntegerField()
    operators_patched_by_embargo_end = serializers.IntegerField(
        source="operators_patched_by_end")


class OverallMetricsSerializer(serializers.Serializer):
    cases = serializers.IntegerField()
    vendors_notified = serializers.IntegerField()
    vendors_acknowledged = serializers.IntegerField()
    acknowledge_median_hours = _hours(source="acknowledge_median")
    cases_fixed = serializers.IntegerField()
    fix_median_hours = _hours(source="fix_median")
    exposures = serializers.IntegerField()
    exposures_deployed = serializers.IntegerField()
    deploy_median_hours = _hours(source="deploy_median")
    cases_fix_deployed = serializers.IntegerField(source="cases_deployed")
    fix_deployed_median_hours = _hours(source="fix_deployed_median")
    ai_found_reports = serializers.IntegerField(source="ai_reports")
    ai_found_reproduced = serializers.IntegerField(source="ai_reproduced")
    ai_found_reproduced_percent = serializers.IntegerField(source="ai_reproduced_percent",
                                                           allow_null=True)
    operators_exposed = serializers.IntegerField()
    operators_patched_by_embargo_end = serializers.IntegerField(
        source="operators_patched_by_end")
    operators_patched_percent = serializers.IntegerField(allow_null=True)


class MetricsSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(metrics.PERIODS))
    since = StrictDateTimeField(allow_null=True, help_text="Cases opened since; null: all time")
    overall = OverallMetricsSerializer()
    cases = CaseMetricsSerializer(many=True)


class MetricsView(APIView):
    """Time to acknowledge, to fix and to deploy, AI-found reports reproduced and operators
    patched by the embargo's end: overall and per case, for the cases opened in `period`.
    Coordinators only (anyone else: 404). Counts and durations only, no operator named."""

    @extend_schema(parameters=[OpenApiParameter(
        "period", OpenApiTypes.STR, enum=list(metrics.PERIODS),
        description=f"Days back, or all (default {metrics.DEFAULT_PERIOD})")],
        responses=MetricsSerializer)
    def get(self, request):
        if not policy.is_clearinghouse_coordinator(request.user):
            raise Http404
        period = request.query_params.get("period", metrics.DEFAULT_PERIOD)
        if period not in metrics.PERIODS:
            raise ApplicationError(f"Give a period: one of {', '.join(metrics.PERIODS)}.",
                                   field="period")
        data = metrics.metrics_for(request.user, period=period)
        return Response(MetricsSerializer({
            "period": period, "since": data.overall.since, "overall": data.overall,
            "cases": data.cases}).data)
