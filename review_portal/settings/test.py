"""Tests: PostgreSQL and Redis when DATABASE_URL / CELERY_BROKER_URL are set, else embedded."""

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from cryptography.fernet import Fernet

from audit.signing import generate_private_key


def _redis_database(url: str) -> int:
    return int(urlsplit(url).path.strip("/") or 0)


def _own_redis_databases(urls: dict[str, str], worker: int) -> dict[str, str]:
    """The Redis URLs (broker, cache) for test process number `worker`: the first keeps them,
    each later one takes databases no other process uses, counting down from 15 past the
    given ones (two per process, so a cache's FLUSHDB never reaches another's broker)."""
    if worker == 0:
        return urls
    given = {_redis_database(url) for url in urls.values()}
    free = [number for number in range(15, -1, -1) if number not in given]
    moved = {}
    for slot, (name, url) in enumerate(sorted(urls.items())):
        parts = urlsplit(url)
        moved[name] = urlunsplit(parts._replace(path=f"/{free[2 * (worker - 1) + slot]}"))
    return moved


# Parallel test processes (pytest-xdist sets PYTEST_XDIST_WORKER=gw0, gw1, ...) each get a var
# folder and Redis databases of their own, so their brokers, caches, SQLite files and uploads
# never meet; the test database is suffixed by pytest-django. Read before .base reads the
# environment. The processes a test starts (workers, gunicorn) inherit the environment made
# here, and PORTAL_TEST_WORKER keeps them from moving it again.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker and os.environ.get("PORTAL_TEST_WORKER") != _worker:
    os.environ["PORTAL_TEST_WORKER"] = _worker
    _root = os.environ.get("PORTAL_VAR_DIR") or str(Path(__file__).resolve().parents[2] / "var")
    os.environ["PORTAL_VAR_DIR"] = str(Path(_root) / f"xdist-{_worker}")
    os.environ.update(_own_redis_databases(
        {name: os.environ[name] for name in ("CELERY_BROKER_URL", "REDIS_CACHE_URL")
         if os.environ.get(name, "").startswith("redis://")},
        int(_worker.removeprefix("gw"))))

from .base import *  # noqa: F403, E402 (after the environment is set above)
from .base import VAR_DIR, env  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-not-a-secret"  # noqa: S105 - never used outside the test suite
# Worker processes started by the tests must decrypt what the test process encrypted: the key is
# generated once per test session and handed down through the environment.
os.environ.setdefault("PORTAL_ENCRYPTION_KEYS", Fernet.generate_key().decode())
PORTAL_ENCRYPTION_KEYS = env.list("PORTAL_ENCRYPTION_KEYS")
# The same for the audit checkpoints' signing key.
os.environ.setdefault("AUDIT_SIGNING_KEY", generate_private_key())
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY")
# A file, not memory, so a worker process started by a test sees the same test database.
DATABASES["default"].setdefault("TEST", {})  # noqa: F405
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    DATABASES["default"]["TEST"]["NAME"] = str(VAR_DIR / "test-portal.sqlite3")  # noqa: F405
if CELERY_BROKER_URL.startswith("filesystem://"):  # noqa: F405
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        key: value.replace("/broker/", "/test-broker/") if isinstance(value, str) else value
        for key, value in CELERY_BROKER_TRANSPORT_OPTIONS.items()  # noqa: F405
    }
    for _folder in ("queue", "control"):
        (VAR_DIR / "test-broker" / _folder).mkdir(parents=True, exist_ok=True)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker processes started by tests write emails to files the test can read.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "test-emails"))
PRIVATE_MEDIA_ROOT = VAR_DIR / "test-private"
# Not the development server's cache folder: tests clear their cache.
if CACHES["default"]["BACKEND"].endswith("FileBasedCache"):  # noqa: F405
    CACHES["default"]["LOCATION"] = str(VAR_DIR / "test-cache")  # noqa: F405
STORAGES = {
    **STORAGES,  # noqa: F405 - the private storages, as the environment chose them
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Unit tests run tasks in-process; the tests marked `worker` start a real worker on the broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
ARTIFACT_MAX_BYTES = 64 * 1024
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise expects it
# --- Static files under a test server ---------------------------------------------------------
# gunicorn started by a browser test serves static files straight from the apps and static/
# (no collectstatic into STATIC_ROOT first).
WHITENOISE_USE_FINDERS = True
# --- Throttles and login limits under test ----------------------------------------------------
# Every test client calls from 127.0.0.1 and the cache outlives a test: the suite would trip the
# production rates. The throttle and login-limit tests set their own (tests/security/).
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"user": "100000/min", "anon": "100000/min"}  # noqa: F405
