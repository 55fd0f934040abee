"""Rate limits, throttles and used TOTP codes live in the default cache: in every settings
module it must be one that all web processes share (files on the host or Redis), never memory
of one process. Each module is loaded in its own process, with the environment it needs."""

import json
import os
import subprocess
import sys

import pytest

from tests.test_settings import ROOT, production_env

SHARED = {
    "django.core.cache.backends.filebased.FileBasedCache",
    "review_portal.cache.FailSoftRedisCache",
}
PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.core.cache import caches
from review_portal.throttles import TokenOrUserRateThrottle
from allauth.core.internal import ratelimit
default = settings.CACHES["default"]
cache = caches["default"]
print(json.dumps({"backends": sorted({c["BACKEND"] for c in settings.CACHES.values()}),
                  "location": str(default.get("LOCATION", "")),
                  "class": f"{type(cache).__module__}.{type(cache).__name__}",
                  # the throttles' and allauth's cache is the default one
                  "users": [TokenOrUserRateThrottle.cache._alias, ratelimit.cache._alias]}))
"""


def load_caches(module: str, env: dict, tmp_path) -> dict:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
            "PORTAL_VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": module}
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env={**base, **env},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


MODULES = {
    "review_portal.settings.base": {"SECRET_KEY": "x" * 50},
    "review_portal.settings.local": {},
    "review_portal.settings.test": {},
    "review_portal.settings.production": production_env(),
}


@pytest.mark.parametrize("module", list(MODULES))
@pytest.mark.parametrize("redis", [False, True], ids=["embedded", "redis"])
def test_every_settings_module_uses_a_cache_shared_by_all_web_processes(module, redis, tmp_path):
    env = dict(MODULES[module])
    if redis:
        env["REDIS_CACHE_URL"] = "redis://127.0.0.1:6379/13"
    caches = load_caches(module, env, tmp_path)
    assert set(caches["backends"]) <= SHARED, caches
    assert caches["class"] in SHARED, caches
    assert caches["users"] == ["default", "default"]
    if redis:
        assert caches["class"] == "review_portal.cache.FailSoftRedisCache"
        assert caches["location"] == "redis://127.0.0.1:6379/13"
    else:
        # Files under the state folder: the same path for every process of the host.
        assert caches["location"].startswith(str(tmp_path)), caches
