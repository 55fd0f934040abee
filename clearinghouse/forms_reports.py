"""Forms for the intake pages. They parse; clearinghouse/intake.py decides."""

from django import forms

from clearinghouse.models import ProductClaim, Report, ReportArtifact, Verification, Vulnerability
from submissions.forms import LocalDateTimeInput, ZonedForm

TEXT = {"rows": 3}


class ReportForm(ZonedForm):
    title = forms.CharField(max_length=200,
                            help_text="Shown to the coordinator and, once valid, to the vendor. "
                                      "Never sent by email.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}))
    attacker = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                               label="Attacker", help_text="Who the attacker is.")
    capability = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                                 label="Capability held",
                                 help_text="What the attacker must already hold or reach.")
    trigger = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                              help_text="How the attacker sets the flaw off.")
    impact = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                             help_text="What breaks, what the attacker gains. Without all four "
                                       "the report is filed as needing more information and "
                                       "cannot become valid.")
    cwe = forms.CharField(max_length=20, label="CWE", help_text="e.g. CWE-787")
    cvss_vector = forms.CharField(max_length=300, label="CVSS vector",
                                  help_text="v3.1 or v4.0, e.g. "
                                            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    exploitation = forms.ChoiceField(choices=Vulnerability.Exploitation.choices)
    already_public = forms.BooleanField(required=False, label="Already public")
    reporter_deadline = forms.DateTimeField(required=False, widget=LocalDateTimeInput(),
                                            label="Your disclosure deadline (optional)")
    finder_model_name = forms.CharField(max_length=200, required=False,
                                        label="Model that found it",
                                        help_text="For AI-found reports.")
    finder_model_version = forms.CharField(max_length=100, required=False,
                                           label="Model version")
    harness = forms.CharField(max_length=200, required=False,
                              help_text="The harness or agent that ran the model.")
    evaluation_run = forms.IntegerField(required=False, widget=forms.HiddenInput())
    zoned_fields = ("reporter_deadline",)


class ProductForm(forms.Form):
    purl = forms.CharField(max_length=500, required=False, label="Package URL",
                           help_text="e.g. pkg:pypi/django")
    cpe = forms.CharField(max_length=500, required=False, label="CPE 2.3")
    vendor_name = forms.CharField(max_length=200, required=False, label="Vendor")
    product_name = forms.CharField(max_length=200, required=False, label="Product")
    version_range = forms.CharField(max_length=300, required=False, label="Affected versions",
                                    help_text="A vers range, e.g. vers:pypi/>=4.0|<4.2.3")


ProductFormSet = forms.formset_factory(ProductForm, extra=2, max_num=20, validate_max=True)


class TransitionForm(forms.Form):
    reason = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT))
    override_reason = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                                      label="Override reason",
                                      help_text="Only to validate without a reproduction or the "
                                                "vendor's confirmation.")
    close_reason = forms.ChoiceField(required=False,
                                     choices=[("", "—"), *Report.CloseReason.choices])
    duplicate_of = forms.IntegerField(required=False, label="Duplicate of report #")


class VerificationForm(forms.Form):
    method = forms.ChoiceField(choices=Verification.Method.choices)
    environment = forms.CharField(widget=forms.Textarea(attrs=TEXT),
                                  help_text="Image digest or build recipe, affected version.")
    runs = forms.IntegerField(min_value=1)
    successes = forms.IntegerField(min_value=0)
    result = forms.ChoiceField(choices=Verification.Result.choices)
    signature = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT),
                                help_text="Crash or output signature.")
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs=TEXT))


class ReportArtifactForm(forms.Form):
    kind = forms.ChoiceField(choices=ReportArtifact.Kind.choices)
    file = forms.FileField()


PRODUCT_FIELDS = [f.name for f in ProductClaim._meta.fields
                  if f.name in ProductForm.base_fields]
