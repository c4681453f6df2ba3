"""The per-key poll cycle every feature shares: claim the key, run the feature's cycle, record health, back off.

A cycle claims its key with a conditional UPDATE on the feature's state row (so two workers never poll
one key at once, and a lock left by a dead worker expires), never raises on upstream faults (they mark
the key and back off), and releases the claim whatever happened.
"""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiKey
from kit.fanout import fan_out
from providers import errors
from providers.claims import take
from providers.services import api_key_mark_health
from purchases.models import KeyPollStateBase

logger = logging.getLogger(__name__)

LOCK_TTL = timedelta(seconds=60)
BACKOFF_STEPS = (5, 15, 30, 60, 120, 300)  # seconds, by consecutive failures


def claim(api_key_id: int, *, state_model: type[KeyPollStateBase], fresh_within: float | None = None) -> bool:
    """Take the key's poll claim unless another worker holds it (an expired claim is free again), or, with
    `fresh_within` (seconds), unless a cycle completed that recently (a task that waited in a backed-up queue while
    another cycle polled the key adds no upstream call)."""
    state_model.objects.get_or_create(api_key_id=api_key_id)
    rows = state_model.objects.filter(api_key_id=api_key_id)
    if fresh_within is not None:
        since = timezone.now() - timedelta(seconds=fresh_within)
        rows = rows.filter(Q(last_polled_at__isnull=True) | Q(last_polled_at__lt=since))
    claimed = take(rows, ttl=LOCK_TTL, queued_until=None)
    if not claimed and fresh_within is not None:
        # The sweeper's task was taken: the next sweep may send another.
        state_model.objects.filter(api_key_id=api_key_id).update(queued_until=None)
    return claimed


def release(
    api_key_id: int, *, error: errors.ProviderError | None, state_model: type[KeyPollStateBase]
) -> None:
    """Free the claim; after a fault, wait longer with every consecutive failure (and as long as a 429 asks)."""
    state = state_model.objects.get(api_key_id=api_key_id)
    now = timezone.now()
    if error is None:
        state.failures, state.backoff_until, state.last_error = 0, None, ""
    else:
        state.failures += 1
        delay = BACKOFF_STEPS[min(state.failures, len(BACKOFF_STEPS)) - 1]
        if isinstance(error, errors.RateLimited) and error.retry_after:
            delay = max(delay, int(error.retry_after))
        state.backoff_until = now + timedelta(seconds=delay)
        state.last_error = f"{error.code}: {error.message}"[:300]
    state.locked_until = None
    state.last_polled_at = now
    state.save()


def run_locked_cycle(
    api_key_id: int,
    cycle: Callable[[ApiKey], None],
    *,
    state_model: type[KeyPollStateBase],
    what: str = "poll",
    fresh_within: float | None = None,
) -> str:
    """Claim the key, run `cycle(api_key)`, then record its health and backoff and release the claim.

    Returns a short word for logs; never raises on upstream faults. `fresh_within`: see `claim`.
    """
    if not claim(api_key_id, state_model=state_model, fresh_within=fresh_within):
        return "locked"
    api_key = ApiKey.objects.select_related("team").get(pk=api_key_id)
    error: errors.ProviderError | None = None
    try:
        cycle(api_key)
    except errors.ProviderError as exc:
        error = exc
        api_key_mark_health(api_key=api_key, exc=exc)
        logger.warning("%s of key %s failed: %s", what, api_key_id, exc.code)
    finally:
        release(api_key_id, error=error, state_model=state_model)
    return "error" if error else "ok"


def backing_off(state_model: type[KeyPollStateBase]) -> QuerySet:
    """Keys waiting out their backoff after faults: not due until it ends."""
    return state_model.objects.filter(backoff_until__gt=timezone.now()).values("api_key_id")


def to_send(keys: QuerySet[ApiKey], state_model: type[KeyPollStateBase]) -> list[int]:
    """Of the `keys` due, those a sweep sends a task now (one query): none in a cycle (claimed, not expired)
    or with a task on its way, the longest unpolled first, so when the workers fall behind every key still
    gets its turn."""
    now = timezone.now()
    in_flight = state_model.objects.filter(Q(locked_until__gt=now) | Q(queued_until__gt=now)).values(
        "api_key_id"
    )
    state = state_model._meta.get_field("api_key").remote_field.related_name
    stalest = F(f"{state}__last_polled_at").asc(nulls_first=True)
    return list(keys.exclude(pk__in=in_flight).order_by(stalest, "pk").values_list("pk", flat=True))


def send_polls(task: Any, state_model: type[KeyPollStateBase], key_ids: list[int]) -> int:
    """Send `task` for each key through one broker connection, noting first that a task is on its way (two
    queries, whatever their number): until a worker takes it, or it expires after two intervals, the sweeps
    send that key none, so a queue that falls behind never fills with copies of the same work. A task
    arriving half an interval after a cycle of its key is skipped (`claim`)."""
    interval = float(settings.SIMDESK_POLL_INTERVAL)
    until = timezone.now() + timedelta(seconds=interval * 2)
    state_model.objects.bulk_create([state_model(api_key_id=key) for key in key_ids], ignore_conflicts=True)
    state_model.objects.filter(api_key_id__in=key_ids).update(queued_until=until)
    return fan_out(task, key_ids, expires=interval * 2, kwargs={"fresh_within": interval / 2})
