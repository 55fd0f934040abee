"""The Inspect-in-Celery traps of docs/inspect-in-celery.md, each pinned."""

import asyncio

from django.conf import settings
from inspect_ai.model import ChatMessageUser, GenerateConfig

from evaluations import simulated
from evaluations.tasks import run_evaluation_task


def test_the_evaluation_task_has_a_hard_limit_and_no_soft_limit_and_survives_a_lost_worker():
    # A soft limit does not reliably stop Inspect: Inspect's own limits and our cancellation
    # bound the work, Celery's hard limit is only a backstop.
    assert run_evaluation_task.time_limit == settings.EVALUATION_HARD_TIME_LIMIT
    assert run_evaluation_task.soft_time_limit is None
    assert not hasattr(settings, "CELERY_TASK_SOFT_TIME_LIMIT")
    assert run_evaluation_task.acks_late and run_evaluation_task.reject_on_worker_lost


def test_the_simulated_model_reports_token_usage_so_inspect_never_downloads_a_tokenizer():
    simulated.register_answer_key([{"id": "u1", "input": "Usage question?",
                                    "choices": ["a", "b"], "target": "A",
                                    "category": "defense"}])
    model = simulated.SimulatedModelAPI(model_name="usage", levels={"defense": 1.0})
    output = asyncio.run(model.generate([ChatMessageUser(content="Usage question?")], [],
                                        "none", GenerateConfig()))
    assert output.completion == "ANSWER: A"
    assert output.usage is not None and output.usage.total_tokens > 0
