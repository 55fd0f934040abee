"""API serializers for reviews, conflicts, assignments, rubrics and policies: they parse and
present; the rules are in reviews/services.py. Only government users ever receive these."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from evaluations.models import Capability
from review_portal.api_fields import ModelSerializer
from reviews.models import ConflictOfInterest, PolicyRule, PolicyVersion, Review, RubricVersion
from submissions.models import Recommendation, ReviewerAssignment


class DimensionSerializer(serializers.Serializer):
    key = serializers.CharField(max_length=50)
    name = serializers.CharField(max_length=200)
    guidance = serializers.CharField(max_length=5_000)


class RubricSerializer(ModelSerializer):
    dimensions = DimensionSerializer(many=True, read_only=True)
    in_use = serializers.BooleanField(read_only=True, default=False,
                                      help_text="Used by a review: immutable")

    class Meta:
        model = RubricVersion
        fields = ["id", "number", "name", "dimensions", "is_active", "in_use", "created_at",
                  "activated_at"]
        read_only_fields = fields


class RubricWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    dimensions = DimensionSerializer(many=True)
    activate = serializers.BooleanField(required=False, default=False,
                                        help_text="Make it the active rubric (on creation)")


class PolicyRuleSerializer(ModelSerializer):
    kind = serializers.ChoiceField(PolicyRule.Kind.choices)
    category = serializers.ChoiceField(Capability.choices, required=False, allow_blank=True)

    class Meta:
        model = PolicyRule
        fields = ["id", "position", "kind", "category", "threshold", "citation"]
        read_only_fields = ["id", "position"]


class PolicySerializer(ModelSerializer):
    rules = PolicyRuleSerializer(many=True, read_only=True)
    in_use = serializers.BooleanField(read_only=True, default=False,
                                      help_text="A determination rests on it: immutable")

    class Meta:
        model = PolicyVersion
        fields = ["id", "number", "name", "notes", "is_active", "in_use", "rules", "created_at",
                  "activated_at"]
        read_only_fields = fields


class PolicyWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    rules = PolicyRuleSerializer(many=True)
    activate = serializers.BooleanField(required=False, default=False,
                                        help_text="Make it the active policy (on creation)")


class ConflictSerializer(ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    kind = serializers.ChoiceField(ConflictOfInterest.Kind.choices)

    class Meta:
        model = ConflictOfInterest
        fields = ["id", "reviewer", "organisation", "kind", "note", "declared_at"]
        read_only_fields = ["id", "reviewer", "organisation", "declared_at"]


class ConflictWriteSerializer(serializers.Serializer):
    organisation = serializers.CharField(max_length=200,
                                         help_text="The AI developer organisation's name")
    kind = serializers.ChoiceField(ConflictOfInterest.Kind.choices)
    note = serializers.CharField(max_length=5_000)


class AssignmentSerializer(ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)

    class Meta:
        model = ReviewerAssignment
        fields = ["id", "request", "reviewer", "is_lead", "assigned_at"]
        read_only_fields = fields


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5_000)


class ReviewSerializer(ModelSerializer):
    reviewer = serializers.CharField(source="reviewer.username", read_only=True)
    rubric_version = serializers.IntegerField(source="rubric_version.number", read_only=True)
    scores = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    # A draft has none yet: "" (what the write side accepts too), declared in the enum.
    recommendation = serializers.ChoiceField(Recommendation.choices, read_only=True,
                                             allow_blank=True)
    confidence = serializers.ChoiceField(Review.Confidence.choices, read_only=True,
                                         allow_blank=True)

    class Meta:
        model = Review
        fields = ["id", "request", "reviewer", "rubric_version", "status", "scores",
                  "recommendation", "confidence", "comments_for_developer", "internal_comments",
                  "created_at", "updated_at", "submitted_at"]
        read_only_fields = fields


class ReviewWriteSerializer(serializers.Serializer):
    request = serializers.IntegerField(required=False, help_text="On creation: the request")
    scores = serializers.DictField(child=serializers.IntegerField(min_value=0, max_value=4),
                                   required=False,
                                   help_text="{dimension key: 0–4}; all of them to submit")
    recommendation = serializers.ChoiceField(Recommendation.choices, required=False,
                                             allow_blank=True)
    confidence = serializers.ChoiceField(Review.Confidence.choices, required=False,
                                         allow_blank=True)
    comments_for_developer = serializers.CharField(required=False, allow_blank=True,
                                                   max_length=20_000)
    internal_comments = serializers.CharField(required=False, allow_blank=True,
                                              max_length=20_000)
    submit = serializers.BooleanField(required=False, default=False,
                                      help_text="Submit as well (final)")


class RunEvidenceSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="run_id")
    suite = serializers.CharField()
    suite_version = serializers.IntegerField()
    accuracy = serializers.FloatField()
    stderr = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField()
    meets = serializers.BooleanField(help_text="accuracy ≥ the rule's threshold")


class RuleResultSerializer(serializers.Serializer):
    rule = PolicyRuleSerializer()
    fired = serializers.BooleanField()
    has_evidence = serializers.BooleanField()
    runs = RunEvidenceSerializer(many=True)
    compute_flop = serializers.FloatField(allow_null=True)


class PolicyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    name = serializers.CharField()


class RecommendationSerializer(serializers.Serializer):
    request = serializers.IntegerField()
    policy = PolicyRefSerializer(allow_null=True)
    recommendation = serializers.ChoiceField(Recommendation.choices, allow_null=True)
    rules = RuleResultSerializer(source="results", many=True)
    runs = serializers.SerializerMethodField()
    missing_categories = serializers.ListField(child=serializers.CharField())

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_runs(self, obj) -> list[int]:
        return [run.pk for run in obj["runs"]]


class FeedbackSerializer(serializers.Serializer):
    reviewer = serializers.CharField(source="label", help_text='"Reviewer 1", "Reviewer 2"…')
    comments = serializers.CharField()
