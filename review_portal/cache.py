"""A Redis cache that keeps the portal up when Redis is down.

django-redis does the Redis work (pool, timeouts, serialisation). Its own IGNORE_EXCEPTIONS is
not enough: it answers None from add() while Redis is down, and allauth's rate limiter takes a
lock with `while not cache.add(...)`, so every login then waits a second and is refused with a
429, and every TOTP code is refused as "already used". Here a call that Redis cannot answer is
answered by a per-process memory cache instead, which keeps the contract every caller relies on:
add() returns True (stored) or False (already there), never None.

While Redis is down, rate limits and used-code markers hold per process rather than across the
site; the values kept in memory are not copied back when Redis returns.
"""

import logging
import threading
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# After a failure the process stops asking Redis for this long, so a Redis that does not answer
# costs one socket timeout per process per interval, not one per cache call (a login makes ~10).
RETRY_INTERVAL_SECONDS = 5.0
REDIS_ERRORS = (ConnectionInterrupted, RedisError, OSError)

# Per process, shared by the per-thread cache objects Django creates: server -> monotonic time
# before which Redis is not tried.
_down_until: dict[str, float] = {}
_state_lock = threading.Lock()


class FailSoftRedisCache(BaseCache):
    """CACHES backend: LOCATION and OPTIONS as for django_redis.cache.RedisCache."""

    def __init__(self, server: str, params: dict):
        super().__init__(params)
        self._server = server
        options = dict(params.get("OPTIONS", {}))
        options["IGNORE_EXCEPTIONS"] = False  # this class must see the failure to fall back
        self._redis = RedisCache(server, {**params, "OPTIONS": options})
        local_params = {key: value for key, value in params.items() if key != "OPTIONS"}
        self._local = LocMemCache(f"fail-soft:{server}",
                                  {**local_params, "OPTIONS": {"MAX_ENTRIES": 10_000}})

    @property
    def degraded(self) -> bool:
        """True while this process answers from memory because Redis failed."""
        return time.monotonic() < _down_until.get(self._server, 0.0)

    def _call(self, method: str, *args, **kwargs):
        if not self.degraded:
            try:
                result = getattr(self._redis, method)(*args, **kwargs)
            except REDIS_ERRORS as exc:
                self._mark_down(exc)
            else:
                self._mark_up()
                return result
        return getattr(self._local, method)(*args, **kwargs)

    def _mark_down(self, exc: BaseException) -> None:
        with _state_lock:
            was_up = self._server not in _down_until
            _down_until[self._server] = time.monotonic() + RETRY_INTERVAL_SECONDS
        if was_up:
            logger.warning("The Redis cache is unreachable (%s: %s); answering from this "
                           "process's memory, retrying every %g s", type(exc).__name__, exc,
                           RETRY_INTERVAL_SECONDS)

    def _mark_up(self) -> None:
        if self._server in _down_until:
            with _state_lock:
                recovered = _down_until.pop(self._server, None) is not None
            if recovered:
                logger.warning("The Redis cache answers again")

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return bool(self._call("add", key, value, timeout=timeout, version=version))

    def get(self, key, default=None, version=None):
        return self._call("get", key, default=default, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> None:
        self._call("set", key, value, timeout=timeout, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        return bool(self._call("touch", key, timeout=timeout, version=version))

    def delete(self, key, version=None) -> bool:
        return bool(self._call("delete", key, version=version))

    def get_many(self, keys, version=None) -> dict:
        return self._call("get_many", keys, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None) -> list:
        return self._call("set_many", data, timeout=timeout, version=version) or []

    def delete_many(self, keys, version=None) -> None:
        self._call("delete_many", keys, version=version)

    def has_key(self, key, version=None) -> bool:
        return bool(self._call("has_key", key, version=version))

    def incr(self, key, delta=1, version=None) -> int:
        return self._call("incr", key, delta=delta, version=version)

    def decr(self, key, delta=1, version=None) -> int:
        return self._call("decr", key, delta=delta, version=version)

    def clear(self) -> None:
        self._local.clear()
        self._call("clear")

    def close(self, **kwargs) -> None:
        try:
            self._redis.close(**kwargs)
        except REDIS_ERRORS:
            pass
