import logging

from evaluations import engine, simulated


def test_an_evaluation_leaves_the_process_logging_as_it_found_it(tmp_path):
    items = [{"id": f"q{i}", "input": f"Logging question {i}?", "choices": ["a", "b"],
              "target": "A", "category": "defense"} for i in range(3)]
    simulated.register_answer_key(items)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    before = list(root.handlers)

    outcome = engine.run_task(
        task=engine.build_task(items=items, solver="multiple_choice", scorer="choice"),
        task_args=None, spec=engine.ModelSpec(model="portalsim/log", identity="log",
                                              model_args={"levels": {"defense": 1.0}}),
        log_dir=tmp_path, metadata={}, limits={"max_samples": 3}, report=lambda done: False)

    assert outcome.status == "success"
    assert root.level == logging.INFO  # Celery's "Task ... succeeded" lines stay visible
    assert root.handlers == before
