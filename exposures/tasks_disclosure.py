"""Beat sweeps and jobs of targeted pre-disclosure (exposures/disclosure.py): thin and
idempotent (each step claims its rows under a row lock and re-reads them, so a re-run releases
or tells nothing twice)."""

from celery import shared_task


@shared_task(name="exposures.disclosure_sweep", acks_late=True, soft_time_limit=840,
             time_limit=900)
def disclosure_sweep_task() -> dict[str, int]:
    """Releases exposures whose pre-disclosure window opened or whose case became public, and
    tells urgent ones not yet told."""
    from exposures.disclosure import disclosure_sweep

    return disclosure_sweep()


@shared_task(name="exposures.digests_build", acks_late=True, soft_time_limit=840,
             time_limit=900)
def digests_build_task() -> int:
    """One digest notification per operator member per case, counts only."""
    from exposures.disclosure import digests_build

    return len(digests_build())


@shared_task(name="exposures.release_case", acks_late=True, soft_time_limit=840,
             time_limit=900)
def release_case_task(*, case_id: int) -> int:
    """The case became public: release its exposures to every matching operator."""
    from exposures.disclosure import exposures_release

    return len(exposures_release(case_id=case_id))
