from rest_framework import serializers

from evaluations.models import (
    BenchmarkSuite,
    EvaluationEndpoint,
    EvaluationRun,
    SampleResult,
    SuiteVersion,
)
from jobs.selectors import run_queue_notice, run_queue_notices
from review_portal.api_fields import ModelSerializer


class SuiteVersionSerializer(ModelSerializer):
    suite = serializers.CharField(source="suite.name")

    class Meta:
        model = SuiteVersion
        fields = ["id", "suite", "number", "source", "solver", "scorer", "grader_model",
                  "registry_name", "task_args", "content_hash", "categories", "item_count",
                  "created_at"]


class BenchmarkSuiteSerializer(ModelSerializer):
    versions = SuiteVersionSerializer(many=True, read_only=True)

    class Meta:
        model = BenchmarkSuite
        fields = ["id", "name", "description", "created_at", "versions"]


class SuiteCreateSerializer(serializers.Serializer):
    suite_name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True)
    file = serializers.FileField(required=False, help_text="JSONL or CSV dataset")
    solver = serializers.ChoiceField(SuiteVersion.Solver.choices, required=False)
    scorer = serializers.ChoiceField(SuiteVersion.Scorer.choices, required=False)
    grader_model = serializers.CharField(required=False, allow_blank=True)
    registry_name = serializers.CharField(required=False, allow_blank=True)
    task_args = serializers.JSONField(required=False)


class EndpointSerializer(ModelSerializer):
    """The key is write-only and never returned: only whether one is set."""

    api_key = serializers.CharField(write_only=True, required=False, allow_blank=True,
                                    style={"input_type": "password"})
    has_api_key = serializers.BooleanField(read_only=True)

    class Meta:
        model = EvaluationEndpoint
        fields = ["kind", "base_url", "model_name", "api_key", "has_api_key",
                  "simulated_levels", "simulated_latency_ms", "updated_at"]
        read_only_fields = ["has_api_key", "updated_at"]
        extra_kwargs = {"base_url": {"required": False}, "simulated_levels": {"required": False}}


class RunSerializer(ModelSerializer):
    suite_version = serializers.PrimaryKeyRelatedField(read_only=True)
    suite_label = serializers.CharField(source="suite_version", read_only=True)  # str()
    progress_percent = serializers.IntegerField(read_only=True)
    log_url = serializers.SerializerMethodField()
    queue_notice = serializers.SerializerMethodField(
        help_text="While queued: what the run waits for (the job queue, an evaluation "
                  "worker); null otherwise")

    class Meta:
        model = EvaluationRun
        fields = ["id", "request", "suite_version", "suite_label", "status", "samples_done",
                  "samples_total", "progress_percent", "cancel_requested", "attempts", "error",
                  "metrics", "created_at", "started_at", "finished_at", "suite_hash",
                  "inspect_version", "model_identity", "parameters", "log_url",
                  "queue_notice"]
        read_only_fields = fields

    @classmethod
    def for_runs(cls, runs, **kwargs) -> "RunSerializer":
        """Many runs, with their notices read at once (two queries, not two per run)."""
        runs = list(runs)
        context = {**kwargs.pop("context", {}), "queue_notices": run_queue_notices(runs=runs)}
        return cls(runs, many=True, context=context, **kwargs)

    def get_log_url(self, obj) -> str | None:
        return f"/api/v1/runs/{obj.pk}/log/" if obj.log_path else None

    def get_queue_notice(self, obj) -> str | None:
        notices = self.context.get("queue_notices")
        if notices is not None:
            return notices.get(obj.pk)
        return run_queue_notice(run=obj)


class RunStartSerializer(serializers.Serializer):
    request = serializers.IntegerField()
    suite_version = serializers.IntegerField()
    repeat = serializers.BooleanField(
        default=False, help_text="Start another run even though one of this suite version is "
                                 "queued or running for the request")


class RunStartedSerializer(RunSerializer):
    queue_state = serializers.ChoiceField(
        choices=["waiting", "queued"], read_only=True,
        help_text="waiting: recorded, but the job queue has not taken it yet (it will be "
                  "handed over automatically); queued: the job queue holds it")

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "queue_state"]
        read_only_fields = fields


class SampleResultSerializer(ModelSerializer):
    class Meta:
        model = SampleResult
        fields = ["sample_id", "category", "score", "answer", "target"]
