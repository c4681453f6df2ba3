"""Fan-out: a sweeper sends one task per key, thousands at a time, through one broker connection."""

from collections.abc import Iterable
from typing import Any


def fan_out(task: Any, ids: Iterable[Any], **options: Any) -> int:
    """Send `task(id)` for every id, all through one producer (one connection for the whole sweep: taking one
    from the pool for each message costs more than the message), with `options` for each (expires, kwargs).
    Returns how many were sent."""
    sent = 0
    with task.app.producer_or_acquire() as producer:
        for item in ids:
            task.apply_async(args=[item], producer=producer, **options)
            sent += 1
    return sent
