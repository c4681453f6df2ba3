"""What a key's provider turned out to lack: optional actions it answered BAD_ACTION to.

A profile lists the optional actions a provider answers; a custom profile lists them all, since nobody
knows. Where the provider answers BAD_ACTION (SMSBower to getActiveActivations), the key keeps that with
the time (`MissingAction`), callers take their fallback without asking again, and a day later the action
is tried again, because providers add actions.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from django.utils import timezone

from accounts.models import ApiKey
from providers import errors
from providers.keys import profile_for_key
from providers.models import MissingAction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a learned BAD_ACTION stands before the action is tried again.
ACTION_RECHECK = timedelta(days=1)


def api_key_try_action(
    *, api_key: ApiKey, action: str, call: Callable[[], T], now: datetime | None = None
) -> T | None:
    """Make `call` (an optional action of the key's provider), unless the provider lacks the action.

    None, and `call` not made, when the key's profile does not list `action` or the provider answered
    BAD_ACTION to it less than `ACTION_RECHECK` before `now`: the caller takes its fallback. A BAD_ACTION
    answer is kept on the key with `now` and gives None too; the first real answer after a re-check
    forgets it. `call` must not return None; every other error propagates.
    """
    if not profile_for_key(api_key).supports_action(action):
        return None
    now = now or timezone.now()
    learned_at = (
        MissingAction.objects.filter(api_key=api_key, action=action)
        .values_list("learned_at", flat=True)
        .first()
    )
    if learned_at is not None and learned_at > now - ACTION_RECHECK:
        return None
    try:
        result = call()
    except errors.BadAction:
        MissingAction.objects.update_or_create(api_key=api_key, action=action, defaults={"learned_at": now})
        if learned_at is None:
            logger.info("key %s: the provider lacks %s, its callers fall back", api_key.pk, action)
        return None
    if learned_at is not None:
        MissingAction.objects.filter(api_key=api_key, action=action).delete()
        logger.info("key %s: the provider answers %s again", api_key.pk, action)
    return result
