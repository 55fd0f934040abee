"""gunicorn settings for the portal's web processes (read automatically from the working folder).

Every request the web side serves is short: reads, writes through a service, and a row in the
database for anything a worker must do (evaluations run on the `evaluations` Celery queue, never
in a request, and web processes never import Inspect). The settings below follow from that.
Each can be overridden from the environment, parsed strictly: a typo stops the server at start.
"""

import os


def _int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise SystemExit(f"{name}={value} must be between {minimum} and {maximum}")
    return value


def _cores() -> int:
    # The CPUs this process may use (a container's cpuset), not the host's count.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# Where to listen: PORT is what container platforms set; 0.0.0.0 so the proxy can reach us.
bind = f"0.0.0.0:{_int('PORT', 8000, minimum=1, maximum=65535)}"

# gunicorn's own rule of thumb (2 x cores + 1) keeps the CPUs busy while some workers wait on
# the database. WEB_CONCURRENCY is the conventional override (Heroku, Render, the benchmark's 1).
workers = _int("WEB_CONCURRENCY", 2 * _cores() + 1, minimum=1, maximum=256)

# A few threads per worker (the gthread worker): a request waiting on PostgreSQL or Redis does
# not hold a whole process, and keep-alive connections are parked without a thread. Each thread
# may hold its own database connection (CONN_MAX_AGE), so workers x threads must stay well under
# PostgreSQL's max_connections (100 by default) summed over every web host.
threads = _int("GUNICORN_THREADS", 4, minimum=1, maximum=64)

# No request should take long now, so 30 s is a generous ceiling. With threads this is the
# liveness limit of a worker process (its main loop must check in); a worker that stops checking
# in is killed and replaced. Work that needs longer belongs on a Celery queue.
timeout = _int("GUNICORN_TIMEOUT", 30, minimum=5, maximum=300)

# On a restart or SIGTERM, requests in flight get this long to finish before the worker is
# killed. Compose's stop_grace_period for web is longer than this, so gunicorn, not Docker,
# decides when to give up.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1, maximum=300)

# Longer than the idle timeout of the proxy in front (nginx's upstream keepalive and most load
# balancers use 60 s), so the proxy closes idle connections, never gunicorn in the middle of the
# proxy reusing one (the race that shows up as occasional 502s).
keepalive = _int("GUNICORN_KEEPALIVE", 65, minimum=1, maximum=600)

# Replace each worker after about a thousand requests: bounds slow memory growth in any
# library, and the jitter keeps workers from all restarting at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 1000, minimum=0, maximum=1_000_000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 100, minimum=0, maximum=100_000)

# Load Django once in the master, then fork: workers share the imported code (copy-on-write, tens
# of MB per worker), a restarted worker is serving in milliseconds, and a broken setting stops
# the master at start instead of every worker failing in a loop (`when_ready` also imports the
# URLconf there, so a worker's first request does not). The price: code changes need a
# full restart (HUP does not reload the app), and nothing may open a connection before the fork
# (a socket shared by two processes corrupts both). Django opens database and cache connections
# lazily on first use; `pre_fork` below closes any that something opened anyway.
preload_app = True

# The heartbeat file is touched constantly; on a disk-backed /tmp (overlayfs in containers) that
# can stall a worker until it is killed. /dev/shm is memory (gunicorn's own advice).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108

# Logs go to the container's stdout/stderr, where the platform collects them. The access log
# adds the request time in microseconds (%(D)s) so slow endpoints are visible without a profiler.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(D)sus "%(a)s"'

# gunicorn's runtime control socket (gunicornc) defaults to a file under $HOME, which the image's
# user cannot write and which two servers of one user would share. Containers are managed with
# signals and restarts, so it stays off.
control_socket_disable = True


def when_ready(server):
    """Import the URLconf, and with it every view, API and service module, once in the master.
    Django would otherwise do it inside each new worker's first request (about 0.4 s here,
    measured by tests/benchmarks/bench_first_run_start.py); forked workers inherit it."""
    if preload_app:
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - importing is the point


def pre_fork(server, worker):
    """Close anything the master connected to while loading the app, so no child inherits it."""
    if preload_app:
        from django.core.cache import caches
        from django.db import connections

        connections.close_all()
        for cache in caches.all(initialized_only=True):
            cache.close()
