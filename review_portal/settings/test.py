"""Tests: PostgreSQL and Redis when DATABASE_URL / CELERY_BROKER_URL are set, else embedded."""

import os

from cryptography.fernet import Fernet

from audit.signing import generate_private_key

from .base import *  # noqa: F403
from .base import VAR_DIR, env

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
