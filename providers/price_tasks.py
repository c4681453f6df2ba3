"""Thin Celery tasks for catalogs and price snapshots (registered through providers.tasks)."""

from celery import shared_task

from accounts.models import ApiKey, KeyStatus, Team
from providers import errors
from providers.catalog import catalog_keys_due, catalog_sync
from providers.snapshots import snapshot_claim_due, snapshot_team


@shared_task(acks_late=True, ignore_result=True)
def snapshot_team_prices(team_id: int) -> None:
    """Snapshot the prices of every provider the team uses and evaluate its alerts."""
    team = Team.objects.filter(pk=team_id).first()
    if team is not None:
        snapshot_team(team=team)


@shared_task(acks_late=True, ignore_result=True)
def snapshot_sweep() -> None:
    """Sweeper: claim the teams whose snapshot is due (conditional UPDATE) and fan out one task each."""
    for team_id in snapshot_claim_due():
        snapshot_team_prices.delay(team_id)


@shared_task(acks_late=True, ignore_result=True)
def sync_catalog(api_key_id: int) -> None:
    """Sync the catalog of one key's provider; an upstream failure waits for the next sweep."""
    api_key = ApiKey.objects.filter(pk=api_key_id, status=KeyStatus.ACTIVE).first()
    if api_key is None:
        return
    try:
        catalog_sync(api_key=api_key)
    except errors.ProviderError:
        return


@shared_task(acks_late=True, ignore_result=True)
def sync_catalogs() -> None:
    """Sweeper: one catalog sync per provider endpoint whose catalog is missing or a day old."""
    for api_key_id in catalog_keys_due():
        sync_catalog.delay(api_key_id)
