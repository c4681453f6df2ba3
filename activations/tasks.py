"""Thin Celery tasks: the poll fan-out and the per-key poll cycle."""

from celery import shared_task

from accounts.models import ApiKey, KeyStatus
from activations import polling
from activations.history_sync import history_sync
from activations.models import KeyPollState
from kit.fanout import fan_out
from providers.claims import claimed
from purchases.polling import send_polls


@shared_task(acks_late=True, ignore_result=True)
def poll_activations() -> int:
    """Beat sweeper: one poll task per key that has live or unsettled activations."""
    return send_polls(poll_key, KeyPollState, polling.keys_to_poll())


@shared_task(acks_late=True, ignore_result=True)
def poll_key(api_key_id: int, fresh_within: float | None = None) -> str:
    """One poll cycle for one key; a second task for the same key finds it locked (or just polled) and
    returns."""
    return polling.poll_key(api_key_id, fresh_within=fresh_within)


@shared_task(acks_late=True, ignore_result=True)
def sync_history() -> int:
    """Beat sweeper: one history task per active key (one query, whatever the number of keys)."""
    return fan_out(
        sync_key_history, ApiKey.objects.filter(status=KeyStatus.ACTIVE).values_list("pk", flat=True)
    )


@shared_task(acks_late=True, ignore_result=True)
def sync_key_history(api_key_id: int) -> int:
    """Reconcile one key's recent history with the provider's getHistory, under the key's claim."""
    with claimed(api_key_id, "history") as mine:
        api_key = ApiKey.objects.select_related("team").filter(pk=api_key_id, status=KeyStatus.ACTIVE).first()
        if not mine or api_key is None:
            return 0
        return history_sync(api_key=api_key)
