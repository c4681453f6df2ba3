"""A per-key request budget shared by every worker and web process: a token bucket per key.

Providers answer floods with 429, RATE_LIMIT or bans, so each key gets a bucket holding up to
`capacity = max(1, floor(requests_per_second))` tokens, refilled continuously at `requests_per_second`.
Every upstream request takes one token; without one, `throttle()` sleeps until the next token is due
(never longer than `MAX_WAIT_SECONDS` in all, then the request goes ahead anyway).

Where the bucket lives, so that every process on every machine takes from the same one:

- With Redis configured (`settings.REDIS_URL`): one hash per key, updated by one Lua script that
  refills, takes a token or answers the wait. Redis runs a script atomically and the script reads the
  Redis server's own clock (TIME), so the clocks of the machines calling it do not matter. The hash
  expires once it would have refilled completely (a missing bucket is a full one).
- Otherwise (and while Redis does not answer: a warning is logged, Redis is tried again after
  `REDIS_RETRY_SECONDS`): a `RequestBudget` row in the database. One conditional UPDATE refills and
  takes a token; the database runs it atomically (a row lock on PostgreSQL, the database write lock
  on SQLite), so concurrent processes never take the same token. Only when it takes nothing does a
  second query read the row to compute the wait. Times are the callers' wall clocks (`clock`), so
  machines sharing one database need synchronised clocks (NTP); the stored time never goes backwards.
"""

import logging
import math
import time
from collections.abc import Callable

import redis
from django.conf import settings
from django.db.models import F, Value
from django.db.models.functions import Greatest, Least
from django.db.models.lookups import GreaterThanOrEqual
from redis.commands.core import Script

from providers.models import RequestBudget

logger = logging.getLogger(__name__)

# Never wait longer than this for a slot: the caller's own timeout matters more than the budget.
MAX_WAIT_SECONDS = 10.0

# After Redis failed, use the database bucket for this long before trying Redis again.
REDIS_RETRY_SECONDS = 30.0
REDIS_KEY_PREFIX = "simdesk:budget:"

# KEYS[1]: the bucket; ARGV[1]: tokens per second; ARGV[2]: capacity.
# Returns 0 when a token was taken, else the milliseconds until the next one is due.
TAKE_SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate / 1000)
  at = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'at', string.format('%.17g', at))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return wait
"""


def throttle_for(
    key_id: int | str,
    requests_per_second: float,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> Callable[[], None]:
    """A `throttle()` callable for `ProviderClient`: blocks until the key may send one more request.

    `clock` (wall-clock seconds: the database bucket compares times written by different processes) and
    `sleep` are injectable so tests never wait for real time to pass.
    """
    rate = float(requests_per_second)
    if not rate > 0:
        raise ValueError("requests_per_second must be positive")
    capacity = max(1, math.floor(rate))
    name = str(key_id)

    def throttle() -> None:
        deadline = clock() + MAX_WAIT_SECONDS
        while True:
            wait = take(name, rate, capacity, clock)
            if wait <= 0:
                return
            left = deadline - clock()
            if left <= 0:
                return  # waited long enough: go ahead without a token
            sleep(min(wait, left))

    return throttle


def take(name: str, rate: float, capacity: int, clock: Callable[[], float] = time.time) -> float:
    """Take a token from the bucket `name`: 0 when taken, else the seconds until the next one is due."""
    script = _redis_script()
    if script is not None:
        try:
            wait = take_from_redis(script, name, rate, capacity)
        except redis.RedisError as exc:
            _redis_failed(exc)
        else:
            _redis_answered()
            return wait
    return take_from_database(name, rate, capacity, clock())


def take_from_redis(script: Script, name: str, rate: float, capacity: int) -> float:
    """Run the script (EVALSHA, or EVAL the first time a server sees it) on the bucket `name`."""
    return int(script(keys=[REDIS_KEY_PREFIX + name], args=[repr(rate), capacity])) / 1000


def take_from_database(name: str, rate: float, capacity: int, now: float) -> float:
    """The same on the `RequestBudget` row `name`, at the caller's time `now` (seconds since the epoch)."""
    bucket = RequestBudget.objects.filter(name=name)
    elapsed = Greatest(Value(0.0), Value(now) - F("updated_at"))
    refilled = Least(Value(float(capacity)), F("tokens") + elapsed * Value(rate))
    while True:
        # The one statement that takes a token: refill and take in a single atomic UPDATE.
        taken = bucket.filter(GreaterThanOrEqual(refilled, 1.0)).update(
            tokens=refilled - 1.0, updated_at=Greatest(F("updated_at"), Value(now))
        )
        if taken:
            return 0.0
        row = bucket.values_list("tokens", "updated_at").first()
        if row is None:  # first use of this bucket: create it full (once, whoever wins), then take
            RequestBudget.objects.get_or_create(
                name=name, defaults={"tokens": float(capacity), "updated_at": now}
            )
            continue
        tokens, updated_at = row
        tokens = min(capacity, tokens + max(0.0, now - updated_at) * rate)
        # Another process may have changed the row between the two queries: then retry soon.
        return max((1.0 - tokens) / rate, 0.001)


# --- the Redis connection, one per URL per process, and what happens when Redis does not answer ---

_scripts: dict[str, Script] = {}
_redis_down_until = 0.0
_redis_down = False


def _redis_script() -> Script | None:
    """The take script on `settings.REDIS_URL`'s server, or None without Redis or while Redis is down."""
    url = getattr(settings, "REDIS_URL", "")
    if not url or time.monotonic() < _redis_down_until:
        return None
    script = _scripts.get(url)
    if script is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        script = _scripts[url] = client.register_script(TAKE_SCRIPT)
    return script


def _redis_failed(exc: Exception) -> None:
    global _redis_down, _redis_down_until
    if not _redis_down:
        logger.warning(
            "request budget: Redis failed (%s: %s); using the database bucket, retrying Redis in %ss",
            type(exc).__name__,
            exc,
            REDIS_RETRY_SECONDS,
        )
    _redis_down = True
    _redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS


def _redis_answered() -> None:
    global _redis_down
    if _redis_down:
        logger.info("request budget: Redis answers again")
        _redis_down = False
