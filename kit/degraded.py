"""Whether this process lately failed to reach the shared cache or the broker, so pages say that live
updates are delayed (a banner) while everything else works on without them."""

import time

from django.http import HttpRequest

# A failure keeps the banner up this long; every new failure pushes it further.
DELAYED_SECONDS = 60

_delayed_until = 0.0


def live_updates_failed() -> None:
    """Record that the cache or the broker could not be reached just now."""
    global _delayed_until
    _delayed_until = time.monotonic() + DELAYED_SECONDS


def live_updates_delayed() -> bool:
    """Whether the cache or the broker failed within the last `DELAYED_SECONDS`."""
    return time.monotonic() < _delayed_until


def live_updates(request: HttpRequest) -> dict[str, bool]:
    """Context processor: `live_updates_delayed` for the banner of the base layout."""
    return {"live_updates_delayed": live_updates_delayed()}
