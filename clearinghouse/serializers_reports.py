"""API serializers for the intake: they parse and present; clearinghouse/intake.py decides (the
CVSS vector, CWE, package URLs, CPEs and vers ranges are checked there, for every interface)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import policy
from clearinghouse import access, intake_selectors
from clearinghouse.models import (
    DuplicateCandidate,
    ProductClaim,
    Report,
    ReportArtifact,
    Verification,
    Vulnerability,
)
from review_portal.api_fields import ModelSerializer, StrictDateTimeField


def _viewer(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class ProductClaimSerializer(ModelSerializer):
    purl = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                 help_text="A package URL, e.g. pkg:pypi/django")
    cpe = serializers.CharField(required=False, allow_blank=True, max_length=500,
                                help_text="A CPE 2.3 string")
    vendor_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    product_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    version_range = serializers.CharField(required=False, allow_blank=True, max_length=300,
                                          help_text="A vers range, e.g. vers:pypi/>=4.0|<4.2.3")

    class Meta:
        model = ProductClaim
        fields = ["purl", "purl_key", "cpe", "cpe_key", "vendor_name", "product_name",
                  "version_range"]
        read_only_fields = ["purl_key", "cpe_key"]


class ReportCreateSerializer(serializers.Serializer):
    """What a reporter sends. A missing threat model is accepted (the report then needs more
    information and cannot become valid); the rest is checked by the service."""

    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    attacker = serializers.CharField(required=False, allow_blank=True, default="")
    capability = serializers.CharField(required=False, allow_blank=True, default="")
    trigger = serializers.CharField(required=False, allow_blank=True, default="")
    impact = serializers.CharField(required=False, allow_blank=True, default="")
    products = ProductClaimSerializer(many=True, required=False, default=list)
    cwe = serializers.CharField(max_length=20, help_text="CWE-<number>")
    cvss_vector = serializers.CharField(max_length=300, help_text="CVSS v3.1 or v4.0 vector")
    exploitation = serializers.ChoiceField(Vulnerability.Exploitation.choices, default="none")
    already_public = serializers.BooleanField(default=False)
    reporter_deadline = StrictDateTimeField(required=False, allow_null=True, default=None)
    finder_model = serializers.IntegerField(required=False, allow_null=True, default=None,
                                            help_text="The portal's id of the model that found it")
    finder_model_name = serializers.CharField(required=False, allow_blank=True, default="",
                                              max_length=200)
    finder_model_version = serializers.CharField(required=False, allow_blank=True, default="",
                                                 max_length=100)
    evaluation_run = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text="The evaluation run that found it; pre-fills the model and harness")
    harness = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


def person_label(viewer, person) -> str | None:
    """A government member is "The agency" to anyone outside the government (the
    reviewer-anonymity rule); anyone else by username."""
    if person is None:
        return None
    if policy.is_government_member(person) and not policy.sees_agency_identities(viewer):
        return "The agency"
    return person.username


class VerificationSerializer(ModelSerializer):
    verified_by = serializers.SerializerMethodField(
        help_text='The verifier\'s username; "The agency" outside the government')

    class Meta:
        model = Verification
        fields = ["id", "report", "method", "environment", "runs", "successes", "result",
                  "signature", "notes", "verified_by", "created_at"]
        read_only_fields = ["id", "report", "verified_by", "created_at"]

    def get_verified_by(self, verification) -> str | None:
        return person_label(_viewer(self), verification.verified_by)


class ReportArtifactSerializer(ModelSerializer):
    class Meta:
        model = ReportArtifact
        fields = ["id", "report", "kind", "filename", "content_type", "size_bytes", "sha256",
                  "uploaded_at"]
        read_only_fields = fields


class ReportArtifactUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(ReportArtifact.Kind.choices)
    file = serializers.FileField(allow_empty_file=True)


class DuplicateCandidateSerializer(ModelSerializer):
    class Meta:
        model = DuplicateCandidate
        fields = ["candidate", "kind", "score", "created_at"]
        read_only_fields = fields


class YieldSerializer(serializers.Serializer):
    filed = serializers.IntegerField()
    decided = serializers.IntegerField()
    found_valid = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True,
                                       help_text="found_valid / decided, null before a decision")


class ReportSerializer(ModelSerializer):
    """A report as the caller may see it. Duplicate candidates and the reporter's yield are
    the coordinator's only (null for anyone else)."""

    organisation = serializers.CharField(source="organisation.name", read_only=True)
    products = serializers.SerializerMethodField(
        help_text="The affected products; a vendor sees only its own")
    has_threat_model = serializers.BooleanField(read_only=True)
    reaches_vendors = serializers.SerializerMethodField()
    human_validated_by = serializers.SerializerMethodField(
        help_text='Who validated it as a person; "The agency" for a government member seen '
                  "from outside the government; null until someone does")
    candidates = serializers.SerializerMethodField()
    reporter_yield = serializers.SerializerMethodField()
    # Blank until the report is valid / closed: plain strings, so the schema allows "".
    valid_basis = serializers.CharField(
        read_only=True, help_text='reproduction, vendor_confirmation, coordinator_override or ""')
    close_reason = serializers.CharField(
        read_only=True, help_text="coordinated, duplicate, not_a_vulnerability, out_of_scope, "
                                  'fabricated, withdrawn or ""')

    class Meta:
        model = Report
        fields = ["id", "organisation", "channel", "title", "description", "attacker",
                  "capability", "trigger", "impact", "has_threat_model", "products", "cwe",
                  "cvss_vector", "cvss_version", "cvss_score", "cvss_severity", "exploitation",
                  "already_public", "reporter_deadline", "ai_found", "finder_model",
                  "finder_model_name", "finder_model_version", "evaluation_run", "harness",
                  "human_validated_by", "human_validated_at", "status", "needs_more_info",
                  "valid_basis", "close_reason", "status_reason", "status_changed_at",
                  "duplicate_of", "case", "reaches_vendors", "candidates", "reporter_yield",
                  "created_at"]
        read_only_fields = fields

    def get_human_validated_by(self, report) -> str | None:
        return person_label(_viewer(self), report.human_validated_by)

    @extend_schema_field(ProductClaimSerializer(many=True))
    def get_products(self, report) -> list:
        return ProductClaimSerializer(access.product_claims_visible_to(_viewer(self), report),
                                      many=True).data

    def get_reaches_vendors(self, report) -> bool:
        return access.report_reaches_vendors(report)

    def get_candidates(self, report) -> list[dict] | None:
        user = _viewer(self)
        if not policy.is_clearinghouse_coordinator(user):
            return None
        return DuplicateCandidateSerializer(intake_selectors.candidates_for(user, report),
                                            many=True).data

    def get_reporter_yield(self, report) -> dict | None:
        if not policy.is_clearinghouse_coordinator(_viewer(self)):
            return None
        return YieldSerializer(intake_selectors.yield_of(report.organisation_id)).data


class ReportListSerializer(ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Report
        fields = ["id", "organisation", "title", "cwe", "cvss_score", "cvss_severity",
                  "ai_found", "status", "needs_more_info", "created_at"]
        read_only_fields = fields


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    override_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000,
        help_text="validate only: the coordinator's written reason to validate without a "
                  "reproduction or the vendor's confirmation")
    close_reason = serializers.ChoiceField(Report.CloseReason.choices, required=False,
                                           allow_blank=True, default="",
                                           help_text="close only")
    duplicate_of = serializers.IntegerField(required=False, allow_null=True, default=None,
                                            help_text="close as duplicate: the original report")


class ReporterYieldSerializer(serializers.Serializer):
    organisation_id = serializers.IntegerField(source="pk")
    organisation = serializers.CharField(source="name")
    filed = serializers.IntegerField()
    decided = serializers.IntegerField()
    found_valid = serializers.IntegerField()
    percent = serializers.SerializerMethodField()

    def get_percent(self, organisation) -> int | None:
        decided = organisation.decided
        return round(100 * organisation.found_valid / decided) if decided else None
