"""Forms parse input for the pages. They hold no business rules: the services do."""

import zoneinfo
from datetime import datetime

from django import forms
from django.utils import timezone as django_timezone

from submissions.models import Artifact, ComputeMethod, Determination, Modality

TIMEZONE_CHOICES = [(tz, tz) for tz in sorted(zoneinfo.available_timezones())
                    if "/" in tz or tz == "UTC"]
_TIMEZONE_NAMES = frozenset(tz for tz, _ in TIMEZONE_CHOICES)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ZonedForm(forms.Form):
    """Datetimes typed in a chosen time zone, stored in UTC by the services. The zone starts as
    the one the page is shown in (the user's own, accounts/time_zones.py), and so do the
    datetimes the form shows (Django renders them in the current zone)."""

    timezone = forms.ChoiceField(choices=TIMEZONE_CHOICES, initial="UTC",
                                 help_text="The time zone of the dates above.")
    zoned_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = django_timezone.get_current_timezone_name()
        if current in _TIMEZONE_NAMES:
            self.fields["timezone"].initial = current

    def clean(self):
        cleaned = super().clean()
        tz_name = cleaned.get("timezone") or "UTC"
        tz = zoneinfo.ZoneInfo(tz_name)
        for name in self.zoned_fields:
            value = cleaned.get(name)
            if isinstance(value, datetime):
                cleaned[name] = value.replace(tzinfo=None).replace(tzinfo=tz)
        return cleaned


class FrontierModelForm(ZonedForm):
    name = forms.CharField(max_length=200)
    version = forms.CharField(max_length=50)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    modalities = forms.MultipleChoiceField(choices=Modality.choices,
                                           widget=forms.CheckboxSelectMultiple)
    training_compute_flop = forms.FloatField(
        label="Estimated training compute (FLOP)",
        help_text="Scientific notation is fine, for example 3e25.",
        widget=forms.TextInput())
    compute_estimation_method = forms.ChoiceField(choices=ComputeMethod.choices)
    compute_estimation_notes = forms.CharField(required=False,
                                               widget=forms.Textarea(attrs={"rows": 2}))
    planned_partner_release_at = forms.DateTimeField(label="Planned release to trusted partners",
                                                     widget=LocalDateTimeInput())
    planned_public_release_at = forms.DateTimeField(label="Planned public release",
                                                    widget=LocalDateTimeInput())
    zoned_fields = ("planned_partner_release_at", "planned_public_release_at")
    field_order = ["name", "version", "description", "modalities", "training_compute_flop",
                   "compute_estimation_method", "compute_estimation_notes",
                   "planned_partner_release_at", "planned_public_release_at", "timezone"]


class ReviewRequestForm(forms.Form):
    cover_note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                 help_text="What you want the reviewers to know.")


class ReasonForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class QuestionForm(forms.Form):
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class MessageForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}))


class DetermineForm(forms.Form):
    outcome = forms.ChoiceField(choices=Determination.Outcome.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                help_text="The developer reads this.")
    internal_notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                                     help_text="Agency only. The developer never sees these.")


class AssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(queryset=None)

    def __init__(self, *args, reviewers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = reviewers


class ArtifactForm(forms.Form):
    kind = forms.ChoiceField(choices=Artifact.Kind.choices)
    file = forms.FileField(allow_empty_file=True)


class WindowForm(ZonedForm):
    starts_at = forms.DateTimeField(label="Access starts", widget=LocalDateTimeInput())
    ends_at = forms.DateTimeField(label="Access ends", widget=LocalDateTimeInput())
    zoned_fields = ("starts_at", "ends_at")
    field_order = ["starts_at", "ends_at", "timezone"]
