"""Thin Celery tasks: the poll fan-out and the per-key poll cycle."""

from celery import shared_task

from accounts.models import ApiKey, KeyStatus
from activations import polling
from activations.history_sync import history_sync


@shared_task(acks_late=True, ignore_result=True)
def poll_activations() -> int:
    """Beat sweeper: one poll task per key that has live or unsettled activations."""
    key_ids = polling.keys_to_poll()
    for api_key_id in key_ids:
        poll_key.delay(api_key_id)
    return len(key_ids)


@shared_task(acks_late=True, ignore_result=True)
def poll_key(api_key_id: int) -> str:
    """One poll cycle for one key; a second task for the same key finds it locked and returns."""
    return polling.poll_key(api_key_id)


@shared_task(acks_late=True, ignore_result=True)
def sync_history() -> int:
    """Beat sweeper: reconcile every active key's recent history with the provider's getHistory."""
    changed = 0
    for api_key in ApiKey.objects.filter(status=KeyStatus.ACTIVE).select_related("team"):
        changed += history_sync(api_key=api_key)
    return changed
