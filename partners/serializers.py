"""API serializers for partners: they parse and present; the rules are in partners/services.py."""

from rest_framework import serializers

from partners.models import AccessGrant, AccessRequest, PartnerProfile


class PartnerProfileSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = PartnerProfile
        fields = ["id", "organisation", "sector", "protects", "contact_name", "contact_email",
                  "contact_phone", "justification", "status", "status_reason",
                  "status_changed_at", "created_at"]
        read_only_fields = ["id", "organisation", "status", "status_reason",
                            "status_changed_at", "created_at"]


class AccessRequestSerializer(serializers.ModelSerializer):
    model_label = serializers.CharField(source="model.__str__", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    developer_approved_by = serializers.CharField(source="developer_approved_by.username",
                                                  read_only=True, default=None)
    agency_approved_by = serializers.CharField(source="agency_approved_by.username",
                                               read_only=True, default=None)

    class Meta:
        model = AccessRequest
        fields = ["id", "model", "model_label", "organisation", "requested_by", "invited",
                  "starts_at", "ends_at", "justification", "status", "developer_approved_by",
                  "developer_approved_at", "agency_approved_by", "agency_approved_at",
                  "denial_reason", "reconsidered_at", "created_at"]
        read_only_fields = fields


class AccessRequestCreateSerializer(serializers.Serializer):
    model = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    justification = serializers.CharField()
    organisation = serializers.IntegerField(required=False,
                                            help_text="Partner organisation a developer invites")


class AccessGrantSerializer(serializers.ModelSerializer):
    model_label = serializers.CharField(source="model.__str__", read_only=True)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    is_live = serializers.SerializerMethodField()

    class Meta:
        model = AccessGrant
        fields = ["id", "request", "model", "model_label", "organisation", "starts_at",
                  "ends_at", "token_hint", "is_live", "revoked_at", "revoke_reason",
                  "created_at"]
        read_only_fields = fields

    def get_is_live(self, grant) -> bool:
        from partners.selectors import grant_is_live

        return grant_is_live(grant)


class TokenSerializer(serializers.Serializer):
    grant = AccessGrantSerializer()
    token = serializers.CharField(help_text="Shown once; only its SHA-256 is stored.")


class TermsSetSerializer(serializers.Serializer):
    text = serializers.CharField()


class TermsAcceptSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    accepted_name = serializers.CharField()


class TermsSerializer(serializers.Serializer):
    model = serializers.IntegerField(source="model_id")
    version = serializers.IntegerField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


class IntrospectRequestSerializer(serializers.Serializer):
    token = serializers.CharField()


class IntrospectResponseSerializer(serializers.Serializer):
    active = serializers.BooleanField()
    model = serializers.IntegerField(required=False)
    organisation = serializers.CharField(required=False)
    exp = serializers.IntegerField(required=False)
