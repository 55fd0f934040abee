"""The cache: its settings (never the broker's Redis) and the Redis backend that keeps answering,
from the process's memory, while its Redis server is down. A real redis-server per test."""

import json
import os
import runpy
import socket
import subprocess
import sys
import time

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from review_portal import cache as fail_soft
from review_portal.settings import base
from tests.faultkit import ROOT, RedisServer, free_port

BASE_SETTINGS = base.__file__


def load_base(monkeypatch, **env) -> dict:
    for name in ("REDIS_CACHE_URL", "CELERY_BROKER_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(BASE_SETTINGS))


def use_cache(settings, url: str) -> None:
    """Point the default cache at `url` exactly as the settings would (Django resets the cache
    handler when CACHES changes)."""
    settings.CACHES = load_base_caches(url)


def load_base_caches(url: str) -> dict:
    with pytest.MonkeyPatch.context() as monkeypatch:
        return load_base(monkeypatch, REDIS_CACHE_URL=url,
                         CELERY_BROKER_URL="redis://127.0.0.1:6379/11")["CACHES"]


@pytest.fixture
def cache_redis(tmp_path, settings):
    server = RedisServer(tmp_path).start()
    use_cache(settings, server.url)
    yield server
    server.stop()


# --- settings ---------------------------------------------------------------------------------

def test_without_redis_cache_url_the_cache_is_files_shared_by_the_hosts_processes(monkeypatch):
    values = load_base(monkeypatch, CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    default = values["CACHES"]["default"]
    assert default["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"
    assert default["LOCATION"] == str(values["VAR_DIR"] / "cache")


def test_with_redis_cache_url_the_cache_is_the_fail_soft_redis_backend_with_short_timeouts(
        monkeypatch):
    default = load_base(monkeypatch, REDIS_CACHE_URL="redis://cache.internal:6379/0",
                        CELERY_BROKER_URL="redis://broker.internal:6379/0")["CACHES"]["default"]
    assert default["BACKEND"] == "review_portal.cache.FailSoftRedisCache"
    assert default["LOCATION"] == "redis://cache.internal:6379/0"
    assert default["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] <= 0.5
    assert default["OPTIONS"]["SOCKET_TIMEOUT"] <= 0.5


@pytest.mark.parametrize("cache_url", ["redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379",
                                       "redis://127.0.0.1/0"])
def test_the_cache_may_not_be_the_brokers_redis_database(monkeypatch, cache_url):
    with pytest.raises(ImproperlyConfigured, match="broker's Redis database"):
        load_base(monkeypatch, REDIS_CACHE_URL=cache_url,
                  CELERY_BROKER_URL="redis://127.0.0.1:6379/0")


def test_another_database_of_the_brokers_server_is_allowed(monkeypatch):
    default = load_base(monkeypatch, REDIS_CACHE_URL="redis://127.0.0.1:6379/1",
                        CELERY_BROKER_URL="redis://127.0.0.1:6379/0")["CACHES"]["default"]
    assert default["LOCATION"] == "redis://127.0.0.1:6379/1"


def test_a_cache_url_that_is_not_redis_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="REDIS_CACHE_URL"):
        load_base(monkeypatch, REDIS_CACHE_URL="memcached://127.0.0.1:11211")


def production_caches(**env) -> subprocess.CompletedProcess:
    """Load the production settings in a fresh interpreter (base is already imported here)."""
    from cryptography.fernet import Fernet

    environment = {key: value for key, value in os.environ.items()
                   if key not in {"REDIS_CACHE_URL", "DATABASE_URL", "CELERY_BROKER_URL"}}
    environment.update({"SECRET_KEY": "x" * 60, "ALLOWED_HOSTS": "portal.example.gov",
                        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
                        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
                        "PORTAL_ENCRYPTION_KEYS": Fernet.generate_key().decode(), **env})
    code = ("import json, runpy; "
            "print(json.dumps(runpy.run_module('review_portal.settings.production')['CACHES']))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=60)


def test_production_never_falls_back_to_the_brokers_redis():
    result = production_caches()
    assert result.returncode == 0, result.stderr
    default = json.loads(result.stdout)["default"]
    assert default["BACKEND"] == "django.core.cache.backends.filebased.FileBasedCache"


def test_production_refuses_a_cache_url_that_is_the_brokers():
    result = production_caches(REDIS_CACHE_URL="redis://127.0.0.1:6379/0")
    assert result.returncode != 0
    assert "REDIS_CACHE_URL names the broker's Redis database" in result.stderr


def test_production_uses_redis_cache_url():
    result = production_caches(REDIS_CACHE_URL="redis://cache.internal:6379/0")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["default"]["LOCATION"] == "redis://cache.internal:6379/0"


# --- the fail-soft Redis backend --------------------------------------------------------------

def test_while_redis_answers_the_values_live_in_redis(cache_redis):
    cache.set("greeting", "hello", timeout=60)
    assert cache.get("greeting") == "hello"
    assert cache_redis.client().dbsize() == 1
    assert cache.add("greeting", "again") is False
    assert cache.degraded is False


def test_while_redis_is_down_add_returns_true_then_false_and_never_none(cache_redis):
    # notifications.services.grant_mark_used_later and allauth's rate-limit lock rely on this.
    cache_redis.stop()
    assert cache.add("notifications:grant-used:1", 1, timeout=60) is True
    assert cache.add("notifications:grant-used:1", 1, timeout=60) is False
    assert cache.get("notifications:grant-used:1") == 1
    assert cache.get("missing", "default") == "default"
    assert cache.degraded is True


def test_the_cache_goes_back_to_redis_once_it_answers_again(cache_redis, monkeypatch):
    monkeypatch.setattr(fail_soft, "RETRY_INTERVAL_SECONDS", 0.2)
    cache_redis.stop()
    cache.set("during-the-outage", 1)
    cache_redis.start()
    time.sleep(0.3)
    cache.set("after-the-outage", 2)
    assert cache_redis.client().dbsize() == 1
    assert cache.get("after-the-outage") == 2
    assert cache.degraded is False


def test_a_redis_that_accepts_connections_but_never_answers_costs_one_timeout(settings):
    # A listening socket nobody reads: the connection succeeds, no reply ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        use_cache(settings, f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        started = time.monotonic()
        assert cache.get("anything") is None
        first = time.monotonic() - started
        started = time.monotonic()
        for n in range(10):  # about what one login asks of the cache
            cache.add(f"key{n}", n)
        following = time.monotonic() - started
    assert first < 1.5, first
    assert following < 0.1, following


def test_a_refused_redis_connection_fails_over_at_once(settings):
    use_cache(settings, f"redis://127.0.0.1:{free_port()}/0")
    started = time.monotonic()
    assert cache.add("k", 1) is True
    assert time.monotonic() - started < 0.5
