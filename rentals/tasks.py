"""Thin Celery tasks: the rent poll fan-out, the per-key rent poll cycle and the renewal sweeper."""

from celery import shared_task

from kit.fanout import fan_out
from providers.claims import claimed
from purchases.polling import send_polls
from rentals import polling, services
from rentals.models import RentalPollState


@shared_task(acks_late=True, ignore_result=True)
def poll_rentals() -> int:
    """Beat sweeper: one rent poll task per key that has live rentals or unsettled rents and renewals."""
    return send_polls(poll_rental_key, RentalPollState, polling.keys_to_poll())


@shared_task(acks_late=True, ignore_result=True)
def poll_rental_key(api_key_id: int, fresh_within: float | None = None) -> str:
    """One rent poll cycle for one key; a second task for the same key finds it locked (or just polled) and
    returns."""
    return polling.poll_key(api_key_id, fresh_within=fresh_within)


@shared_task(acks_late=True, ignore_result=True)
def renew_rentals() -> int:
    """Beat sweeper: settle renewals left by dead workers, then one renewal task per key with a renewal due
    (a constant number of queries, whatever the number of keys)."""
    services.expire_stale_renewals()
    return fan_out(renew_key_rentals, services.renewal_keys())


@shared_task(acks_late=True, ignore_result=True)
def renew_key_rentals(api_key_id: int) -> dict[str, int]:
    """Renew one key's due rentals, under the key's claim (two workers never renew one key at once; each
    renewal is also safe to run twice)."""
    with claimed(api_key_id, "renewals") as mine:
        return services.renew_key_rentals(api_key_id) if mine else {"locked": 1}
