"""/api/v1/ for the clearinghouse's members (vendors and operators and their vetting) and the
vendors' product catalogues. Parse, one access helper, one service, present."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import policy
from accounts.models import Organisation
from clearinghouse import access, members
from clearinghouse.models import MemberProfile, VendorProduct
from review_portal.api import parse_input
from review_portal.api_fields import ModelSerializer
from submissions.serializers import ReasonSerializer

ID = r"\d+"


class MemberApplySerializer(ModelSerializer):
    class Meta:
        model = MemberProfile
        fields = ["description", "security_contact"]


class MemberSerializer(ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    kind = serializers.CharField(source="organisation.kind", read_only=True)

    class Meta:
        model = MemberProfile
        fields = ["id", "organisation", "organisation_name", "kind", "description",
                  "security_contact", "status", "status_reason", "status_changed_at",
                  "created_at"]
        read_only_fields = fields


class MemberViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Vendors and operators in the clearinghouse. Coordinators see all; a member sees its own."""

    lookup_value_regex = ID
    serializer_class = MemberSerializer

    def get_queryset(self):
        return access.members_visible_to(self.request.user)

    def _present(self, profile, code=status.HTTP_200_OK):
        return Response(MemberSerializer(profile, context=self.get_serializer_context()).data,
                        status=code)

    @extend_schema(request=MemberApplySerializer, responses=MemberSerializer)
    def create(self, request):
        data = parse_input(MemberApplySerializer, request)
        return self._present(members.member_apply(actor=request.user, **data),
                             status.HTTP_201_CREATED)

    def _transition(self, request, pk, name):
        profile = access.member_get_for_user(user=request.user, pk=pk)
        data = parse_input(ReasonSerializer, request)
        return self._present(members.member_transition(
            profile=profile, actor=request.user, action=name, reason=data.get("reason", "")))

    @extend_schema(request=ReasonSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def vet(self, request, pk=None):
        return self._transition(request, pk, "vet")

    @extend_schema(request=ReasonSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition(request, pk, "suspend")

    @extend_schema(request=ReasonSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._transition(request, pk, "revoke")


class VendorProductSerializer(ModelSerializer):
    purl = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                 help_text="A package URL; stored as its key without version")
    cpe = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                help_text="A CPE 2.3 name; stored as vendor:product")
    vendor = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.VENDOR), required=False,
        help_text="The vendor; a vendor's own members may leave it out")

    class Meta:
        model = VendorProduct
        fields = ["id", "vendor", "name", "purl", "cpe", "purl_key", "cpe_key", "created_at"]
        read_only_fields = ["id", "purl_key", "cpe_key", "created_at"]
        # One product name per vendor is the service's check (a 409), not a required field.
        validators = []


class VendorProductViewSet(mixins.ListModelMixin, mixins.CreateModelMixin,
                           viewsets.GenericViewSet):
    """Vendors' product catalogues, from which a report's vendors are suggested. A vendor sees
    and edits its own; coordinators all."""

    serializer_class = VendorProductSerializer

    def get_queryset(self):
        qs = VendorProduct.objects.all()
        if policy.is_clearinghouse_coordinator(self.request.user):
            return qs
        if policy.is_vendor(self.request.user):
            return qs.filter(vendor_id=policy.organisation_id_of(self.request.user))
        return qs.none()

    def create(self, request):
        data = parse_input(VendorProductSerializer, request)
        vendor = data.get("vendor")
        if vendor is None and policy.is_vendor(request.user):
            vendor = request.user.membership.organisation
        if vendor is None:
            return Response({"detail": "Name the vendor.", "field": "vendor"},
                            status=status.HTTP_400_BAD_REQUEST)
        product = members.vendor_product_add(actor=request.user, vendor=vendor,
                                             name=data["name"], purl=data.get("purl", ""),
                                             cpe=data.get("cpe", ""))
        return Response(VendorProductSerializer(product).data, status=status.HTTP_201_CREATED)
