"""The worker's consumer, reconnecting to a broker that came back within about two seconds.

Celery's own backs off from 2 s to 30 s between attempts, so after an outage of a minute a worker
could sit idle for half a minute after the broker returned. A reconnect attempt to a broker that
is down costs a refused connection, so trying every 0.5–2 s costs nothing worth saving.
"""

from celery.worker.consumer import Consumer as CeleryConsumer

RECONNECT = {"interval_start": 0.5, "interval_step": 0.5, "interval_max": 2.0}


class Consumer(CeleryConsumer):
    def ensure_connected(self, conn):
        ensure = conn.ensure_connection

        def ensure_quickly(*args, **kwargs):
            return ensure(*args, **{**RECONNECT, **kwargs})

        conn.ensure_connection = ensure_quickly
        return super().ensure_connected(conn)
