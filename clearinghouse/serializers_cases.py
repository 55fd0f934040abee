"""API serializers for cases: they parse and present; the rules are in clearinghouse/cases.py
and clearinghouse/embargo.py. Datetimes in must carry their offset (StrictDateTimeField: a
naive one is a 400)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts import policy
from clearinghouse import access
from clearinghouse.cases import CASE_STATE_FIELDS
from clearinghouse.models import (
    Case,
    CaseMessage,
    Embargo,
    EmbargoAcceptance,
    Participant,
    ProductStatement,
    Remediation,
    Vulnerability,
)
from review_portal.api_fields import ModelSerializer, StrictDateTimeField


class CaseListSerializer(ModelSerializer):
    class Meta:
        model = Case
        fields = ["id", "reference", "title", "status", "created_at"]
        read_only_fields = fields


class VulnerabilitySerializer(ModelSerializer):
    class Meta:
        model = Vulnerability
        fields = ["id", "title", "description", "cve_id", "cwe", "cvss_vector", "cvss_version",
                  "cvss_score", "cvss_severity", "exploitation"]
        read_only_fields = fields


class CaseSerializer(ModelSerializer):
    """The view sets `visible_vulnerabilities` (access.vulnerabilities_visible_to): only what
    the caller may see of the case's vulnerabilities."""

    vulnerabilities = VulnerabilitySerializer(many=True, read_only=True,
                                              source="visible_vulnerabilities")

    class Meta:
        model = Case
        fields = ["id", "reference", "title", "summary", "status", "vendor_aware_at",
                  "fix_ready_at", "fix_deployed_at", "public_at", "exploit_public_at",
                  "attacks_observed_at", "vulnerabilities", "created_at"]
        read_only_fields = fields


class CaseOpenSerializer(serializers.Serializer):
    # Ids past a 64-bit integer are refused here: SQLite cannot even look them up (a 500).
    reports = serializers.ListField(child=serializers.IntegerField(min_value=1,
                                                                   max_value=2**63 - 1),
                                    min_length=1,
                                    help_text="Numbers of valid or accepted reports in no case")
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)


class CaseStateSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=CASE_STATE_FIELDS)
    at = StrictDateTimeField(required=False, help_text="When it happened (default: now); "
                                                       "ISO 8601 with an offset")
    reason = serializers.CharField(required=False, allow_blank=True)


class ParticipantSerializer(ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Participant
        fields = ["id", "organisation", "organisation_name", "role", "confirmed", "notified_at",
                  "acknowledged_at", "reminded_7_at", "reminded_14_at", "no_response_at"]
        read_only_fields = fields


class VendorAddSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(help_text="A vendor organisation's number")


class RemediationSerializer(ModelSerializer):
    # Blank when the remediation has no download address: a URL field would promise a URI.
    url = serializers.CharField(read_only=True, help_text="Download address, or blank")

    class Meta:
        model = Remediation
        fields = ["id", "statement", "category", "details", "fixed_range", "url",
                  "artifact_sha256", "signature", "created_at"]
        read_only_fields = fields


class RemediationCreateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Remediation.Category.choices)
    details = serializers.CharField()
    fixed_range = serializers.CharField(required=False, allow_blank=True, max_length=300)
    url = serializers.URLField(required=False, allow_blank=True, max_length=500)
    artifact_sha256 = serializers.CharField(required=False, allow_blank=True, max_length=64)
    signature = serializers.CharField(required=False, allow_blank=True, max_length=20000,
                                      help_text="The vendor's detached signature of the "
                                                "download (armored), if it gives one")


class StatementSerializer(ModelSerializer):
    vendor_name = serializers.CharField(source="vendor.name", read_only=True)
    # "" unless known not affected: declared so the schema's enum holds the blank value.
    justification = serializers.ChoiceField(
        choices=[("", "None")] + ProductStatement.Justification.choices, read_only=True)
    remediations = RemediationSerializer(many=True, read_only=True)

    class Meta:
        model = ProductStatement
        fields = ["id", "vulnerability", "vendor", "vendor_name", "product_name", "purl", "cpe",
                  "version_range", "status", "justification", "reason", "statement",
                  "version", "updated_at", "remediations"]
        read_only_fields = fields


class StatementUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProductStatement.Status.choices)
    justification = serializers.ChoiceField(
        choices=ProductStatement.Justification.choices, required=False, allow_blank=True,
        help_text="Required for known_not_affected (CSAF VEX justification)")
    reason = serializers.CharField(required=False, allow_blank=True,
                                   help_text="Required for disputed, and to leave a settled status")
    statement = serializers.CharField(required=False, allow_blank=True)


class CaseMessageSerializer(ModelSerializer):
    """`author`: a username for the coordinator and the author's own organisation, else the
    author's part in the case (cases.thread_author_label); set by cases.thread_label."""

    author = serializers.CharField(source="author_label", read_only=True)

    class Meta:
        model = CaseMessage
        fields = ["id", "author", "body", "created_at"]
        read_only_fields = fields


class MessageCreateSerializer(serializers.Serializer):
    body = serializers.CharField()


class AcceptanceSerializer(ModelSerializer):
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = EmbargoAcceptance
        fields = ["organisation", "organisation_name", "status", "answered_at"]
        read_only_fields = fields


class EmbargoSerializer(ModelSerializer):
    """The coordinator sees every signatory's answer; anyone else only its own organisation's
    (other vendors' identities are not told), with the counts ("n of m accepted")."""

    acceptances = serializers.SerializerMethodField()
    acceptance_count = serializers.SerializerMethodField()
    accepted_count = serializers.SerializerMethodField()

    class Meta:
        model = Embargo
        fields = ["id", "status", "ends_at", "entered_time_zone", "proposed_ends_at",
                  "proposal_reason", "exit_reason", "exited_at", "status_changed_at",
                  "acceptances", "acceptance_count", "accepted_count"]
        read_only_fields = fields

    @extend_schema_field(AcceptanceSerializer(many=True))
    def get_acceptances(self, embargo):
        rows = embargo.acceptances.select_related("organisation")
        user = getattr(self.context.get("request"), "user", None)
        if not access.may_coordinate(user):
            rows = rows.filter(organisation_id=policy.organisation_id_of(user))
        return AcceptanceSerializer(rows, many=True).data

    def get_acceptance_count(self, embargo) -> int:
        return embargo.acceptances.count()

    def get_accepted_count(self, embargo) -> int:
        return embargo.acceptances.filter(status=EmbargoAcceptance.Status.ACCEPTED).count()


class EmbargoProposeSerializer(serializers.Serializer):
    ends_at = StrictDateTimeField(required=False, help_text=(
        "ISO 8601 with an offset (a naive time is refused); default: the program's default end"))
    time_zone = serializers.CharField(required=False, default="UTC",
                                      help_text="The IANA zone the end was meant in")
    reason = serializers.CharField(required=False, allow_blank=True,
                                   help_text="Required to revise an active embargo's end")


class EmbargoExitSerializer(serializers.Serializer):
    reason = serializers.CharField()
