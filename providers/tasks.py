"""Thin Celery tasks around providers.services."""

from celery import shared_task
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, KeyHealth, KeyStatus
from kit.jobs import job_finish
from providers.services import api_key_refresh_balance


@shared_task(acks_late=True, ignore_result=True)
def refresh_key_balance(api_key_id: int, job: str | None = None) -> None:
    """Refresh one key's balance and health; a vanished or disabled key is skipped."""
    api_key = ApiKey.objects.select_related("team").filter(pk=api_key_id, status=KeyStatus.ACTIVE).first()
    if api_key is None:
        job_finish(job, ok=False, message=gettext_noop("This key is not active."))
        return
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
    """Sweeper: one refresh task per active key."""
    for api_key_id in ApiKey.objects.filter(status=KeyStatus.ACTIVE).values_list("pk", flat=True):
        refresh_key_balance.delay(api_key_id)
