from django.db.models import F
from rest_framework import mixins, permissions, viewsets

from accounts.policy import is_program_admin
from audit.models import AuditEvent
from audit.selectors import AuditEventFilter
from review_portal.api_fields import AnnotatedCharField, FilterBackend, ModelSerializer
from review_portal.api_pagination import CursorListMixin


class AuditEventSerializer(ModelSerializer):
    organisation = AnnotatedCharField(source="organisation.name", default=None,
                                      allow_null=True, annotation="list_organisation_name")

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor_label", "action", "object_type", "object_id",
                  "object_label", "organisation", "data"]


class IsProgramAdmin(permissions.BasePermission):
    message = "The audit trail is for program admins."

    def has_permission(self, request, view) -> bool:
        return is_program_admin(request.user)


class AuditEventViewSet(CursorListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit trail, for program admins. Filter with ?action=, actor=, object_type=, since=."""

    serializer_class = AuditEventSerializer
    permission_classes = [permissions.IsAuthenticated, IsProgramAdmin]
    filter_backends = [FilterBackend]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        # What the list shows: the event's columns and, read in SQL, its organisation's name
        # (not the chain's hashes, not the actor's or the organisation's row).
        columns = [f for f in AuditEventSerializer.Meta.fields if f != "organisation"]
        return AuditEvent.objects.only(*columns).annotate(
            list_organisation_name=F("organisation__name"))
