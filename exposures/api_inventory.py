"""/api/v1/ for operators' inventories: inventories (list; create = first upload), their
imports (list; post = re-import), assets (list, read, PATCH the SSVC inputs) and, for the
program office, counts per operator (inventory-counts). Parse, one access helper
(exposures/access.py), one service (exposures/inventory.py), present. What one may not see
answers 404; coordinators see counts only."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from exposures import access
from exposures import inventory as inv
from exposures import inventory_selectors as selectors
from exposures.keys import details_decrypt
from exposures.models import SSVC, Asset, Inventory, InventoryImport
from review_portal.api import parse_input
from review_portal.api_fields import ModelSerializer

ID = r"\d+"
FORMATS = [("", "Detect from the content"), *Inventory.Format.choices]


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CycloneDX JSON/XML, SPDX JSON/tag-value, or CSV "
                                           "(vendor, product, version[, purl, cpe, name])")
    format = serializers.ChoiceField(choices=FORMATS, required=False, allow_blank=True,
                                     default="")


class InventoryCreateSerializer(UploadSerializer):
    name = serializers.CharField(max_length=200)
    default_exposure = serializers.ChoiceField(choices=SSVC.SystemExposure.choices,
                                               default=SSVC.SystemExposure.CONTROLLED)
    default_mission_impact = serializers.ChoiceField(
        choices=SSVC.MissionImpact.choices, default=SSVC.MissionImpact.MEF_SUPPORT_CRIPPLED)
    default_safety_impact = serializers.ChoiceField(choices=SSVC.SafetyImpact.choices,
                                                    default=SSVC.SafetyImpact.MARGINAL)


class ImportSerializer(ModelSerializer):
    class Meta:
        model = InventoryImport
        fields = ["id", "inventory", "format", "sha256", "size_bytes", "added", "updated",
                  "unchanged", "removed", "created_at"]
        read_only_fields = fields


class InventorySerializer(ModelSerializer):
    assets = serializers.IntegerField(source="live_assets", read_only=True)

    class Meta:
        model = Inventory
        fields = ["id", "name", "format", "default_exposure", "default_mission_impact",
                  "default_safety_impact", "assets", "created_at", "imported_at"]
        read_only_fields = fields


class AssetSerializer(ModelSerializer):
    name = serializers.SerializerMethodField()
    vendor = serializers.SerializerMethodField()
    product = serializers.SerializerMethodField()
    version = serializers.SerializerMethodField()
    purl = serializers.SerializerMethodField()
    cpe = serializers.SerializerMethodField()
    matchable = serializers.SerializerMethodField()

    class Meta:
        model = Asset
        fields = ["id", "inventory", "name", "vendor", "product", "version", "purl", "cpe",
                  "matchable", "exposure", "mission_impact", "safety_impact", "removed_at",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def _details(self, asset) -> dict:
        if not hasattr(asset, "_details"):
            asset._details = details_decrypt(asset.details_encrypted)
        return asset._details

    def get_name(self, asset) -> str:
        return self._details(asset).get("name", "")

    def get_vendor(self, asset) -> str:
        return self._details(asset).get("vendor", "")

    def get_product(self, asset) -> str:
        return self._details(asset).get("product", "")

    def get_version(self, asset) -> str:
        return self._details(asset).get("version", "")

    def get_purl(self, asset) -> str:
        return self._details(asset).get("purl", "")

    def get_cpe(self, asset) -> str:
        return self._details(asset).get("cpe", "")

    def get_matchable(self, asset) -> bool:
        return inv.asset_is_matchable(asset)


class AssetInputsSerializer(serializers.Serializer):
    exposure = serializers.ChoiceField(choices=SSVC.SystemExposure.choices, required=False)
    mission_impact = serializers.ChoiceField(choices=SSVC.MissionImpact.choices,
                                             required=False)
    safety_impact = serializers.ChoiceField(choices=SSVC.SafetyImpact.choices, required=False)


class InventoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       viewsets.GenericViewSet):
    """An operator's own inventories (a vetted operator's members only)."""

    lookup_value_regex = ID
    serializer_class = InventorySerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.inventories_with_counts(self.request.user)

    @extend_schema(request={"multipart/form-data": InventoryCreateSerializer},
                   responses={201: ImportSerializer})
    def create(self, request):
        data = parse_input(InventoryCreateSerializer, request)
        record = inv.inventory_create(
            actor=request.user, name=data["name"], uploaded_file=data["file"],
            fmt=data.get("format", ""), default_exposure=data["default_exposure"],
            default_mission_impact=data["default_mission_impact"],
            default_safety_impact=data["default_safety_impact"])
        return Response(ImportSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], responses=ImportSerializer(many=True))
    @extend_schema(methods=["post"], request={"multipart/form-data": UploadSerializer},
                   responses={201: ImportSerializer})
    @action(detail=True, methods=["get", "post"])
    def imports(self, request, pk=None):
        inventory = access.inventory_get_for_user(user=request.user, pk=pk)
        if request.method == "POST":
            data = parse_input(UploadSerializer, request)
            record = inv.inventory_import(actor=request.user, inventory=inventory,
                                          uploaded_file=data["file"],
                                          fmt=data.get("format", ""))
            return Response(ImportSerializer(record).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(inventory.imports.all())
        return self.get_paginated_response(ImportSerializer(page, many=True).data)


@extend_schema(parameters=[OpenApiParameter("inventory", OpenApiTypes.INT, required=False),
                           OpenApiParameter("removed", OpenApiTypes.BOOL, required=False)])
class AssetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """An operator's own assets, decrypted. ?inventory=<id>; ?removed=true for removed ones."""

    lookup_value_regex = ID
    serializer_class = AssetSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        if self.action != "list":
            return access.assets_visible_to(self.request.user)
        return selectors.assets_filtered(self.request.user, self.request.query_params)

    @extend_schema(request=AssetInputsSerializer, responses=AssetSerializer)
    def partial_update(self, request, pk=None):
        asset = access.asset_get_for_user(user=request.user, pk=pk)
        data = parse_input(AssetInputsSerializer, request)
        asset = inv.asset_inputs_set(actor=request.user, asset=asset, **data)
        return Response(AssetSerializer(asset).data)


class OperatorCountsSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(source="pk")
    organisation_name = serializers.CharField(source="name")
    inventories = serializers.IntegerField(source="inventory_count")
    assets = serializers.IntegerField(source="asset_count")


class InventoryCountsViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The program office's view: how many inventories and listed assets each operator has.
    No names of products, no inventories' names. Anyone else: an empty list."""

    serializer_class = OperatorCountsSerializer

    def get_queryset(self):
        return selectors.operator_counts(self.request.user)
