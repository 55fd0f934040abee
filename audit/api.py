from django.core.exceptions import PermissionDenied
from rest_framework import mixins, serializers, viewsets

from accounts.selectors import is_program_admin
from audit.models import AuditEvent
from audit.selectors import AuditEventFilter


class AuditEventSerializer(serializers.ModelSerializer):
    organisation = serializers.CharField(source="organisation.name", default=None)

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor_label", "action", "object_type", "object_id",
                  "object_label", "organisation", "data"]


class AuditEventViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit trail, for program admins. Filter with ?action=, actor=, object_type=, since=."""

    serializer_class = AuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self):
        if not is_program_admin(self.request.user):
            raise PermissionDenied
        return AuditEvent.objects.select_related("organisation")

    @property
    def filter_backends(self):
        from django_filters.rest_framework import DjangoFilterBackend

        return [DjangoFilterBackend]
