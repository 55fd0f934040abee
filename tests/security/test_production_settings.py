"""Production settings carry the hardening (CSP, throttles, login limits, session lifetimes),
read its variables strictly, and `check --deploy` stays clean with them set. Each load runs in
its own process: base settings are executed once per process, so an in-process reload would
not see a changed environment."""

import json
import os
import subprocess
import sys

import pytest

from tests.test_settings import ROOT, production_env, run_manage

PROBE = """
import json
import django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "MIDDLEWARE", "CONTENT_SECURITY_POLICY", "REST_FRAMEWORK", "TRUSTED_PROXY_COUNT",
    "ALLAUTH_TRUSTED_PROXY_COUNT", "ACCOUNT_RATE_LIMITS", "GOVERNMENT_SESSION_MAX_AGE",
    "GOVERNMENT_SESSION_IDLE_TIMEOUT", "SESSION_COOKIE_AGE"]}, default=str))
"""


def production(tmp_path, **extra) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
           "PORTAL_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "review_portal.settings.production",
           **production_env(), **extra}
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def settings_of(tmp_path, **extra) -> dict:
    result = production(tmp_path, **extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_carry_the_policy_throttles_and_limits(tmp_path):
    settings = settings_of(tmp_path)
    assert "csp.middleware.CSPMiddleware" in settings["MIDDLEWARE"]
    assert "accounts.sessions.SessionLifetimeMiddleware" in settings["MIDDLEWARE"]
    directives = settings["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert all("'unsafe-inline'" not in sources for sources in directives.values())
    assert settings["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {"user": "300/min",
                                                                    "anon": "60/min",
                                                                    "gateway": "6000/min"}
    assert settings["TRUSTED_PROXY_COUNT"] == 0
    assert settings["ACCOUNT_RATE_LIMITS"]["login_failed"] == "100/5m/ip,5/5m/key"
    assert settings["GOVERNMENT_SESSION_MAX_AGE"] == 8 * 3600
    assert settings["GOVERNMENT_SESSION_IDLE_TIMEOUT"] == 30 * 60
    assert settings["SESSION_COOKIE_AGE"] == 14 * 24 * 3600


def test_production_settings_read_the_hardening_variables(tmp_path):
    settings = settings_of(tmp_path, TRUSTED_PROXY_COUNT="1", API_THROTTLE_RATE="1000/hour",
                           API_THROTTLE_ANON_RATE="10/min", GATEWAY_THROTTLE_RATE="20000/min",
                           LOGIN_FAILED_RATE_LIMIT="50/5m/ip, 3/5m/key",
                           GOVERNMENT_SESSION_MAX_AGE=str(12 * 3600))
    assert settings["ALLAUTH_TRUSTED_PROXY_COUNT"] == 1
    assert settings["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {"user": "1000/hour",
                                                                    "anon": "10/min",
                                                                    "gateway": "20000/min"}
    assert settings["ACCOUNT_RATE_LIMITS"]["login_failed"] == "50/5m/ip,3/5m/key"
    assert settings["GOVERNMENT_SESSION_MAX_AGE"] == 12 * 3600


@pytest.mark.parametrize(("name", "raw"), [
    ("TRUSTED_PROXY_COUNT", "yes"), ("TRUSTED_PROXY_COUNT", "9"),
    ("API_THROTTLE_RATE", "fast"), ("API_THROTTLE_ANON_RATE", "0/min"),
    ("GATEWAY_THROTTLE_RATE", "many"),
    ("LOGIN_RATE_LIMIT", "300/m"), ("LOGIN_FAILED_RATE_LIMIT", "5/5m/account"),
    ("GOVERNMENT_SESSION_IDLE_TIMEOUT", "3600"),
])
def test_production_settings_refuse_a_nonsense_hardening_variable(tmp_path, name, raw):
    result = production(tmp_path, **{name: raw})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and name in result.stderr, result.stderr


def test_check_deploy_stays_clean_behind_a_trusted_proxy_with_custom_rates():
    result = run_manage({**production_env(), "TRUSTED_PROXY_COUNT": "1",
                         "API_THROTTLE_RATE": "600/min"}, "check", "--deploy")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr, result.stderr
