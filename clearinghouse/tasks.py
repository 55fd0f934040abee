"""Beat sweeps of the clearinghouse's cases: thin and idempotent (each service claims its work
with a conditional update or a row lock, so a re-run does nothing twice)."""

from celery import shared_task


@shared_task(name="clearinghouse.vendors_sweep_silent", acks_late=True, soft_time_limit=240,
             time_limit=300)
def vendors_sweep_silent_task() -> dict[str, list[int]]:
    """Reminds silent vendors at 7 and 14 days, marks them "no response" at 21."""
    from clearinghouse.cases import vendors_sweep_silent

    return vendors_sweep_silent()


@shared_task(name="clearinghouse.embargoes_sweep_ended", acks_late=True, soft_time_limit=240,
             time_limit=300)
def embargoes_sweep_ended_task() -> list[int]:
    """Exits the embargoes whose end passed."""
    from clearinghouse.embargo import embargoes_sweep_ended

    return embargoes_sweep_ended()


@shared_task(name="clearinghouse.provider_directory_write", acks_late=True, soft_time_limit=240,
             time_limit=300)
def provider_directory_write_task() -> str:
    """Writes /.well-known/csaf/ again from the published advisories (after a publication or a
    withdrawal). Idempotent: it always writes the whole directory from the database."""
    from clearinghouse.publication import provider_directory_write

    return str(provider_directory_write())
