"""Probes. /healthz: the process answers (touches nothing else). /readyz: the database, the broker
and the cache answer, and in S3 mode the storage's bucket, each within CHECK_TIMEOUT_SECONDS.

Both need no login and are exempt from the second-factor gate. They say what failed, never
where: the reason names the kind of error, not hosts or ports (the details go to the log).
"""

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import connection, connections
from django.http import JsonResponse
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 2.0


def _no_store(response: JsonResponse) -> JsonResponse:
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def healthz(request):
    return _no_store(JsonResponse({"status": "ok"}))


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "SELECT 1 answered"


def check_broker() -> str:
    from review_portal.celery_app import app

    with app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=0)
        # A filesystem broker (the embedded default) "connects" whatever the state of its
        # folders; what matters there is that they can be written.
        options = app.conf.broker_transport_options or {}
        for key in ("data_folder_in", "data_folder_out", "control_folder"):
            folder = options.get(key)
            if folder and not os.access(folder, os.W_OK | os.X_OK):
                raise PermissionError(f"the broker's {key} is not writable")
        return "connected"


def check_cache() -> tuple[str, str]:
    key = f"readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    found = cache.get(key)
    cache.delete(key)
    if found != "ok":
        raise RuntimeError("a value written to the cache was not read back")
    if getattr(cache, "degraded", False):
        return "degraded", "Redis is unreachable; this process answers from its memory"
    return "ok", "set and get answered"


def check_storage() -> str:
    from review_portal.storage import check_reachable

    return check_reachable(CHECK_TIMEOUT_SECONDS)


CHECKS: dict[str, Callable] = {
    "database": check_database,
    "broker": check_broker,
    "cache": check_cache,
}


def _checks() -> dict[str, Callable]:
    """The bucket is checked only in S3 mode (one HEAD): the local folders are this host's disk,
    which the process already depends on to run at all."""
    from django.core.files.storage import storages

    from review_portal.storage import ARTIFACTS, is_s3

    if is_s3(storages[ARTIFACTS]):
        return {**CHECKS, "storage": check_storage}
    return CHECKS


def _run(name: str, check: Callable, answers: dict) -> None:
    started = time.monotonic()
    try:
        outcome = check()
        status, reason = outcome if isinstance(outcome, tuple) else ("ok", outcome)
    except Exception as exc:  # every failure is an answer here
        logger.warning("readyz: %s check failed: %s: %s", name, type(exc).__name__, exc)
        status, reason = "error", f"the {name} check failed ({type(exc).__name__})"
    finally:
        # Each check runs in its own thread, hence on its own database connection.
        connections.close_all()
    # One assignment, so a check that answers after the deadline cannot change a reply that
    # is being written.
    answers[name] = {"status": status, "reason": reason,
                     "ms": round((time.monotonic() - started) * 1000)}


@require_GET
def readyz(request):
    """200 when every component answers, else 503. A Redis cache that is down is "degraded",
    not an error: the portal works without it (review_portal/cache.py). The checks run at once,
    each given at most CHECK_TIMEOUT_SECONDS, so the probe answers within about that long."""
    answers: dict[str, dict] = {}
    checks = _checks()
    threads = [threading.Thread(target=_run, args=(name, check, answers), daemon=True,
                                name=f"readyz-{name}")
               for name, check in checks.items()]
    deadline = time.monotonic() + CHECK_TIMEOUT_SECONDS
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    components = {}
    for name in checks:
        answer = answers.get(name)
        if answer is None:  # still waiting: a hung connection is left to its daemon thread
            logger.warning("readyz: the %s check gave no answer within %g s", name,
                           CHECK_TIMEOUT_SECONDS)
            answer = {"status": "error", "reason": f"no answer within {CHECK_TIMEOUT_SECONDS:g} s",
                      "ms": round(CHECK_TIMEOUT_SECONDS * 1000)}
        components[name] = dict(answer)
    statuses = {answer["status"] for answer in components.values()}
    ready = "error" not in statuses
    status = "unavailable" if not ready else ("ok" if statuses == {"ok"} else "degraded")
    return _no_store(JsonResponse({"status": status, "components": components},
                                  status=200 if ready else 503))
