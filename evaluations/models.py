"""Benchmark suites, the model under test's endpoint, and evaluation runs (Inspect).

Everything here is confidential to the government side: developers never see a suite, its items,
a run or its per-sample results. The one exception is the developer's own endpoint settings,
whose API key is encrypted at rest and never shown again.
"""

from django.conf import settings
from django.db import models


class Capability(models.TextChoices):
    VULNERABILITY_DISCOVERY = "vulnerability_discovery", "Vulnerability discovery"
    EXPLOIT_DEVELOPMENT = "exploit_development", "Exploit development"
    ATTACK_AUTOMATION = "attack_automation", "Attack automation"
    DEFENSE = "defense", "Defensive security knowledge"


class BenchmarkSuite(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SuiteVersion(models.Model):
    """One immutable version of a suite, identified by the SHA-256 of its canonical content."""

    class Source(models.TextChoices):
        DATASET = "dataset", "Dataset file"
        REGISTRY = "registry", "Installed Inspect task"

    class Solver(models.TextChoices):
        MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
        GENERATE = "generate", "Plain generation"
        CHAIN_OF_THOUGHT = "chain_of_thought", "Chain of thought"

    class Scorer(models.TextChoices):
        CHOICE = "choice", "Choice"
        MATCH = "match", "Match"
        INCLUDES = "includes", "Includes"
        MODEL_GRADED_QA = "model_graded_qa", "Model-graded QA"

    suite = models.ForeignKey(BenchmarkSuite, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices)
    # Dataset suites: [{"id", "input", "choices" (list or null), "target", "category"}, ...]
    items = models.JSONField(default=list, blank=True)
    solver = models.CharField(max_length=30, choices=Solver.choices, blank=True)
    scorer = models.CharField(max_length=30, choices=Scorer.choices, blank=True)
    grader_model = models.CharField(max_length=200, blank=True)
    # Registry suites: an installed Inspect task by registry name, with its arguments.
    registry_name = models.CharField(max_length=200, blank=True)
    task_args = models.JSONField(default=dict, blank=True)
    content_hash = models.CharField(max_length=64)
    # Derived from `items` once, at creation, so lists never load the items themselves.
    item_count = models.PositiveIntegerField(default=0)
    categories = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["suite__name", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["suite", "number"], name="unique_suite_version"),
        ]

    def __str__(self) -> str:
        return f"{self.suite.name} v{self.number}"



class EvaluationEndpoint(models.Model):
    """How the portal reaches the model under test: an OpenAI-compatible API, or the simulated
    model (offline demo and tests) whose capability level per category is set here."""

    class Kind(models.TextChoices):
        OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible API"
        SIMULATED = "simulated", "Simulated model (offline)"

    model = models.OneToOneField("submissions.FrontierModel", on_delete=models.CASCADE,
                                 related_name="evaluation_endpoint")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    base_url = models.URLField(blank=True)
    model_name = models.CharField(max_length=200)
    # Fernet token of the API key (review_portal.crypto); never rendered, logged or serialised.
    api_key_encrypted = models.TextField(blank=True)
    simulated_levels = models.JSONField(default=dict, blank=True)
    simulated_latency_ms = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.model}"

    @property
    def has_api_key(self) -> bool:
        return bool(self.api_key_encrypted)


class EvaluationRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    ACTIVE = (Status.QUEUED, Status.RUNNING)

    request = models.ForeignKey("submissions.ReviewRequest", on_delete=models.PROTECT,
                                related_name="evaluation_runs")
    suite_version = models.ForeignKey(SuiteVersion, on_delete=models.PROTECT,
                                      related_name="runs")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED,
                              db_index=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_by = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker")
    cancel_requested = models.BooleanField(default=False)
    samples_total = models.PositiveIntegerField(default=0)
    samples_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # {"overall": {"accuracy", "stderr", "n"}, "categories": {cat: {"accuracy", "stderr", "n"}}}
    metrics = models.JSONField(default=dict, blank=True)
    log_path = models.CharField(max_length=500, blank=True, help_text="Relative to the log root")
    # What is needed to reproduce the run.
    suite_hash = models.CharField(max_length=64)
    inspect_version = models.CharField(max_length=50, blank=True)
    model_identity = models.CharField(max_length=300)
    parameters = models.JSONField(default=dict, blank=True)
    # A reviewer asked for another run while one of the same suite was active.
    is_repeat = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="run_list_order")]
        constraints = [
            # One active run per request and suite version, unless asked for as a repeat: the
            # backstop for run_start's check under concurrency.
            models.UniqueConstraint(
                fields=["request", "suite_version"],
                condition=models.Q(status__in=["queued", "running"], is_repeat=False),
                name="one_active_run_per_suite_version"),
        ]

    def __str__(self) -> str:
        return f"Run #{self.pk} of {self.suite_version}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress_percent(self) -> int:
        if not self.samples_total:
            return 0
        return int(100 * self.samples_done / self.samples_total)


class SampleResult(models.Model):
    """One sample's score in one run. Written once, with the run's metrics, in one transaction."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="samples")
    sample_id = models.CharField(max_length=200)
    category = models.CharField(max_length=50)
    score = models.FloatField()
    answer = models.TextField(blank=True)
    target = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "sample_id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "sample_id"], name="one_result_per_sample"),
        ]

    def __str__(self) -> str:
        return f"{self.sample_id}: {self.score}"
