"""A Redis cache that fails soft: with Redis down, pages and purchases keep working.

Everything simdesk keeps in the cache can be recomputed or lived without: catalogue reads are fetched
again, a job's progress is lost (the page says the update is delayed), a dedupe guard lets a duplicate
through. So a connection error reads as a miss and a write is dropped, after short socket timeouts,
instead of answering 500. One warning per outage, one info line when Redis answers again.

`add` answers True when Redis is down: its callers use it as a dedupe guard (one balance refresh per
burst, one flash message per job), where a duplicate is harmless and a refusal would lose the work.
Nothing uses it as an exclusive lock (work is claimed in the database).
"""

import logging
import threading
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

from kit.degraded import live_updates_failed

logger = logging.getLogger(__name__)

# Seconds to connect to and wait on Redis: a dead host costs a page this much, not a worker timeout.
SOCKET_TIMEOUT = 1.0

_lock = threading.Lock()
_down = False


def _errors() -> tuple[type[BaseException], ...]:
    import redis

    return (redis.RedisError, OSError)


def _failed(exc: BaseException) -> None:
    global _down
    live_updates_failed()
    with _lock:
        first, _down = not _down, True
    if first:
        logger.warning("cache unavailable, working without it: %s", type(exc).__name__)


def _answered() -> None:
    global _down
    if _down:
        with _lock:
            was, _down = _down, False
        if was:
            logger.info("cache available again")


class SoftRedisCache(RedisCache):
    """Django's RedisCache with short timeouts whose reads miss and writes no-op while Redis is down."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", SOCKET_TIMEOUT)
        options.setdefault("socket_timeout", SOCKET_TIMEOUT)
        params["OPTIONS"] = options
        super().__init__(server, params)

    def _soft(self, call: Any, fallback: Any) -> Any:
        try:
            result = call()
        except _errors() as exc:
            _failed(exc)
            return fallback
        _answered()
        return result

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._soft(lambda: super(SoftRedisCache, self).get(key, default, version), default)

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        return self._soft(lambda: super(SoftRedisCache, self).get_many(keys, version), {})

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._soft(lambda: super(SoftRedisCache, self).has_key(key, version), False)

    def set(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        self._soft(lambda: super(SoftRedisCache, self).set(key, value, timeout, version), None)

    def set_many(self, data: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> list[Any]:
        return self._soft(lambda: super(SoftRedisCache, self).set_many(data, timeout, version), [])

    def add(self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        # True: see the module docstring (dedupe guards, never locks).
        return self._soft(lambda: super(SoftRedisCache, self).add(key, value, timeout, version), True)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._soft(lambda: super(SoftRedisCache, self).touch(key, timeout, version), False)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._soft(lambda: super(SoftRedisCache, self).delete(key, version), False)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        self._soft(lambda: super(SoftRedisCache, self).delete_many(keys, version), None)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A miss: Django's own answer for a missing key is ValueError, which callers already handle.
        try:
            result = super().incr(key, delta, version)
        except _errors() as exc:
            _failed(exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from None
        _answered()
        return result

    def clear(self) -> None:
        self._soft(lambda: super(SoftRedisCache, self).clear(), None)
