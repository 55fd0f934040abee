"""Settings: strict parsing of the environment, and production settings that fail loudly."""

import os
import runpy
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from audit.signing import generate_private_key
from review_portal.settings.base import env_bool, env_int

ROOT = Path(__file__).resolve().parent.parent


# --- env_bool / env_int ----------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("1", True), ("true", True), ("TRUE", True), (" yes ", True), ("on", True),
    ("0", False), ("false", False), ("No", False), ("off", False),
])
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("PORTAL_TEST_FLAG", raw)
    assert env_bool("PORTAL_TEST_FLAG", not expected) is expected


def test_env_bool_falls_back_to_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("PORTAL_TEST_FLAG", raising=False)
    assert env_bool("PORTAL_TEST_FLAG", True) is True
    monkeypatch.setenv("PORTAL_TEST_FLAG", "")
    assert env_bool("PORTAL_TEST_FLAG", False) is False


@pytest.mark.parametrize("raw", ["maybe", "tru", "2", "enabled", "yes please"])
def test_env_bool_refuses_nonsense(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_TEST_FLAG", raw)
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TEST_FLAG"):
        env_bool("PORTAL_TEST_FLAG", False)


def test_env_int_reads_an_integer_in_range(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_INT", "30")
    assert env_int("PORTAL_TEST_INT", 5, minimum=1, maximum=30) == 30
    monkeypatch.delenv("PORTAL_TEST_INT")
    assert env_int("PORTAL_TEST_INT", 5, minimum=1, maximum=30) == 5


@pytest.mark.parametrize("raw", ["thirty", "3.5", "1e3", "30 days", "0x10"])
def test_env_int_refuses_a_non_integer(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_TEST_INT", raw)
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("PORTAL_TEST_INT", 5, minimum=1, maximum=30)


@pytest.mark.parametrize("raw", ["0", "31", "-1"])
def test_env_int_refuses_a_value_out_of_range(monkeypatch, raw):
    monkeypatch.setenv("PORTAL_TEST_INT", raw)
    with pytest.raises(ImproperlyConfigured, match="between 1 and 30"):
        env_int("PORTAL_TEST_INT", 5, minimum=1, maximum=30)


# --- production settings ---------------------------------------------------------------------

def production_env() -> dict:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return {
        "SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(60)),
        "ALLOWED_HOSTS": "portal.example.gov",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "AUDIT_SIGNING_KEY": generate_private_key(),
    }


def load_production(monkeypatch, env: dict) -> dict:
    for name in production_env():
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_module("review_portal.settings.production")


def test_production_settings_load_from_the_required_environment(monkeypatch):
    env = production_env()
    settings = load_production(monkeypatch, env)
    assert settings["DEBUG"] is False
    assert settings["SECRET_KEY"] == env["SECRET_KEY"]
    assert settings["ALLOWED_HOSTS"] == ["portal.example.gov"]
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]


@pytest.mark.parametrize("name", list(production_env()))
def test_production_settings_refuse_a_missing_variable(monkeypatch, name):
    env = production_env()
    del env[name]
    with pytest.raises(ImproperlyConfigured, match=name):
        load_production(monkeypatch, env)


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS", "PORTAL_ENCRYPTION_KEYS",
                                  "AUDIT_SIGNING_KEY"])
def test_production_settings_refuse_an_empty_variable(monkeypatch, name):
    with pytest.raises(ImproperlyConfigured, match=name):
        load_production(monkeypatch, {**production_env(), name: ""})


def test_production_settings_refuse_an_encryption_key_that_is_not_a_fernet_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        load_production(monkeypatch, {**production_env(), "PORTAL_ENCRYPTION_KEYS": "hunter2"})


@pytest.mark.parametrize("value", ["hunter2", "c2hvcnQ=", "-----BEGIN PRIVATE KEY-----\nx\n"])
def test_production_settings_refuse_an_audit_signing_key_that_is_not_an_ed25519_key(monkeypatch,
                                                                                   value):
    with pytest.raises(ImproperlyConfigured, match="AUDIT_SIGNING_KEY is not an Ed25519"):
        load_production(monkeypatch, {**production_env(), "AUDIT_SIGNING_KEY": value})


def test_production_settings_refuse_a_nonsense_switch(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECURE_SSL_REDIRECT"):
        load_production(monkeypatch, {**production_env(), "SECURE_SSL_REDIRECT": "maybe"})


def run_manage(env: dict, *args) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"),
            "DJANGO_SETTINGS_MODULE": "review_portal.settings.production"}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**base, **env},
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_reports_no_issues_with_the_required_environment():
    result = run_manage(production_env(), "check", "--deploy")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr
    assert "WARNINGS" not in result.stderr, result.stderr


def test_production_without_a_secret_key_fails_loudly():
    env = production_env()
    del env["SECRET_KEY"]
    result = run_manage(env, "check", "--deploy")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
