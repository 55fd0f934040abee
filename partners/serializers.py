"""API serializers for partners: they parse and present; the rules are in partners/services.py."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from partners.models import AccessGrant, AccessRequest, GatewayClient, PartnerProfile
from review_portal.api_fields import AnnotatedCharField, ModelSerializer, StrictDateTimeField


def _viewer(serializer):
    """The user a serializer answers; None (sees the least) when no request is in context."""
    request = serializer.context.get("request")
    return getattr(request, "user", None)


PARTNER_DETAILS_NOTE = "Null unless you are a program admin or a member of this organisation."


def _partner_detail(help_text: str):
    return serializers.CharField(read_only=True, allow_null=True,
                                 help_text=f"{help_text}. {PARTNER_DETAILS_NOTE}")


class PartnerApplySerializer(ModelSerializer):
    """What a partner organisation sends when it applies."""

    class Meta:
        model = PartnerProfile
        fields = ["sector", "protects", "contact_name", "contact_email", "contact_phone",
                  "justification"]


class PartnerProfileSerializer(ModelSerializer):
    """A partner organisation as the caller may see it: everyone who sees it gets its name,
    number, sector and status; contact details, what it protects and its vetting file only
    program admins and the organisation itself (accounts.policy.sees_partner_details)."""

    DETAILS = ("protects", "contact_name", "contact_email", "contact_phone", "justification",
               "status_reason")

    organisation = serializers.CharField(source="organisation.name", read_only=True)
    organisation_id = serializers.IntegerField(
        read_only=True, help_text="The number a developer invites the organisation with")
    protects = _partner_detail("What the organisation protects")
    contact_name = _partner_detail("The organisation's contact")
    contact_email = _partner_detail("The contact's email")
    contact_phone = _partner_detail("The contact's phone")
    justification = _partner_detail("Why it applied")
    status_reason = _partner_detail("The program office's reason for the status")

    class Meta:
        model = PartnerProfile
        fields = ["id", "organisation", "organisation_id", "sector", "protects", "contact_name",
                  "contact_email", "contact_phone", "justification", "status", "status_reason",
                  "status_changed_at", "created_at"]
        read_only_fields = fields

    def to_representation(self, profile):
        from accounts.policy import sees_partner_details

        data = super().to_representation(profile)
        if not sees_partner_details(_viewer(self), profile):
            for name in self.DETAILS:
                data[name] = None
        return data


class AccessRequestSerializer(ModelSerializer):
    model_label = serializers.CharField(source="model", read_only=True)  # str(model)
    organisation = serializers.CharField(source="organisation.name", read_only=True)
    requested_by = serializers.CharField(source="requested_by.username", read_only=True)
    developer_approved_by = serializers.CharField(
        source="developer_approved_by.username", read_only=True, default=None, allow_null=True,
        help_text="The developer member who approved; null until the developer approves")
    agency_approved_by = serializers.SerializerMethodField(
        help_text='Who approved for the agency: "The agency" for developers and partners (the '
                  "program never tells them who reviewed), the reviewer's username for program "
                  "admins and agency reviewers; null until the agency approves")

    class Meta:
        model = AccessRequest
        fields = ["id", "model", "model_label", "organisation", "requested_by", "invited",
                  "starts_at", "ends_at", "justification", "status", "developer_approved_by",
                  "developer_approved_at", "agency_approved_by", "agency_approved_at",
                  "denial_reason", "reconsidered_at", "created_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_agency_approved_by(self, access_request) -> str | None:
        from partners.selectors import agency_approver_label

        return agency_approver_label(user=_viewer(self), access_request=access_request)


class AccessRequestCreateSerializer(serializers.Serializer):
    model = serializers.IntegerField()
    starts_at = StrictDateTimeField()
    ends_at = StrictDateTimeField()
    justification = serializers.CharField()
    organisation = serializers.IntegerField(required=False,
                                            help_text="Partner organisation a developer invites")


class AccessGrantSerializer(ModelSerializer):
    model_label = AnnotatedCharField(source="model", annotation="list_model_label")  # str(model)
    organisation = AnnotatedCharField(source="organisation.name",
                                      annotation="list_organisation_name")
    is_live = serializers.SerializerMethodField()

    class Meta:
        model = AccessGrant
        fields = ["id", "request", "model", "model_label", "organisation", "starts_at",
                  "ends_at", "token_hint", "is_live", "revoked_at", "revoke_reason",
                  "created_at"]
        read_only_fields = fields

    def get_is_live(self, grant) -> bool:
        from accounts.policy import NOT_READ, grant_is_live

        # The list reads the organisation's vetting status in SQL (partners.api), not its row.
        return grant_is_live(grant, partner_status=grant.__dict__.get("list_partner_status",
                                                                      NOT_READ))


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
    created_at = StrictDateTimeField()


class IntrospectRequestSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The partner's (frg_…) or government window's "
                                            "(fgw_…) token.")
    token_type_hint = serializers.CharField(required=False,
                                            help_text="Ignored (RFC 7662 §2.1 allows it).")


class IntrospectResponseSerializer(serializers.Serializer):
    """RFC 7662 §2.2; the portal's own names (model, organisation, grant, window) are extension
    members. An inactive token answers `{"active": false}` alone."""

    active = serializers.BooleanField()
    scope = serializers.CharField(required=False, help_text="Always `model:invoke`.")
    client_id = serializers.CharField(required=False,
                                      help_text="`grant:<id>` or `window:<id>`.")
    token_type = serializers.CharField(required=False, help_text="`Bearer`.")
    sub = serializers.CharField(required=False,
                                help_text="The organisation holding the token: "
                                          "`organisation:<id>`.")
    aud = serializers.CharField(required=False, help_text="The model: `model:<id>`.")
    iat = serializers.IntegerField(required=False, help_text="When the token was issued.")
    nbf = serializers.IntegerField(required=False, help_text="The window's start.")
    exp = serializers.IntegerField(required=False, help_text="The window's end.")
    iss = serializers.CharField(required=False, help_text="The portal (PORTAL_BASE_URL).")
    model = serializers.IntegerField(required=False)
    organisation = serializers.CharField(required=False)
    grant = serializers.IntegerField(required=False)
    window = serializers.IntegerField(required=False)


# --- the developer's model gateway ---------------------------------------------------------

class GatewayClientSerializer(ModelSerializer):
    """A gateway client of the caller's developer organisation: never its secret or the hash."""

    status = serializers.SerializerMethodField(help_text="`active`, or `revoked` (for good).")

    class Meta:
        model = GatewayClient
        fields = ["id", "name", "client_id", "secret_hint", "status", "created_at", "rotated_at",
                  "last_used_at", "revoked_at"]
        read_only_fields = fields
        extra_kwargs = {"secret_hint": {"help_text": "The secret's first characters, to tell "
                                                     "secrets apart."}}

    def get_status(self, client) -> str:
        return "revoked" if client.revoked_at is not None else "active"


class GatewayClientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, help_text="So you recognise the gateway later.")


class GatewayClientSecretSerializer(serializers.Serializer):
    client = GatewayClientSerializer()
    client_secret = serializers.CharField(help_text="Shown once, in this answer; only its "
                                                    "SHA-256 is stored.")


class ModelGatewaySerializer(serializers.Serializer):
    model = serializers.IntegerField(help_text="The model's id.")
    url = serializers.CharField(allow_null=True, help_text="The address the developer "
                                "published, or null when none is.")
    published_at = StrictDateTimeField(allow_null=True)
    address = serializers.CharField(help_text="Where partners call the model: the published "
                                    "address, else the portal's reference gateway (GATEWAY_URL).")


class ModelGatewaySetSerializer(serializers.Serializer):
    url = serializers.CharField(allow_blank=True, max_length=500,
                                help_text="The gateway's http(s) base URL; blank withdraws it.")
