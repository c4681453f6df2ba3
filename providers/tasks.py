"""Thin Celery tasks around providers.services."""

from celery import shared_task

from accounts.models import ApiKey, KeyStatus
from providers.services import api_key_refresh_balance


@shared_task(acks_late=True, ignore_result=True)
def refresh_key_balance(api_key_id: int) -> None:
    """Refresh one key's balance and health; a vanished or disabled key is skipped."""
    api_key = ApiKey.objects.select_related("team").filter(pk=api_key_id, status=KeyStatus.ACTIVE).first()
    if api_key is not None:
        api_key_refresh_balance(api_key=api_key)


@shared_task(acks_late=True, ignore_result=True)
def refresh_all_balances() -> None:
    """Sweeper: one refresh task per active key."""
    for api_key_id in ApiKey.objects.filter(status=KeyStatus.ACTIVE).values_list("pk", flat=True):
        refresh_key_balance.delay(api_key_id)


# Catalog and price snapshot tasks live in their own module; importing them here registers them.
from providers.price_tasks import snapshot_sweep, snapshot_team_prices, sync_catalog, sync_catalogs  # noqa: E402, F401, I001
