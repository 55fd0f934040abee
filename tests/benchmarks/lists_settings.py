"""Settings for bench_lists.py's gunicorn: the local settings with production's persistent
database connections (CONN_MAX_AGE), so neither arm pays a new connection per request."""

from review_portal.settings.local import *  # noqa: F403
from review_portal.settings.local import DATABASES

DATABASES["default"]["CONN_MAX_AGE"] = 60

# The portal's URLs plus the benchmark's same-stack baseline, /stack/<list>/.
ROOT_URLCONF = "tests.benchmarks.lists_urls"
