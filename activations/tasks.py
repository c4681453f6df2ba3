"""Thin Celery tasks: the poll fan-out and the per-key poll cycle."""

from celery import shared_task

from activations import polling


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
