from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    """Benchmark suites, evaluation runs with Inspect, rubric reviews (issue 3)."""

    name = "evaluations"
