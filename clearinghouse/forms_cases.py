"""Forms for cases: they parse; the rules are in clearinghouse/cases.py and embargo.py."""

from django import forms

from accounts import time_zones
from accounts.models import Organisation
from clearinghouse.cases import CASE_STATE_FIELDS
from clearinghouse.models import ProductStatement, Remediation
from exposures.models import SSVC
from submissions.forms import LocalDateTimeInput, ZonedForm

TEXT = forms.Textarea(attrs={"rows": 3})


class CaseOpenForm(forms.Form):
    reports = forms.CharField(help_text="Report numbers, separated by commas (e.g. 12, 15).")
    title = forms.CharField(max_length=200, required=False,
                            help_text="Empty: the first report's title.")
    summary = forms.CharField(widget=TEXT, required=False,
                              help_text="Empty: the first report's description.")

    def clean_reports(self):
        try:
            ids = [int(part) for part in self.cleaned_data["reports"].replace(" ", "").split(",")
                   if part]
        except ValueError:
            raise forms.ValidationError("Give report numbers, separated by commas.") from None
        if not ids:
            raise forms.ValidationError("Give at least one report number.")
        return ids


class VendorAddForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.filter(kind=Organisation.Kind.VENDOR).order_by("name"),
        label="Vendor")


class CaseStateForm(forms.Form):
    field = forms.ChoiceField(choices=[(f, f.removesuffix("_at").replace("_", " ").capitalize())
                                       for f in CASE_STATE_FIELDS], label="Case state")
    reason = forms.CharField(required=False, widget=forms.TextInput(), label="Note")


class AssessmentForm(forms.Form):
    """The coordinator's SSVC assessment of one vulnerability (exposures/assessment.py)."""

    exploitation = forms.ChoiceField(choices=SSVC.Exploitation.choices, label="Exploitation")
    automatable = forms.ChoiceField(choices=SSVC.Automatable.choices, label="Automatable")
    reason = forms.CharField(max_length=2000, widget=forms.TextInput(), label="Evidence",
                             help_text="Why (the evidence for the assessment).")


class StatementForm(forms.Form):
    status = forms.ChoiceField(choices=ProductStatement.Status.choices)
    justification = forms.ChoiceField(
        choices=[("", "—")] + ProductStatement.Justification.choices, required=False,
        help_text="Required for known not affected (CSAF VEX justification).")
    reason = forms.CharField(widget=TEXT, required=False,
                             help_text="Required when disputed, and to change a settled status.")
    statement = forms.CharField(widget=TEXT, required=False, label="Statement")


class RemediationForm(forms.Form):
    category = forms.ChoiceField(choices=Remediation.Category.choices)
    details = forms.CharField(widget=TEXT)
    fixed_range = forms.CharField(required=False, max_length=300,
                                  help_text="A vers range, e.g. vers:pypi/>=1.4.2")
    url = forms.URLField(required=False, max_length=500, label="Download address",
                          assume_scheme="https")
    artifact_sha256 = forms.CharField(required=False, max_length=64, label="Artifact SHA-256")
    signature = forms.CharField(required=False, max_length=20000, widget=TEXT,
                                label="Signature",
                                help_text="The detached signature of the download (armored), "
                                          "if you sign it.")


class MessageForm(forms.Form):
    body = forms.CharField(widget=TEXT, label="Message")


class EmbargoForm(ZonedForm):
    """The end is typed in the chosen zone (datetime-local + zone) and stored in UTC."""

    ends_at = forms.DateTimeField(required=False, widget=LocalDateTimeInput(),
                                  label="Embargo ends",
                                  help_text="Empty: the program's default end.")
    reason = forms.CharField(widget=TEXT, required=False,
                             help_text="Required to change the end of an active embargo.")
    zoned_fields = ("ends_at",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["timezone"].choices = time_zones.choices()


class EmbargoExitForm(forms.Form):
    reason = forms.CharField(widget=TEXT)
