"""/api/v1/advisories/: a case's generated advisories (coordinators: drafts too), generating a
draft and publishing it behind the gate. Parse, one access helper, one service, present; the
rules are in clearinghouse/publication.py. The published documents themselves are public at
/.well-known/csaf/."""

import re

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from clearinghouse import access, publication
from clearinghouse.models import Advisory
from review_portal.api import parse_input
from review_portal.api_fields import ModelSerializer
from review_portal.errors import ApplicationError

ID = r"\d+"


class AdvisoryListSerializer(ModelSerializer):
    reference = serializers.CharField(source="case.reference", read_only=True)
    valid = serializers.SerializerMethodField()

    class Meta:
        model = Advisory
        fields = ["id", "case", "reference", "revision", "status", "tracking_id", "valid",
                  "generated_at", "published_at"]
        read_only_fields = fields

    def get_valid(self, advisory) -> bool:
        return bool(advisory.validation.get("ok"))


class AdvisorySerializer(AdvisoryListSerializer):
    class Meta(AdvisoryListSerializer.Meta):
        fields = AdvisoryListSerializer.Meta.fields + [
            "hashes", "validation", "csaf", "vex", "osv", "cve", "withdrawn_reason"]
        read_only_fields = fields


class AdvisoryGenerateSerializer(serializers.Serializer):
    case = serializers.IntegerField(help_text="The case's id")


class WithdrawSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AdvisoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """Advisory revisions the caller may see; `?case=<id>` for one case's."""

    lookup_value_regex = ID

    def get_serializer_class(self):
        return AdvisoryListSerializer if self.action == "list" else AdvisorySerializer

    def get_queryset(self):
        qs = access.advisories_visible_to(self.request.user).select_related("case").order_by(
            "-generated_at", "-id")
        case = self.request.query_params.get("case", "")
        if case and not re.fullmatch(r"[0-9]+", case):
            raise ApplicationError("Give a case id (digits 0-9).", field="case")
        if case:
            qs = qs.filter(case_id=int(case))
        if self.action == "list":
            qs = qs.defer("csaf", "vex", "osv", "cve", "hashes")
        return qs

    def retrieve(self, request, pk=None):
        advisory = access.advisory_get_for_user(user=request.user, pk=pk)
        return Response(AdvisorySerializer(advisory).data)

    @extend_schema(request=AdvisoryGenerateSerializer, responses={201: AdvisorySerializer})
    def create(self, request):
        """Generate a draft revision from the case as it is now (coordinator only). A draft
        that fails validation is stored too, with its validation report."""
        if not access.may_coordinate(request.user):
            raise PermissionDenied("Only the coordinator generates advisories.")
        data = parse_input(AdvisoryGenerateSerializer, request)
        case = access.cases_visible_to(request.user).filter(pk=data["case"]).first()
        if case is None:
            raise ApplicationError("No such case.", field="case")
        advisory = publication.advisory_generate(case=case, by=request.user)
        return Response(AdvisorySerializer(advisory).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AdvisorySerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Publish a draft: 409 with every reason when the embargo is in force, a vendor has
        not stated (and is not "no response"), the case changed since the draft, or an export
        does not validate."""
        advisory = access.advisory_get_for_user(user=request.user, pk=pk)
        advisory = publication.advisory_publish(advisory=advisory, by=request.user)
        return Response(AdvisorySerializer(advisory).data)

    @extend_schema(request=WithdrawSerializer, responses=AdvisorySerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """Withdraw a published revision, with a reason: the case leaves the public CSAF
        provider directory."""
        advisory = access.advisory_get_for_user(user=request.user, pk=pk)
        data = parse_input(WithdrawSerializer, request)
        advisory = publication.advisory_withdraw(advisory=advisory, by=request.user,
                                                 reason=data["reason"])
        return Response(AdvisorySerializer(advisory).data)
