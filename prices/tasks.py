"""Thin Celery tasks for catalogs and price snapshots. A `job` id, when a member asked for the work from a
page, gets the outcome (kit.jobs) so the page can show it."""

from celery import shared_task
from django.utils.translation import gettext_noop, ngettext_lazy

from accounts.models import ApiKey, KeyStatus, Team
from kit.fanout import fan_out
from kit.jobs import job_finish
from prices.services import snapshot_claim_due, snapshot_team, team_price_settings
from providers import errors
from providers.catalog import catalog_keys_due, catalog_sync
from providers.claims import claimed


@shared_task(acks_late=True, ignore_result=True)
def snapshot_team_prices(team_id: int, job: str | None = None) -> None:
    """Snapshot the prices of every provider the team uses and evaluate its alerts."""
    team = Team.objects.filter(pk=team_id).first()
    if team is None:
        job_finish(job, ok=False, message=gettext_noop("The team no longer exists."))
        return
    try:
        snapshots = snapshot_team(team=team)
    except Exception:
        job_finish(job, ok=False, message=gettext_noop("The snapshot failed; it is retried on schedule."))
        raise
    error = team_price_settings(team).last_error
    if error:
        job_finish(
            job, ok=False, message=gettext_noop("Snapshot finished with problems: %(error)s"), error=error
        )
    else:
        job_finish(
            job,
            ok=True,
            message=ngettext_lazy(
                "Snapshot stored: %(n)s price read, changed prices: %(changes)s.",
                "Snapshot stored: %(n)s price reads, changed prices: %(changes)s.",
                "n",
            ),
            n=len(snapshots),
            changes=sum(s.changes for s in snapshots),
        )


@shared_task(acks_late=True, ignore_result=True)
def snapshot_sweep() -> None:
    """Sweeper: claim the teams whose snapshot is due (conditional UPDATE) and fan out one task each."""
    fan_out(snapshot_team_prices, snapshot_claim_due())


@shared_task(acks_late=True, ignore_result=True)
def sync_catalog(api_key_id: int, job: str | None = None) -> None:
    """Sync the catalog of one key's provider; an upstream failure waits for the next sweep."""
    api_key = ApiKey.objects.filter(pk=api_key_id, status=KeyStatus.ACTIVE).first()
    if api_key is None:
        job_finish(job, ok=False, message=gettext_noop("This key is not active."))
        return
    try:
        with claimed(api_key_id, "catalog") as mine:
            if not mine:
                job_finish(job, ok=True, message=gettext_noop("The catalog is being refreshed already."))
                return
            catalog_sync(api_key=api_key)
    except errors.ProviderError as exc:
        job_finish(
            job,
            ok=False,
            message=gettext_noop("The provider did not answer the catalog request (%(code)s)."),
            code=exc.code,
        )
        return
    job_finish(job, ok=True, message=gettext_noop("Catalog of “%(label)s” refreshed."), label=api_key.label)


@shared_task(acks_late=True, ignore_result=True)
def sync_catalogs() -> None:
    """Sweeper: one catalog sync per provider endpoint whose catalog is missing or a day old."""
    fan_out(sync_catalog, catalog_keys_due())
