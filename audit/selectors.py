import django_filters
from django.db.models import QuerySet

from audit.models import AuditEvent
from review_portal.api_fields import IsoDateTimeFilter


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter(lookup_expr="startswith")
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="iexact")
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()
    # With a time zone: the API refuses a naive datetime rather than guess one.
    since = IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    until = IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = AuditEvent
        fields = ["action", "actor", "object_type", "object_id", "since", "until"]


def audit_events_filtered(*, params) -> AuditEventFilter:
    return AuditEventFilter(params, queryset=AuditEvent.objects.select_related("organisation"))


def audit_events_for_object(*, obj) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
