"""Forms parse input for the review pages. They hold no business rules: the services do."""

from django import forms
from django.forms.utils import pretty_name

from evaluations.models import Capability
from reviews.models import SCORE_MAX, SCORE_MIN, ConflictOfInterest, PolicyRule, Review
from submissions.forms import AssignForm, DetermineForm
from submissions.models import Recommendation

SCORE_CHOICES = [("", "—")] + [(str(i), str(i)) for i in range(SCORE_MIN, SCORE_MAX + 1)]


class ConflictForm(forms.Form):
    organisation = forms.ModelChoiceField(queryset=None, label="AI developer organisation")
    kind = forms.ChoiceField(choices=ConflictOfInterest.Kind.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="What the conflict is. Program admins read this.")

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why you recuse")


class DeterminationForm(DetermineForm):
    override_reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Agency only. Required when your outcome differs from the policy's "
                  "recommendation (or the evidence is insufficient); leave empty to confirm it.")


class LeadAssignForm(AssignForm):
    is_lead = forms.BooleanField(required=False, label="Make them the lead reviewer",
                                 help_text="Without this, they lead only if nobody does yet.")


class ReviewForm(forms.Form):
    """One score field per dimension of the review's rubric, then the overall judgement."""

    recommendation = forms.ChoiceField(choices=[("", "—")] + list(Recommendation.choices),
                                       required=False, label="Overall recommendation")
    confidence = forms.ChoiceField(choices=[("", "—")] + list(Review.Confidence.choices),
                                   required=False)
    comments_for_developer = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="After the determination the developer may read these, signed "
                  "\"Reviewer 1\", \"Reviewer 2\"… never with your name.")
    internal_comments = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 4}),
                                        help_text="Agency only. The developer never sees these.")

    def __init__(self, *args, rubric, **kwargs):
        super().__init__(*args, **kwargs)
        self.dimensions = []
        for dimension in rubric.dimensions:
            name = f"score_{dimension['key']}"
            self.fields[name] = forms.ChoiceField(choices=SCORE_CHOICES, required=False,
                                                  label=dimension["name"],
                                                  help_text=dimension["guidance"])
            self.dimensions.append((dimension, name))
        self.order_fields([name for _, name in self.dimensions])

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "scores": {d["key"]: int(data[name]) for d, name in self.dimensions if data[name]},
            "recommendation": data["recommendation"],
            "confidence": data["confidence"],
            "comments_for_developer": data["comments_for_developer"],
            "internal_comments": data["internal_comments"],
        }


class VersionForm(forms.Form):
    name = forms.CharField(max_length=200)
    activate = forms.BooleanField(required=False, label="Make it the active version")


class PolicyForm(VersionForm):
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class OptionalRowForm(forms.Form):
    """A row of a formset that may be left empty. A row is blank when its text is empty and its
    lists are at their first option (what a browser posts for a row nobody touched): a blank row
    is ignored, wherever it is in the formset. A row filled in part gets one error naming what it
    lacks, on the first missing field, instead of "This field is required." on each."""

    row_label = "Row"

    def _is_blank_value(self, name: str, field: forms.Field) -> bool:
        value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
        if isinstance(field, forms.ChoiceField):
            first = next(iter(field.choices), ("", ""))[0]
            return value in ("", None, str(first))
        return value is None or str(value).strip() == ""

    def is_blank(self) -> bool:
        return all(self._is_blank_value(name, field) for name, field in self.fields.items()
                   if name not in (forms.formsets.DELETION_FIELD_NAME,
                                   forms.formsets.ORDERING_FIELD_NAME))

    def has_changed(self) -> bool:
        # A formset skips a row that may be empty (empty_permitted) and has not changed.
        return not self.is_blank()

    def full_clean(self):
        super().full_clean()
        if not self.is_bound or self.empty_permitted and not self.has_changed():
            return
        missing = [name for name, errors in self._errors.items()
                   if name in self.fields and all(e.code == "required"
                                                  for e in errors.as_data())]
        if not missing:
            return
        for name in missing:
            del self._errors[name]
        labels = [str(self.fields[name].label or pretty_name(name)).lower()
                  for name in missing]
        what = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
        # The summary names the row ("Rule 3, citation: ..."); the fieldset by the field does too.
        self.add_error(missing[0], f"This {self.row_label.lower()} is incomplete: fill in its "
                                   f"{what}, or clear the row to leave it out.")


class OptionalRowsFormSet(forms.BaseFormSet):
    """Every row may be left blank, the ones offered filled in too (on a post the formset has no
    initial rows to compare with): a blank row is ignored, not "required"."""

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "empty_permitted": True}


class DimensionForm(OptionalRowForm):
    row_label = "Dimension"
    key = forms.CharField(max_length=50, help_text="lower_case_with_underscores")
    name = forms.CharField(max_length=200)
    guidance = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}),
                               help_text="What 0 to 4 mean on this dimension")


class RuleForm(OptionalRowForm):
    row_label = "Rule"
    kind = forms.ChoiceField(choices=PolicyRule.Kind.choices)
    category = forms.ChoiceField(choices=[("", "— (compute rules)")] + list(Capability.choices),
                                 required=False)
    threshold = forms.FloatField(widget=forms.TextInput(),
                                 help_text="Accuracy 0–1, or FLOP such as 1e26")
    citation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))


DimensionFormSet = forms.formset_factory(DimensionForm, formset=OptionalRowsFormSet, extra=2,
                                         can_delete=True)
RuleFormSet = forms.formset_factory(RuleForm, formset=OptionalRowsFormSet, extra=2,
                                    can_delete=True)


def formset_rows(formset) -> list[dict]:
    """The filled, not deleted rows of a valid formset."""
    return [{k: v for k, v in form.cleaned_data.items() if k != "DELETE"}
            for form in formset.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")]
