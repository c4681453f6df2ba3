"""Thin Celery tasks: the rent poll fan-out, the per-key rent poll cycle and the renewal sweeper."""

from celery import shared_task

from rentals import polling, services


@shared_task(acks_late=True, ignore_result=True)
def poll_rentals() -> int:
    """Beat sweeper: one rent poll task per key that has live rentals or unsettled rents and renewals."""
    key_ids = polling.keys_to_poll()
    for api_key_id in key_ids:
        poll_rental_key.delay(api_key_id)
    return len(key_ids)


@shared_task(acks_late=True, ignore_result=True)
def poll_rental_key(api_key_id: int) -> str:
    """One rent poll cycle for one key; a second task for the same key finds it locked and returns."""
    return polling.poll_key(api_key_id)


@shared_task(acks_late=True, ignore_result=True)
def renew_rentals() -> dict[str, int]:
    """Beat sweeper: renew every rental whose auto-renew is due, once per window (safe to run twice)."""
    return services.sweep_renewals()
