"""Per-key claims for background work: two workers never do one key's work of one kind at once.

Every sweeper fans out one task per key; each task takes its key's claim with a conditional UPDATE
(`claim`), does the work, and releases it (`release`), or returns at once when another worker holds it.
A claim left by a worker that died expires after its time to live. The poll cycles keep their own state
rows (`purchases.polling`), which also carry their backoff.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from providers.models import KeyClaim

# Longer than any one key's work (a few upstream calls within the key's request budget); a claim left by a
# worker that died is free again after it.
CLAIM_TTL = timedelta(minutes=5)


def take(rows: QuerySet, *, ttl: timedelta, **also: Any) -> bool:
    """The conditional UPDATE every claim is: take the one row of `rows` (setting `also` with it) unless its
    `locked_until` is still ahead, for `ttl`. The poll cycles' claims (`purchases.polling`) take theirs so."""
    now = timezone.now()
    free = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    return rows.filter(free).update(locked_until=now + ttl, **also) == 1


def claim(api_key_id: int, work: str, *, ttl: timedelta = CLAIM_TTL) -> bool:
    """Take the key's claim on `work` unless another worker holds it (an expired claim is free again)."""
    KeyClaim.objects.get_or_create(api_key_id=api_key_id, work=work)
    return take(KeyClaim.objects.filter(api_key_id=api_key_id, work=work), ttl=ttl)


def release(api_key_id: int, work: str) -> None:
    """Free the claim and note when the work was last done."""
    KeyClaim.objects.filter(api_key_id=api_key_id, work=work).update(
        locked_until=None, last_done_at=timezone.now()
    )


@contextmanager
def claimed(api_key_id: int, work: str, *, ttl: timedelta = CLAIM_TTL) -> Iterator[bool]:
    """`with claimed(key_id, "history") as mine:` do the work only `if mine`; released after."""
    mine = claim(api_key_id, work, ttl=ttl)
    try:
        yield mine
    finally:
        if mine:
            release(api_key_id, work)
