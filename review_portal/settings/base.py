"""Settings shared by every environment. Values come from the environment (django-environ)."""

import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(environ.Env().str("PORTAL_VAR_DIR", default=str(BASE_DIR / "var")))

env = environ.Env()


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean strictly: a typo must not silently turn a security switch off."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true or false)")


def env_int(name: str, default: int, *, minimum: int, maximum: int) -> int:
    raw = env.str(name, default="")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from exc
    if not minimum <= value <= maximum:
        raise ImproperlyConfigured(f"{name}={value} must be between {minimum} and {maximum}")
    return value


DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # allauth's security-key list (/accounts/2fa/webauthn/) loads `humanize`.
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_filters",
    "guardian",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "accounts",
    "audit",
    "submissions",
    "evaluations",
    "reviews",
    "partners",
    "clearinghouse",
    "exposures",
    "notifications",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every answer, the 503 pages included (CONTENT_SECURITY_POLICY).
    "csp.middleware.CSPMiddleware",
    # An unreachable database or job queue answers 503 with Retry-After, JSON under /api/.
    "review_portal.middleware.FaultResponseMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages in the user's own time zone; the API in UTC (accounts/time_zones.py).
    "accounts.middleware.UserTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Government sessions end 8 h after sign-in and after 30 min idle (accounts/sessions.py).
    "accounts.sessions.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.RequireSecondFactorMiddleware",
]

ROOT_URLCONF = "review_portal.urls"
WSGI_APPLICATION = "review_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.membership",
            ],
            # {{ moment|when }} on every page: the user's zone with UTC beside it.
            "builtins": ["review_portal.templatetags.portal_time"],
        },
    },
]


# Form templates come from TEMPLATES, so templates/django/forms/p.html (every `form.as_p`: an
# error by its field, a fieldset for a group of choices) takes the place of Django's own.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"


def database_from_env(default_sqlite: Path) -> dict:
    db = env.db("DATABASE_URL", default=f"sqlite:///{default_sqlite}")
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # The web server, the worker and beat share one file: wait for locks instead of failing,
        # and take the write lock at BEGIN so two writers never deadlock on an upgrade.
        db["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    db["ATOMIC_REQUESTS"] = False
    return db


DATABASES = {"default": database_from_env(VAR_DIR / "portal.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Password hashing -------------------------------------------------------------------------
# Argon2id (memory-hard) for new passwords; PBKDF2 hashes from before still verify and Django
# rehashes them with Argon2 at the user's next successful login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
# ----------------------------------------------------------------------------------------------
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_LOGOUT_REDIRECT_URL = "account_login"

# allauth: accounts are created by program admins, never by self sign-up.
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "accounts.adapters.NoSignupAccountAdapter"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = "Frontier Review Portal"
MFA_ADAPTER = "accounts.adapters.PortalMFAAdapter"
# Accept the code of the previous or next 30 s step too: phones and servers drift, and a code
# typed in its last seconds arrives in the next step. allauth marks a used code in the cache for
# the whole window, so widening it does not allow a replay.
MFA_TOTP_TOLERANCE = 1
# Security keys and passkeys (WebAuthn). A passkey (a key that keeps the credential and checks a
# PIN or biometric) may sign in on its own; a plain security key is a second factor after the
# password. The relying party is the host the page was served from (ALLOWED_HOSTS): browsers
# accept https origins and http://localhost, never a bare IP address such as 127.0.0.1.
# MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN stays False everywhere: it turns origin checking off, and
# fido2 already accepts http://localhost.
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = False
# Agency and program-office users must sign in with a security key or passkey before any
# confidential page or API call (accounts/middleware.py); on by default in production.
GOVERNMENT_REQUIRE_WEBAUTHN = env_bool("GOVERNMENT_REQUIRE_WEBAUTHN", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
# The U.S. Web Design System's compiled assets (@uswds/uswds, installed from package-lock.json
# by scripts/bootstrap.sh and by the Dockerfile's asset stage), served by whitenoise as
# static/uswds/{css,fonts,img,js}/: no CDN. The four folders keep the CSS's relative font and
# image references valid, so the manifest storage can hash them; the package's Sass sources are
# not served.
USWDS_DIST = BASE_DIR / "node_modules/@uswds/uswds/dist"
STATICFILES_DIRS = [BASE_DIR / "static"] + [
    (f"uswds/{folder}", USWDS_DIST / folder) for folder in ("css", "fonts", "img", "js")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Cache. allauth keeps login rate limits and used TOTP codes here, so every web process must see
# the same one. Embedded default: files under var/cache, shared by the processes of one host.
# With REDIS_CACHE_URL: Redis through django-redis, answered from per-process memory while Redis
# is down (review_portal/cache.py). Never the broker's Redis database: clear() is FLUSHDB there,
# and a cache wants an evicting memory policy that would drop queued jobs.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default="")


def _redis_database(url: str) -> tuple:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    database = parts.path.strip("/") or "0"
    return (parts.scheme, parts.hostname, parts.port or 6379, database)


if REDIS_CACHE_URL:
    if not REDIS_CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"REDIS_CACHE_URL={REDIS_CACHE_URL!r} is not a redis:// URL")
    if _redis_database(REDIS_CACHE_URL) == _redis_database(env.str("CELERY_BROKER_URL",
                                                                    default="")):
        raise ImproperlyConfigured("REDIS_CACHE_URL names the broker's Redis database; give the "
                                   "cache its own Redis (or at least its own database number)")
    CACHES = {"default": {
        "BACKEND": "review_portal.cache.FailSoftRedisCache",
        "LOCATION": REDIS_CACHE_URL,
        # Short socket timeouts: a cache that does not answer must not hold a request. After a
        # failure each process answers from memory for a few seconds before trying again.
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }}
else:
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(VAR_DIR / "cache"),
        # Each write lists the folder to decide on culling: keep it small.
        "OPTIONS": {"MAX_ENTRIES": 2000},
    }}

# Confidential artifacts live outside the web root and outside STATIC_ROOT; they are only ever
# served by a permission-checked view. MEDIA_URL is deliberately not routed anywhere.
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(VAR_DIR / "private")))

# Artifact uploads
ARTIFACT_MAX_BYTES = env_int("ARTIFACT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024,
                             maximum=500 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Program rules. The order allows "up to 30 days": the setting may lower the cap, never raise it.
ACCESS_WINDOW_MAX_DAYS = env_int("ACCESS_WINDOW_MAX_DAYS", 30, minimum=1, maximum=30)

# Encryption at rest (artifacts, credentials). A comma-separated list of Fernet keys: the first
# encrypts, all decrypt, so a key can be rotated by prepending a new one.
PORTAL_ENCRYPTION_KEYS = env.list("PORTAL_ENCRYPTION_KEYS", default=[])

# The audit trail's checkpoints are signed with this Ed25519 private key (base64 of its 32-byte
# seed, or PEM), which must not live in the database. AUDIT_PUBLIC_KEYS: retired keys' public
# halves (base64), so checkpoints they signed still verify after a rotation.
AUDIT_SIGNING_KEY = env.str("AUDIT_SIGNING_KEY", default="")
AUDIT_PUBLIC_KEYS = env.list("AUDIT_PUBLIC_KEYS", default=[])

EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL",
                             default="Frontier Review Portal <noreply@localhost>")
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://127.0.0.1:8000")

# Where a trusted partner calls a granted model: the developer's model gateway (the model runs
# on the developer's infrastructure; the gateway checks the partner's token with
# /api/v1/introspect/). Shown on the granted-model page; the default is a gateway on this host.
GATEWAY_URL = env.str("GATEWAY_URL", default="http://127.0.0.1:8080/v1").strip()
if not GATEWAY_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"GATEWAY_URL={GATEWAY_URL!r} is not an http(s) address")

# How long a model gateway may cache an active introspection answer (Cache-Control max-age);
# never past the token's `exp`, whatever this says. Inactive answers are never cached.
GATEWAY_INTROSPECTION_CACHE_SECONDS = env_int("GATEWAY_INTROSPECTION_CACHE_SECONDS", 60,
                                              minimum=0, maximum=3600)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "review_portal.api_pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "review_portal.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer",
                                 "rest_framework.renderers.BrowsableAPIRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles: see "Client addresses, throttles and login limits" below.
    "DEFAULT_THROTTLE_CLASSES": ["review_portal.throttles.TokenOrUserRateThrottle",
                                 "review_portal.throttles.ClientAddressRateThrottle"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Frontier Review Portal API",
    "DESCRIPTION": (
        "Voluntary covered-frontier-model determinations. Nothing in this API is a licence, "
        "pre-clearance or permit to release a model."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API's shape is not secret, but nothing about this program is served to strangers.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    # 140 operations: the docs open with each tag collapsed (drawing every operation at once
    # stalls Swagger UI), and a filter box finds a tag by name.
    "SWAGGER_UI_SETTINGS": {"docExpansion": "none", "filter": True},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every operation documents the errors every operation can answer (one JSON shape).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "review_portal.schema.add_error_responses"],
    # Several models have a `kind` / `status` choice: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "OrganisationKindEnum": "accounts.models.Organisation.Kind",
        "ArtifactKindEnum": "submissions.models.Artifact.Kind",
        "WindowKindEnum": "submissions.models.AccessWindow.Kind",
        "ReviewRequestStatusEnum": "submissions.models.ReviewRequest.Status",
        "WindowStatusEnum": "submissions.models.AccessWindow.Status",
        "ConflictKindEnum": "reviews.models.ConflictOfInterest.Kind",
        "PolicyRuleKindEnum": "reviews.models.PolicyRule.Kind",
        "EvaluationRunStatusEnum": "evaluations.models.EvaluationRun.Status",
        "ReportStatusEnum": "clearinghouse.models.Report.Status",
        "ReportArtifactKindEnum": "clearinghouse.models.ReportArtifact.Kind",
        "DuplicateCandidateKindEnum": "clearinghouse.models.DuplicateCandidate.Kind",
        "MemberStatusEnum": "clearinghouse.models.MemberProfile.Status",
        "CaseStatusEnum": "clearinghouse.models.Case.Status",
        "StatementStatusEnum": "clearinghouse.models.ProductStatement.Status",
        "EmbargoStatusEnum": "clearinghouse.models.Embargo.Status",
        "EmbargoAcceptanceStatusEnum": "clearinghouse.models.EmbargoAcceptance.Status",
        "AdvisoryStatusEnum": "clearinghouse.models.Advisory.Status",
        "RemediationCategoryEnum": "clearinghouse.models.Remediation.Category",
        "VerificationResultEnum": "clearinghouse.models.Verification.Result",
        "VerificationMethodEnum": "clearinghouse.models.Verification.Method",
        "ParticipantRoleEnum": "clearinghouse.models.Participant.Role",
        "SystemExposureEnum": "exposures.models.SSVC.SystemExposure",
        "MissionImpactEnum": "exposures.models.SSVC.MissionImpact",
        "SafetyImpactEnum": "exposures.models.SSVC.SafetyImpact",
        "SsvcExploitationEnum": "exposures.models.SSVC.Exploitation",
        "SsvcAutomatableEnum": "exposures.models.SSVC.Automatable",
        "SsvcPriorityEnum": "exposures.models.SSVC.Priority",
        "VulnerabilityExploitationEnum": "clearinghouse.models.Vulnerability.Exploitation",
        "ExposureStatusEnum": "exposures.models.Exposure.Status",
        "ExposureMethodEnum": "exposures.models.Exposure.Method",
        "ExposureConfidenceEnum": "exposures.models.Exposure.Confidence",
    },
}

GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
ANONYMOUS_USER_NAME = None

# Celery: JSON only, late acknowledgement so a crashed worker does not lose a job.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://localhost//")
# Redis redelivers an unacknowledged job after this long; the reconcile sweep acts sooner.
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": 4 * 3600}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The transport polls its folder; the default (1 s) would add up to a second per job.
        "polling_interval": 0.05,
    }
    # kombu's filesystem transport, made safe for several processes on one folder (see the
    # module's docstring for what the stock one gets wrong).
    CELERY_BROKER_TRANSPORT = "review_portal.broker:Transport"
    for _folder in ("queue", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
# A queue per kind of work, each with its own workers: an evaluation takes minutes to hours and
# holds a prefork process; emails, notifications, sweeps and reconcile must never wait behind it.
EVALUATIONS_QUEUE = "evaluations"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"evaluations.run_evaluation": {"queue": EVALUATIONS_QUEUE}}
# Publishing never waits long for an unreachable broker: the outbox retries (jobs.relay).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS.update({"socket_connect_timeout": 2, "socket_timeout": 10})
CELERY_BEAT_SCHEDULER = "jobs.beat:RecordingScheduler"
# Reconnects to a broker that came back within about 2 s (Celery's own backs off to 30 s).
CELERY_WORKER_CONSUMER = "jobs.consumer:Consumer"
# Write the schedule file at every tick, so its age tells a healthcheck that beat is alive.
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Hard limit only, as a backstop: a soft limit does not reliably stop Inspect (see
# docs/inspect-in-celery.md); evaluations are bounded by Inspect's own limits and cancellation.
CELERY_TASK_TIME_LIMIT = 360
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True

# Evaluations (Inspect). Logs are confidential: kept outside the web root, served by a view.
EVALUATION_LOG_ROOT = Path(env.str("EVALUATION_LOG_ROOT", default=str(VAR_DIR / "eval-logs")))

# --- Storage: the encrypted artifacts and the Inspect logs (review_portal/storage.py) ----------
# STORAGE_BACKEND=local (the embedded default): folders on this host, PRIVATE_MEDIA_ROOT and
# EVALUATION_LOG_ROOT. STORAGE_BACKEND=s3: one S3-compatible bucket (AWS, MinIO, Ceph ...)
# through django-storages, which every web process and worker on every host reaches; Inspect
# writes its logs there itself. Code asks storages["artifacts"] / storages["evaluation_logs"].
_BUCKET_NAME = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"


def private_storages(values) -> dict:
    """STORAGES' two private entries from the environment (tests pass a dict like it). Refuses an
    incomplete or mistyped S3 configuration at start, naming what to fix."""
    import re

    backend = (values.get("STORAGE_BACKEND") or "local").strip().lower()
    if backend == "local":
        local = "review_portal.storage.PrivateFileSystemStorage"
        return {"artifacts": {"BACKEND": local, "OPTIONS": {"root_setting": "PRIVATE_MEDIA_ROOT"}},
                "evaluation_logs": {"BACKEND": local,
                                    "OPTIONS": {"root_setting": "EVALUATION_LOG_ROOT"}}}
    if backend != "s3":
        raise ImproperlyConfigured(f"STORAGE_BACKEND={values.get('STORAGE_BACKEND')!r} is not a "
                                   "storage backend (use local or s3)")

    def value(name: str) -> str:
        return (values.get(name) or "").strip()

    bucket = value("S3_BUCKET")
    if not bucket:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs S3_BUCKET: the bucket that holds the "
                                   "artifacts and the evaluation logs")
    if not re.fullmatch(_BUCKET_NAME, bucket):
        raise ImproperlyConfigured(f"S3_BUCKET={bucket!r} is not a bucket name (3 to 63 "
                                   "lowercase letters, digits, dots and hyphens)")
    key, secret = value("S3_ACCESS_KEY_ID"), value("S3_SECRET_ACCESS_KEY")
    if bool(key) != bool(secret):
        missing = "S3_SECRET_ACCESS_KEY" if key else "S3_ACCESS_KEY_ID"
        raise ImproperlyConfigured(f"STORAGE_BACKEND=s3 has one half of a key pair: set "
                                   f"{missing} too (or neither, for boto3's own credentials: "
                                   "an instance role, a profile)")
    endpoint = value("S3_ENDPOINT_URL")
    if endpoint and not re.fullmatch(r"https?://[^/\s]+/?", endpoint):
        raise ImproperlyConfigured(f"S3_ENDPOINT_URL={endpoint!r} is not an http(s):// URL of a "
                                   "server (no path), e.g. http://minio:9000")
    timeout_raw = value("S3_TIMEOUT") or "10"
    if not timeout_raw.isdigit() or not 1 <= int(timeout_raw) <= 300:
        raise ImproperlyConfigured(f"S3_TIMEOUT={timeout_raw!r} must be whole seconds between "
                                   "1 and 300")
    prefix = value("S3_PREFIX").strip("/")
    from botocore.config import Config

    timeout = int(timeout_raw)
    client_config = Config(
        connect_timeout=timeout, read_timeout=timeout, signature_version="s3v4",
        # A store that is down answers within a few seconds: a short retry, then a clear 503.
        retries={"max_attempts": 3, "mode": "standard"},
        # Most S3-compatible servers (MinIO, moto, Ceph) want path-style addresses; and the
        # checksums boto3 1.36+ adds by default are not understood by all of them.
        s3={"addressing_style": "path"} if endpoint else {},
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    options = {
        "bucket_name": bucket, "endpoint_url": endpoint.rstrip("/") or None,
        "region_name": value("S3_REGION") or "us-east-1",
        "access_key": key or None, "secret_key": secret or None,
        # Private: the bucket's own access (no ACL), names never reused, no URL ever made.
        "default_acl": None, "querystring_auth": True, "file_overwrite": True,
        "client_config": client_config,
    }
    s3 = "review_portal.s3_storage.PrivateS3Storage"
    return {
        "artifacts": {"BACKEND": s3, "OPTIONS": {
            **options, "location": "/".join(p for p in (prefix, "private") if p)}},
        "evaluation_logs": {"BACKEND": s3, "OPTIONS": {
            **options, "location": "/".join(p for p in (prefix, "eval-logs") if p)}},
    }


STORAGE_BACKEND = (env.str("STORAGE_BACKEND", default="") or "local").strip().lower()
STORAGES.update(private_storages(os.environ))
INSPECT_DATA_DIR = Path(env.str("INSPECT_DATA_DIR", default=str(VAR_DIR / "inspect-data")))
EVALUATION_HARD_TIME_LIMIT = env_int("EVALUATION_HARD_TIME_LIMIT", 4 * 3600, minimum=60,
                                     maximum=48 * 3600)
EVALUATION_HEARTBEAT_STALE_SECONDS = env_int("EVALUATION_HEARTBEAT_STALE_SECONDS", 60,
                                             minimum=5, maximum=3600)
EVALUATION_MAX_ATTEMPTS = env_int("EVALUATION_MAX_ATTEMPTS", 3, minimum=1, maximum=10)
EVALUATION_MAX_SAMPLES = env_int("EVALUATION_MAX_SAMPLES", 16, minimum=1, maximum=512)
EVALUATION_SAMPLE_TIME_LIMIT = env_int("EVALUATION_SAMPLE_TIME_LIMIT", 300, minimum=5,
                                       maximum=7200)
EVALUATION_HTTP_TIMEOUT = env_int("EVALUATION_HTTP_TIMEOUT", 60, minimum=1, maximum=600)
EVALUATION_HTTP_MAX_RETRIES = env_int("EVALUATION_HTTP_MAX_RETRIES", 3, minimum=0, maximum=20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

SESSION_COOKIE_HTTPONLY = True
# --- Session lifetimes per role (accounts/sessions.py says why) --------------------------------
# Developers and partners: SESSION_COOKIE_AGE. Government users: an absolute end after sign-in
# and an idle timeout, within NIST SP 800-63B AAL2's bounds (12 h, 30 min).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 14 * 24 * 3600, minimum=300,
                             maximum=30 * 24 * 3600)
GOVERNMENT_SESSION_MAX_AGE = env_int("GOVERNMENT_SESSION_MAX_AGE", 8 * 3600, minimum=300,
                                     maximum=12 * 3600)
GOVERNMENT_SESSION_IDLE_TIMEOUT = env_int("GOVERNMENT_SESSION_IDLE_TIMEOUT", 30 * 60,
                                          minimum=60, maximum=30 * 60)
# ----------------------------------------------------------------------------------------------
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp) -----------------------------------------------------
# Scripts and styles come from the portal's own static files only: no 'unsafe-inline', no
# 'unsafe-eval'. A template that truly needs an inline block gives it the request's nonce,
# request.csp_nonce (added to the header only on responses that use it). `json_script` and other
# <script type="application/json"> data blocks are not executed, so they need nothing. img-src
# allows data: for the TOTP QR code (allauth) and the icons in Swagger UI's stylesheet.
# style-src-attr: DRF's browsable API writes one fixed style attribute ("float: right;
# margin-right: 10px", on its Filters and Extra Actions buttons); only that exact value is
# allowed, by hash, so no injected style attribute is.
from csp.constants import NONCE, NONE, SELF, UNSAFE_HASHES  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_HASHES,
                           "'sha256-OfgyIBrd+/vP79JdFMYP+re4T+fIenvkrHPD2HZ8/cs='"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Client addresses, throttles and login limits ---------------------------------------------
# TRUSTED_PROXY_COUNT: how many proxies in front of the portal are ours. 0 (the default): the
# client is REMOTE_ADDR and X-Forwarded-For is ignored (anyone can send one). Behind one nginx
# or load balancer: 1. TRUSTED_CLIENT_IP_HEADER instead names a header a trusted proxy sets to
# the client's address (X-Real-IP). review_portal/client_ip.py reads them, for the API's
# anonymous throttle and allauth's login limits alike (accounts.adapters).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
TRUSTED_CLIENT_IP_HEADER = env.str("TRUSTED_CLIENT_IP_HEADER", default="")
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
ALLAUTH_TRUSTED_CLIENT_IP_HEADER = TRUSTED_CLIENT_IP_HEADER or None

_RATE = r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)"
_ALLAUTH_RATE = r"[1-9][0-9]*/[0-9]*[smhd]/(ip|key|user)"


def env_rate(name: str, default: str, *, allauth: bool = False) -> str:
    """A rate such as 300/min (DRF) or, with allauth=True, allauth's 20/m/ip,5/5m/key list."""
    import re

    value = env.str(name, default="").strip() or default
    pattern = f"{_ALLAUTH_RATE}(,{_ALLAUTH_RATE})*" if allauth else _RATE
    if not re.fullmatch(pattern, value.replace(" ", "")):
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate (e.g. {default})")
    return value.replace(" ", "")


# API throttles (review_portal/throttles.py), counted in the shared cache: per API token, else
# per signed-in user; anonymous callers per client address. A throttled call is a 429 JSON with
# Retry-After. The run page polls once every 1.5 s (40/min), well under the signed-in rate.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {
    "user": env_rate("API_THROTTLE_RATE", "300/min"),
    "anon": env_rate("API_THROTTLE_ANON_RATE", "60/min"),
    # A model gateway asks once per partner call (per gateway client).
    "gateway": env_rate("GATEWAY_THROTTLE_RATE", "6000/min"),
}

# Login limits (allauth, in the shared cache). allauth's defaults (30 logins and 10 failures a
# minute per address) let one client lock everyone behind the same address out: a proxy, a NAT,
# an agency's egress. Per address the limits are generous, against password spraying; per
# account (the login name) they are strict, against guessing one account's password.
ACCOUNT_RATE_LIMITS = {
    "login": env_rate("LOGIN_RATE_LIMIT", "300/m/ip", allauth=True),
    "login_failed": env_rate("LOGIN_FAILED_RATE_LIMIT", "100/5m/ip,5/5m/key", allauth=True),
    "reset_password": "60/m/ip,5/m/key",
    "reset_password_from_key": "60/m/ip",
}

# The clearinghouse (issue 11). An embargo ends by default this many days after the first
# vendor contact (CERT/CC's 45), and no extension may take it past the ceiling (days after the
# first vendor contact; Project Zero's 90 plus its 14-day grace).
CLEARINGHOUSE_EMBARGO_DEFAULT_DAYS = env_int("CLEARINGHOUSE_EMBARGO_DEFAULT_DAYS", 45,
                                             minimum=1, maximum=365)
# The ceiling is never below the default.
CLEARINGHOUSE_EMBARGO_CEILING_DAYS = env_int("CLEARINGHOUSE_EMBARGO_CEILING_DAYS", 104,
                                             minimum=CLEARINGHOUSE_EMBARGO_DEFAULT_DAYS,
                                             maximum=365)

# The clearinghouse's advisories (clearinghouse/publication.py): the CSAF publisher, the CVE
# Services organisation of the CNA container, the TLP of published advisories (public ones are
# CLEAR; CSAF 2.0 writes it WHITE) and where the public CSAF provider directory is written.
CLEARINGHOUSE_PUBLISHER_NAME = env.str("CLEARINGHOUSE_PUBLISHER_NAME",
                                       default="Frontier Review Portal Clearinghouse")
# The publisher's namespace (a URL); empty: PORTAL_BASE_URL.
CLEARINGHOUSE_PUBLISHER_NAMESPACE = env.str("CLEARINGHOUSE_PUBLISHER_NAMESPACE", default="")
CLEARINGHOUSE_PUBLISHER_CONTACT = env.str("CLEARINGHOUSE_PUBLISHER_CONTACT",
                                          default="")
CLEARINGHOUSE_CVE_ORG_ID = env.str("CLEARINGHOUSE_CVE_ORG_ID",
                                   default="00000000-0000-4000-8000-000000000000")
CLEARINGHOUSE_CVE_SHORT_NAME = env.str("CLEARINGHOUSE_CVE_SHORT_NAME", default="")
CLEARINGHOUSE_ADVISORY_TLP = env.str("CLEARINGHOUSE_ADVISORY_TLP", default="CLEAR")
if CLEARINGHOUSE_ADVISORY_TLP not in ("CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"):
    raise ImproperlyConfigured(
        f"CLEARINGHOUSE_ADVISORY_TLP={CLEARINGHOUSE_ADVISORY_TLP!r} is not a TLP 2.0 label")
# Operators' inventories (exposures/keys.py): the HMAC key of the blind indexes that match
# assets without storing product names in the clear. Empty: derived from SECRET_KEY. After
# changing it (or SECRET_KEY when it is derived), run `manage.py inventory_reindex`.
INVENTORY_INDEX_KEY = env.str("INVENTORY_INDEX_KEY", default="")
# An inventory upload (SBOM or CSV) is refused past this many bytes (a 413) and past this many
# assets (a 400), so one upload cannot hold the import's transaction for long
# (exposures/inventory.py).
INVENTORY_MAX_UPLOAD_BYTES = env_int("INVENTORY_MAX_UPLOAD_BYTES", 10 * 1024 * 1024,
                                     minimum=1024, maximum=200 * 1024 * 1024)
INVENTORY_MAX_ASSETS = env_int("INVENTORY_MAX_ASSETS", 20_000, minimum=1, maximum=200_000)
# An operator hears of an embargoed vulnerability that matches its inventory, and has a fix or
# mitigation, at most this many days before the embargo ends (exposures/disclosure.py).
CLEARINGHOUSE_PREDISCLOSURE_DAYS = env_int("CLEARINGHOUSE_PREDISCLOSURE_DAYS", 7,
                                           minimum=0, maximum=90)
# The version of the pre-disclosure terms operators accept (templates/exposures/terms.html).
CLEARINGHOUSE_OPERATOR_TERMS_VERSION = "2026-12"
CLEARINGHOUSE_CSAF_ROOT = Path(env.str("CLEARINGHOUSE_CSAF_ROOT", default=str(VAR_DIR / "csaf")))
