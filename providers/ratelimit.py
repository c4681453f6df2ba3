"""A per-key request budget shared by every worker and web process (fixed one-second windows in the cache).

Providers answer floods with 429, RATE_LIMIT or bans, so each key gets at most its profile's
`requests_per_second`. The counter lives in the Django cache (Redis in production, so the budget is
shared across machines; a file cache in development, shared by the processes of one machine).
"""

import math
import time

from django.core.cache import caches

# Never wait longer than this for a slot: the caller's own timeout matters more than the budget.
MAX_WAIT_SECONDS = 10.0


def throttle_for(key_id: int | str, requests_per_second: float):
    """A `throttle()` callable for `ProviderClient`: blocks until the key may send one more request."""
    limit = max(1, math.floor(requests_per_second))

    def throttle() -> None:
        cache = caches["default"]
        deadline = time.monotonic() + MAX_WAIT_SECONDS
        while True:
            window = int(time.time())
            name = f"simdesk:rate:{key_id}:{window}"
            cache.add(name, 0, timeout=5)
            try:
                used = cache.incr(name)
            except ValueError:  # expired between add and incr: a fresh window
                used = 1
                cache.set(name, 1, timeout=5)
            if used <= limit or time.monotonic() >= deadline:
                return
            time.sleep(max(0.01, window + 1 - time.time()))

    return throttle
