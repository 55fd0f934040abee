"""The relay: a thread in every worker's main process that publishes the outbox.

It needs only the database to find work and the broker to hand it over, so it goes on through a
broker outage (each pass fails fast and backs off) and publishes the backlog within about a
second of the broker's return. Several workers run one each; claims keep them from publishing a
row twice.
"""

import logging
import threading
import time

from django.db import close_old_connections, connection

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
REDELIVER_SWEEP_SECONDS = 30.0


PRESENCE_SECONDS = 5.0


class Relay(threading.Thread):
    """`presence`, when given, is the keyword arguments of `presence_beat` for the worker
    this thread runs in; it is written every PRESENCE_SECONDS."""

    def __init__(self, poll: float = POLL_SECONDS, presence: dict | None = None):
        super().__init__(name="outbox-relay", daemon=True)
        self.poll = poll
        self.presence = presence
        self.stopping = threading.Event()
        self.draining = threading.Event()

    def run(self) -> None:
        from jobs.services import (
            outbox_prune,
            outbox_redeliver_lost,
            outbox_relay_once,
            presence_beat,
        )

        last_sweep = last_presence = 0.0
        while not self.stopping.is_set() or self.draining.is_set():
            published = 0
            try:
                close_old_connections()
                if (self.presence and not self.draining.is_set()
                        and time.monotonic() - last_presence > PRESENCE_SECONDS):
                    presence_beat(**self.presence)
                    last_presence = time.monotonic()
                published = outbox_relay_once()
                if time.monotonic() - last_sweep > REDELIVER_SWEEP_SECONDS:
                    outbox_redeliver_lost()
                    outbox_prune()
                    last_sweep = time.monotonic()
            except Exception:  # the database is down: keep trying, never die
                logger.exception("outbox relay pass failed")
                connection.close()
            if self.draining.is_set() and not published:
                break
            self.stopping.wait(0 if published else self.poll)
        connection.close()

    def stop(self) -> None:
        self.stopping.set()

    def drain_and_stop(self) -> None:
        """Publish what is due now (a worker's hand-backs, written just before), then stop."""
        self.draining.set()
        self.stopping.set()
