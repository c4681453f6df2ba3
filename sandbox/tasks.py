"""Celery tasks of the sandbox: thin wrappers around services."""

from celery import shared_task

from sandbox import services


@shared_task(name="sandbox.tasks.sandbox_tick", ignore_result=True)
def sandbox_tick() -> None:
    """Advance the sandbox clock and deliver due webhooks (beat runs it every 2 s; safe to run twice)."""
    services.tick()
