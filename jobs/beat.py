"""Beat's scheduler, which also records that beat is alive (for the health page)."""

import logging
import os
import socket
import time

from celery.beat import PersistentScheduler
from django.utils import timezone

logger = logging.getLogger(__name__)
PRESENCE_SECONDS = 15.0


class RecordingScheduler(PersistentScheduler):
    _last_presence = 0.0
    _started_at = None

    def tick(self, *args, **kwargs):
        interval = super().tick(*args, **kwargs)
        if time.monotonic() - self._last_presence > PRESENCE_SECONDS:
            self._last_presence = time.monotonic()
            self._record()
        # Wake at least as often as presence is written.
        return min(interval, PRESENCE_SECONDS)

    def _record(self) -> None:
        from django.db import close_old_connections

        from jobs.services import presence_beat

        self._started_at = self._started_at or timezone.now()
        try:
            close_old_connections()
            presence_beat(name="beat", kind="beat", hostname=socket.gethostname(),
                          pid=os.getpid(), queues=[], concurrency=0,
                          started_at=self._started_at)
        except Exception:  # the database is down: beat goes on; the page shows it stale
            logger.exception("could not record beat's presence")
