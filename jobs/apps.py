from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs: the outbox (recorded with the transaction, published by a relay), worker
    presence and the health of the queues."""

    name = "jobs"

    def ready(self) -> None:
        from jobs import signals  # noqa: F401 - marks jobs done when their task ends
