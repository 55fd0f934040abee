"""Production: every secret comes from the environment with no default; a missing one fails."""

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from audit.signing import load_private_key

from .base import *  # noqa: F403
from .base import env, env_bool, env_int


def _required_list(name: str) -> list[str]:
    """A list variable that must be set and not empty (an empty list would fail only later)."""
    values = [v for v in env.list(name) if v.strip()]
    if not values:
        raise ImproperlyConfigured(f"Set the {name} environment variable (it is empty)")
    return values


DEBUG = False
SECRET_KEY = env.str("SECRET_KEY")
if not SECRET_KEY.strip():
    raise ImproperlyConfigured("Set the SECRET_KEY environment variable (it is empty)")
ALLOWED_HOSTS = _required_list("ALLOWED_HOSTS")
DATABASES = {"default": env.db("DATABASE_URL")}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 60, minimum=0, maximum=3600)
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL")
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 4 * 3600, "socket_connect_timeout": 2,
                                   "socket_timeout": 10}
PORTAL_ENCRYPTION_KEYS = _required_list("PORTAL_ENCRYPTION_KEYS")
for _key in PORTAL_ENCRYPTION_KEYS:  # fail at start, not at the first upload
    try:
        Fernet(_key.encode())
    except ValueError as _exc:
        raise ImproperlyConfigured("PORTAL_ENCRYPTION_KEYS holds a value that is not a Fernet "
                                   "key (32 url-safe base64-encoded bytes)") from _exc
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY")
try:  # fail at start, not at the first checkpoint
    load_private_key(AUDIT_SIGNING_KEY)
except ValueError as _exc:
    raise ImproperlyConfigured("AUDIT_SIGNING_KEY is not an Ed25519 private key (base64 of its "
                               f"32-byte seed, or PEM): {_exc}") from _exc
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# The cache comes from base: REDIS_CACHE_URL (its own Redis, never the broker's database; base
# refuses that), else files under PORTAL_VAR_DIR/cache shared by this host's web processes. Set
# REDIS_CACHE_URL when more than one host serves the site, or login rate limits hold per host.

# Federal staff need phishing-resistant sign-in (OMB M-22-09): a security key or passkey. Set
# false only for a staged rollout; a government user without a key is sent to register one.
GOVERNMENT_REQUIRE_WEBAUTHN = env_bool("GOVERNMENT_REQUIRE_WEBAUTHN", True)
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Load balancers and compose probe these over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0, maximum=63072000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
