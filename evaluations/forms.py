from django import forms

from evaluations.models import Capability, EvaluationEndpoint, SuiteVersion


class SuiteForm(forms.Form):
    suite_name = forms.CharField(max_length=200, help_text="A new name, or an existing suite's "
                                                           "name to add a version.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    file = forms.FileField(required=False, help_text="JSONL or CSV: input, choices, target, "
                                                     "category (and optional id).")
    solver = forms.ChoiceField(choices=[("", "—")] + SuiteVersion.Solver.choices, required=False)
    scorer = forms.ChoiceField(choices=[("", "—")] + SuiteVersion.Scorer.choices, required=False)
    grader_model = forms.CharField(required=False)
    registry_name = forms.CharField(required=False, help_text="Or: an installed Inspect task "
                                                              "by registry name.")
    task_args = forms.JSONField(required=False, help_text="Arguments of that task, as JSON.")


class EndpointForm(forms.Form):
    kind = forms.ChoiceField(choices=EvaluationEndpoint.Kind.choices)
    base_url = forms.URLField(required=False, assume_scheme="https",
                              help_text="OpenAI-compatible base URL, e.g. "
                                                        "https://models.example.com/v1")
    model_name = forms.CharField(max_length=200)
    api_key = forms.CharField(required=False, widget=forms.PasswordInput(render_value=False),
                              help_text="Stored encrypted and never shown again. Leave empty "
                                        "to keep the current key.")
    simulated_latency_ms = forms.IntegerField(required=False, min_value=0, initial=0)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in Capability.choices:
            self.fields[f"level_{value}"] = forms.FloatField(
                required=False, min_value=0, max_value=1, label=f"Simulated level: {label}")

    def levels(self) -> dict:
        return {value: self.cleaned_data[f"level_{value}"] for value, _ in Capability.choices
                if self.cleaned_data.get(f"level_{value}") is not None}


class RunStartForm(forms.Form):
    suite_version = forms.ModelChoiceField(queryset=None)
    repeat = forms.BooleanField(
        required=False, label="Run it again even if a run of this suite is queued or running")

    def __init__(self, *args, versions=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["suite_version"].queryset = versions
