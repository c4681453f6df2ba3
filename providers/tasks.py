"""Thin Celery tasks around providers.services."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, KeyHealth, KeyStatus
from kit.degraded import live_updates_failed
from kit.fanout import fan_out
from kit.jobs import BROKER_ERRORS, job_finish
from providers.claims import claimed
from providers.services import api_key_refresh_balance

logger = logging.getLogger(__name__)

# A refresh asked for after money moved counts as pending this long at most: a lost task frees the key again.
REFRESH_PENDING_SECONDS = 60
# Not started by then (a backed-up worker), the refresh is dropped: the five-minute sweep has read it anyway.
REFRESH_EXPIRES_SECONDS = 300
# A refresh that finds another one running for the key waits this long, this many times at most.
CLAIM_WAIT_SECONDS = 3
CLAIM_WAITS = 3


def _pending(api_key_id: int) -> str:
    return f"simdesk:balance-refresh-pending:{api_key_id}"


def refresh_key_balance_on_commit(api_key_id: int) -> None:
    """Read the key's balance again once the current transaction commits, because money moved: enqueued
    only if no refresh of the key is pending already (a burst of moves costs one getBalance), and never run
    inside the transaction or the request that moved the money."""

    def enqueue() -> None:
        # `add` is atomic in every shared cache: of two processes settling at once, one enqueues.
        if cache.add(_pending(api_key_id), True, REFRESH_PENDING_SECONDS):
            try:
                refresh_key_balance.apply_async(
                    args=[api_key_id],
                    queue=settings.CELERY_TASK_DEFAULT_QUEUE,
                    expires=REFRESH_EXPIRES_SECONDS,
                )
            except BROKER_ERRORS as exc:
                logger.warning("balance refresh not enqueued: %s", type(exc).__name__)
                live_updates_failed()

    # Robust: the money is booked whatever happens to the broker; the balance sweeper catches up.
    transaction.on_commit(enqueue, robust=True)


@shared_task(acks_late=True, ignore_result=True)
def refresh_key_balance(api_key_id: int, job: str | None = None, waited: int = 0) -> None:
    """Refresh one key's balance and health under the key's claim; a vanished or disabled key is skipped."""
    api_key = ApiKey.objects.select_related("team").filter(pk=api_key_id, status=KeyStatus.ACTIVE).first()
    if api_key is None:
        job_finish(job, ok=False, message=gettext_noop("This key is not active."))
        return
    with claimed(api_key_id, "balance") as mine:
        if not mine:
            # Another worker is reading it, perhaps from before the move that asked for this one: read
            # again after it, a few times at most (the five-minute sweep reads it anyway).
            if waited < CLAIM_WAITS:
                refresh_key_balance.apply_async(
                    args=[api_key_id, job, waited + 1],
                    countdown=CLAIM_WAIT_SECONDS,
                    expires=REFRESH_EXPIRES_SECONDS,
                )
            return
        # From here on the balance is read after every move already committed; a later move enqueues anew.
        cache.delete(_pending(api_key_id))
        api_key_refresh_balance(api_key=api_key)
    if api_key.health == KeyHealth.OK:
        job_finish(
            job, ok=True, message=gettext_noop("Balance of “%(label)s” refreshed."), label=api_key.label
        )
    else:
        job_finish(
            job,
            ok=False,
            message=gettext_noop(
                "The provider did not give the balance of “%(label)s”: see the key's health."
            ),
            label=api_key.label,
        )


@shared_task(acks_late=True, ignore_result=True)
def refresh_all_balances() -> None:
    """Sweeper: one refresh task per active key (one query, whatever the number of keys)."""
    fan_out(refresh_key_balance, ApiKey.objects.filter(status=KeyStatus.ACTIVE).values_list("pk", flat=True))
