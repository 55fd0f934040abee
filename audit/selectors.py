import re
from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import QuerySet

from audit import describe
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


ACTION_CODE = re.compile(r"^[a-z_]+\.[a-z_.]*$")


class ActionField(django_filters.fields.ChoiceField):
    """The action list; a code it does not list (a link made before, an action too new to be
    named) still filters, and is offered as itself so the list shows what filters."""

    def valid_value(self, value) -> bool:
        return super().valid_value(value) or bool(ACTION_CODE.match(str(value)))


class ActionFilter(django_filters.ChoiceFilter):
    field_class = ActionField


def _day_start(day) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


class AuditTrailPageFilter(AuditEventFilter):
    """The page's filters: an action chosen by its label (one code, or "Any …" for a code
    prefix), who by username, the kind of object and its number, and a range of days (UTC,
    both days included). `since` and `until` stay for links made before."""

    action = ActionFilter(choices=describe.action_choices, method="filter_action",
                          label="Action", empty_label="Any action")
    actor = django_filters.CharFilter(field_name="actor_label", lookup_expr="iexact",
                                      label="Who (username)")
    object_type = django_filters.ChoiceFilter(choices=describe.object_type_choices,
                                              label="Object", empty_label="Any object")
    object_id = django_filters.CharFilter(label="Object number")
    date_from = django_filters.DateFilter(method="filter_date_from", label="From (day)",
                                          widget=forms.DateInput(attrs={"type": "date"}))
    date_to = django_filters.DateFilter(method="filter_date_to", label="To (day)",
                                        widget=forms.DateInput(attrs={"type": "date"}))

    class Meta(AuditEventFilter.Meta):
        fields = ["action", "actor", "object_type", "object_id", "date_from", "date_to",
                  "since", "until"]

    @property
    def form(self):
        form = super().form
        field, value = form.fields["action"], self.data.get("action", "")
        if value and ACTION_CODE.match(value) and value not in {
                code for _group, options in describe.action_choices() for code, _ in options}:
            field.choices = [*field.choices, ("Other", [(value, value)])]
        return form

    def filter_action(self, queryset, name, value):
        if value.endswith("."):
            return queryset.filter(action__startswith=value)
        return queryset.filter(action=value)

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(created_at__gte=_day_start(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(created_at__lt=_day_start(value + timedelta(days=1)))


# The rows' sentences name the actor (a join, not a query per row).
PAGE_RELATED = ("organisation", "actor")


def audit_events_filtered(*, params) -> AuditEventFilter:
    return AuditEventFilter(params, queryset=AuditEvent.objects.select_related("organisation"))


def audit_trail_page_filtered(*, params) -> AuditTrailPageFilter:
    return AuditTrailPageFilter(params, queryset=AuditEvent.objects.select_related(
        *PAGE_RELATED))


def audit_events_for_object(*, obj) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
