"""Datetimes the API takes must say their time zone.

A datetime without one is ambiguous (the caller's local time? UTC?), and guessing UTC moves a
window or a release date by hours without telling anyone. The pages ask for the zone; the API
refuses a naive datetime with a 400 that says what to send. Every serializer and filter that
takes a datetime uses these: `StrictDateTimeField` directly, `ModelSerializer` for model fields
(its field mapping), `IsoDateTimeFilter` for query filters."""

from datetime import UTC

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_filters import filters as django_filters
from django_filters.fields import IsoDateTimeField
from rest_framework import serializers

NAIVE_DATETIME = "Include a time zone, e.g. 2026-12-01T09:00:00Z."


class StrictDateTimeField(serializers.DateTimeField):
    default_error_messages = {"naive": NAIVE_DATETIME}

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            self.fail("naive")
        return super().enforce_timezone(value)


class ModelSerializer(serializers.ModelSerializer):
    """The project's ModelSerializer: a model's DateTimeField is a StrictDateTimeField."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: StrictDateTimeField,
    }


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
