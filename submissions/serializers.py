"""API serializers: they parse and present; the rules are in the services."""

from rest_framework import serializers

from accounts.policy import is_government
from review_portal.api_fields import AnnotatedCharField, ModelSerializer, StrictDateTimeField
from submissions.models import (
    AccessWindow,
    Artifact,
    ComputeMethod,
    Determination,
    FrontierModel,
    Message,
    Modality,
    ReviewRequest,
)


def _viewer_is_government(context) -> bool:
    return is_government(getattr(context.get("request"), "user", None))


class FrontierModelSerializer(ModelSerializer):
    organisation = AnnotatedCharField(source="organisation.name",
                                      annotation="list_organisation_name")
    modalities = serializers.ListField(child=serializers.ChoiceField(Modality.choices),
                                       allow_empty=False)
    compute_estimation_method = serializers.ChoiceField(ComputeMethod.choices)

    class Meta:
        model = FrontierModel
        fields = [
            "id", "organisation", "name", "version", "description", "modalities",
            "training_compute_flop", "compute_estimation_method", "compute_estimation_notes",
            "planned_partner_release_at", "planned_public_release_at", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "organisation", "created_at", "updated_at"]
        # Uniqueness is checked by the service, which answers 409 with a clear message.
        validators: list = []


class DeterminationSerializer(ModelSerializer):
    class Meta:
        model = Determination
        fields = ["id", "outcome", "rationale", "decided_at"]


class AgencyDeterminationSerializer(DeterminationSerializer):
    decided_by = serializers.CharField(source="decided_by.username")
    runs = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    reviews = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta(DeterminationSerializer.Meta):
        fields = DeterminationSerializer.Meta.fields + [
            "internal_notes", "decided_by", "policy_version", "recommendation", "overridden",
            "override_reason", "runs", "reviews"]


class ReviewRequestSerializer(ModelSerializer):
    model = serializers.PrimaryKeyRelatedField(read_only=True)
    model_label = AnnotatedCharField(source="model", annotation="list_model_label")  # str(model)
    determinations = serializers.SerializerMethodField()

    class Meta:
        model = ReviewRequest
        fields = ["id", "model", "model_label", "status", "cover_note", "created_at",
                  "submitted_at", "status_changed_at", "determinations"]
        read_only_fields = fields

    # A list prefetches each request's determinations into this attribute, a plain list
    # (obj.determinations.all() would build a manager and a queryset per row).
    PREFETCHED_DETERMINATIONS = "prefetched_determinations"

    def get_determinations(self, obj) -> list[dict]:
        # Internal notes only on the single-request answer, whose read is recorded; never in
        # lists, and never for the developer.
        detailed = _viewer_is_government(self.context) and not self.context.get("in_list")
        cls = AgencyDeterminationSerializer if detailed else DeterminationSerializer
        # One serializer for every row of a list (building one per row, with its fields, cost
        # more than the rest of the page).
        cached = getattr(self, "_determination_serializer", None)
        if cached is None or type(cached) is not cls:
            cached = self._determination_serializer = cls(context=self.context)
        determinations = getattr(obj, self.PREFETCHED_DETERMINATIONS, None)
        if determinations is None:
            determinations = obj.determinations.all()
        return [cached.to_representation(d) for d in determinations]


class ReviewRequestCreateSerializer(serializers.Serializer):
    model = serializers.IntegerField()
    cover_note = serializers.CharField(required=False, allow_blank=True, max_length=20_000)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5_000)


class DetermineSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(Determination.Outcome.choices)
    rationale = serializers.CharField(max_length=20_000)
    internal_notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    override_reason = serializers.CharField(
        required=False, allow_blank=True, max_length=20_000,
        help_text="Required when the outcome differs from the policy's recommendation")


class QuestionSerializer(serializers.Serializer):
    question = serializers.CharField(max_length=20_000)


class AssignSerializer(serializers.Serializer):
    reviewer = serializers.CharField(help_text="The reviewer's username")
    is_lead = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="Make them the lead; by default they lead when the request has no lead")


class MessageSerializer(ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = Message
        fields = ["id", "author", "from_agency", "body", "created_at"]
        read_only_fields = ["id", "author", "from_agency", "created_at"]

    def get_author(self, obj) -> str:
        # Developers see that the agency wrote, not which reviewer.
        if obj.from_agency and not _viewer_is_government(self.context):
            return "Agency reviewer"
        return obj.author.get_full_name() or obj.author.username


class ArtifactSerializer(ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Artifact
        fields = ["id", "kind", "filename", "content_type", "size_bytes", "sha256", "marking",
                  "uploaded_at", "download_url"]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return f"/api/v1/review-requests/{obj.request_id}/artifacts/{obj.pk}/download/"


class ArtifactUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(Artifact.Kind.choices)
    file = serializers.FileField(allow_empty_file=True)


class WindowSerializer(ModelSerializer):
    model = serializers.PrimaryKeyRelatedField(read_only=True)
    model_label = serializers.CharField(source="model", read_only=True)  # str(model)
    flagged = serializers.BooleanField(source="is_flagged", read_only=True)

    class Meta:
        model = AccessWindow
        fields = ["id", "model", "model_label", "kind", "status", "starts_at", "ends_at",
                  "flagged", "flag_reason", "created_at", "updated_at"]
        read_only_fields = fields


class WindowWriteSerializer(serializers.Serializer):
    model = serializers.IntegerField(required=False)
    starts_at = StrictDateTimeField()
    ends_at = StrictDateTimeField()

