"""Datetimes the API takes must say their time zone.

A datetime without one is ambiguous (the caller's local time? UTC?), and guessing UTC moves a
window or a release date by hours without telling anyone. The pages ask for the zone; the API
refuses a naive datetime with a 400 that says what to send. Every serializer and filter that
takes a datetime uses these: `StrictDateTimeField` directly, `ModelSerializer` for model fields
(its field mapping), `IsoDateTimeFilter` for query filters."""

import copy
from collections.abc import Mapping
from datetime import UTC, datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters import filters as django_filters
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import ISO_8601, relations, serializers
from rest_framework import fields as drf_fields
from rest_framework.settings import api_settings

NAIVE_DATETIME = "Include a time zone, e.g. 2026-12-01T09:00:00Z."


class StrictDateTimeField(serializers.DateTimeField):
    default_error_messages = {"naive": NAIVE_DATETIME}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


# Field classes whose representation of a value of exactly this Python type is the value itself
# (CharField: str(value), IntegerField: int(value)).
_AS_IS = {serializers.CharField: str, serializers.IntegerField: int}

_PLAIN, _AS_IS_KIND, _PK, _GENERIC, _DATETIME = range(5)
_DATETIME_FIELDS = (serializers.DateTimeField, StrictDateTimeField)


def _current_zone_is_utc() -> bool:
    zone = timezone.get_current_timezone()
    return zone is UTC or getattr(zone, "key", None) in ("UTC", "Etc/UTC")


class ModelSerializer(serializers.ModelSerializer):
    """The project's ModelSerializer: a model's DateTimeField is a StrictDateTimeField.

    `to_representation` gives exactly DRF's answer, cheaper (a list serializes one row after
    another with the same child serializer, so the per-field work adds up). Once per serializer
    it sorts the readable fields: a field read from one of the model's own columns is read with
    getattr (DRF's `get_attribute` walks `source_attrs`, calls callables, catches exceptions: a
    column's value is never callable and never missing), a CharField holding a str or an
    IntegerField holding an int is its own representation, and a foreign key's
    PrimaryKeyRelatedField is the column `<fk>_id` (what DRF's pk-only optimisation reads).
    A datetime in UTC, when the current zone is UTC, is its ISO 8601 form with "Z" (what
    DateTimeField gives after converting it to the same zone).
    Any other field (dotted sources, method fields, nested serializers, fields that override
    `get_attribute`) goes through DRF's own steps. tests/test_list_representation.py compares
    every list with DRF's generic answer."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: StrictDateTimeField,
    }

    # get_fields() builds every model field from the model's metadata (DRF's build_field,
    # uniqueness rules, extra kwargs) for each serializer instance, so once per request. It
    # depends on the class alone (Meta and declared fields), so it is built once per class
    # and each instance gets a deep copy, as DRF itself does with declared fields.
    _fields_by_class: dict = {}

    def get_fields(self):
        cls = type(self)
        prototype = ModelSerializer._fields_by_class.get(cls)
        if prototype is None:
            prototype = ModelSerializer._fields_by_class[cls] = super().get_fields()
        return copy.deepcopy(prototype)

    def _representation_plan(self) -> list[tuple]:
        plan = self.__dict__.get("_plan")
        if plan is not None:
            return plan
        model = getattr(getattr(self, "Meta", None), "model", None)
        columns = {}
        if model is not None:
            for f in model._meta.concrete_fields:
                columns[f.name] = f
        plan = []
        for field in self._readable_fields:
            column = columns.get(field.source) if len(field.source_attrs) == 1 else None
            kind = _GENERIC
            if column is not None:
                cls = type(field)
                if column.is_relation:
                    if (cls is relations.PrimaryKeyRelatedField and field.pk_field is None
                            and field.use_pk_only_optimization()):
                        kind, attr = _PK, column.attname
                elif cls in _AS_IS:
                    kind, attr = _AS_IS_KIND, column.attname
                elif (cls in _DATETIME_FIELDS and not hasattr(field, "timezone")
                      and not hasattr(field, "format")
                      and (api_settings.DATETIME_FORMAT or "").lower() == ISO_8601):
                    kind, attr = _DATETIME, column.attname
                elif type(field).get_attribute is drf_fields.Field.get_attribute:
                    kind, attr = _PLAIN, column.attname
            plan.append((kind, field.field_name, field,
                         attr if kind != _GENERIC else None, _AS_IS.get(type(field))))
        self.__dict__["_plan"] = plan
        return plan

    def to_representation(self, instance):
        if isinstance(instance, Mapping):  # DRF reads dictionaries by key
            return super().to_representation(instance)
        ret = {}
        utc = self.__dict__.get("_utc")  # whether the current zone is UTC, once per list
        for kind, name, field, attr, as_is in self._representation_plan():
            if kind == _GENERIC:  # DRF's Serializer.to_representation, for this field
                try:
                    attribute = field.get_attribute(instance)
                except drf_fields.SkipField:
                    continue
                check_for_none = (attribute.pk if isinstance(attribute, relations.PKOnlyObject)
                                  else attribute)
                ret[name] = None if check_for_none is None else field.to_representation(attribute)
                continue
            value = getattr(instance, attr)
            if kind == _DATETIME and type(value) is datetime and value.tzinfo is UTC:
                if utc is None:
                    utc = self.__dict__["_utc"] = _current_zone_is_utc()
                if utc:
                    text = value.isoformat()
                    ret[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
                    continue
            if value is None or kind == _PK or (kind == _AS_IS_KIND and type(value) is as_is):
                ret[name] = value
            else:
                ret[name] = field.to_representation(value)
        return ret


class AnnotatedCharField(serializers.CharField):
    """A read-only CharField read from the attribute `annotation` when the queryset annotated
    it (a list computes the text in SQL rather than loading the related row), from `source`
    otherwise (a single object). Both must give the same text: tests/test_list_representation.py
    compares a list with the same rows loaded whole."""

    def __init__(self, *, annotation: str, **kwargs):
        self.annotation = annotation
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        try:
            return instance.__dict__[self.annotation]
        except (KeyError, AttributeError):
            return super().get_attribute(instance)


def model_label_sql(prefix: str = "model__") -> Concat:
    """str(FrontierModel) in SQL: "<name> <version>"."""
    return Concat(F(f"{prefix}name"), Value(" "), F(f"{prefix}version"),
                  output_field=models.CharField())


class StrictIsoDateTimeField(IsoDateTimeField):
    def to_python(self, value):
        # The parent makes a naive value aware in the current zone: look before it does.
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and timezone.is_naive(parsed):
                raise DjangoValidationError(NAIVE_DATETIME, code="naive")
        result = super().to_python(value)
        if result is None:
            return None
        # In UTC, as the serializer field does: the database refuses offsets past 15:59
        # (Python allows 23:59), and a value at the calendar's edge may not convert at all.
        try:
            return result.astimezone(UTC)
        except OverflowError as exc:
            raise DjangoValidationError("Datetime out of range.", code="overflow") from exc


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StrictIsoDateTimeField


# Query parameters that page or format a list, never filter it.
_NOT_FILTERS = frozenset({"cursor", "page", "page_size", "format"})


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, which builds the FilterSet (a form bound to the query string,
    every filter's field validated) on every call. A call whose query string holds no filter
    (the first page of a list, the next pages by cursor) gets the list as it is without that
    work: with no filter given, the FilterSet leaves the queryset unchanged anyway."""

    def filter_queryset(self, request, queryset, view):
        if not set(request.query_params) - _NOT_FILTERS:
            return queryset
        return super().filter_queryset(request, queryset, view)
