"""Periodic jobs of the house itself (the features keep theirs in their own apps)."""

from celery import shared_task

from config import liveness


@shared_task(ignore_result=True)
def beat_tick() -> None:
    """Beat schedules this every poll interval; a worker running it records the time, which proves both alive
    (/healthz, the team home). Safe to run twice: it only moves the time forward."""
    liveness.beat_tick()
