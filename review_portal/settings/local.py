"""Local development and the demo: embedded SQLite and a filesystem broker unless URLs are set."""

import secrets

from cryptography.fernet import Fernet

from audit.signing import generate_private_key

from .base import *  # noqa: F403
from .base import VAR_DIR, env, env_bool

DEBUG = env_bool("DEBUG", True)
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _dev_secret(name: str, make) -> str:
    """A development secret generated on first run and kept under var/ (never committed)."""
    path = VAR_DIR / f".{name}"
    if not path.exists():
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _dev_secret(
    "secret_key", lambda: secrets.token_urlsafe(50)
)
PORTAL_ENCRYPTION_KEYS = env.list("PORTAL_ENCRYPTION_KEYS", default=[]) or [
    _dev_secret("encryption_key", lambda: Fernet.generate_key().decode())
]
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="") or _dev_secret(
    "audit_signing_key", generate_private_key
)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = VAR_DIR / "emails"
STORAGES = {
    **STORAGES,  # noqa: F405 - the private storages (artifacts, Inspect logs), as base chose them
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405 - whitenoise expects it
