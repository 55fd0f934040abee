"""Matching's tasks: thin and idempotent. Each recomputes what the rows should say and writes
only the difference under a row lock on the vulnerability (exposures/matching.py), so a
redelivered job, a re-run or two workers at once leave the same rows: one per asset and
vulnerability."""

from celery import shared_task


@shared_task(name="exposures.refresh_vulnerability", acks_late=True, soft_time_limit=540,
             time_limit=600)
def refresh_vulnerability_task(*, vulnerability_id: int, cause: str = "") -> int:
    from exposures.matching import refresh_vulnerability

    return len(refresh_vulnerability(vulnerability_id=vulnerability_id, cause=cause))


@shared_task(name="exposures.refresh_inventory", acks_late=True, soft_time_limit=540,
             time_limit=600)
def refresh_inventory_task(*, inventory_id: int) -> int:
    from exposures.matching import refresh_inventory

    return len(refresh_inventory(inventory_id=inventory_id))


@shared_task(name="exposures.reprioritise_assets", acks_late=True, soft_time_limit=240,
             time_limit=300)
def reprioritise_assets_task(*, asset_ids: list[int]) -> int:
    from exposures.matching import reprioritise_assets

    return len(reprioritise_assets(asset_ids=asset_ids))
