from celery import shared_task


@shared_task(name="jobs.ping", acks_late=True, soft_time_limit=10, time_limit=20)
def ping_task(token: str = "") -> str:
    """Does nothing but finish: proves a path from an enqueue to a worker (the smoke run, the
    soak script, an operator checking a queue by hand)."""
    return token
