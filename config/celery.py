"""The Celery app; every periodic schedule of simdesk lives here."""

import os

from celery import Celery
from django.conf import settings

from config import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

broker.install()
app = Celery("simdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Fan out one poll cycle per key with live activations; the per-key lock stops overlaps.
    "poll-activations": {
        "task": "activations.tasks.poll_activations",
        "schedule": settings.SIMDESK_POLL_INTERVAL,
        "options": {"expires": settings.SIMDESK_POLL_INTERVAL * 2},
    },
    # Proves beat and a worker alive: the worker records when it ran (/healthz, the team home).
    "beat-tick": {
        "task": "config.tasks.beat_tick",
        "schedule": settings.SIMDESK_POLL_INTERVAL,
        "options": {"expires": settings.SIMDESK_POLL_INTERVAL * 2},
    },
    "sync-history": {
        "task": "activations.tasks.sync_history",
        "schedule": 900.0,
        "options": {"expires": 600},
    },
    # Rentals: the same per-key fan-out for rent status, and the auto-renew sweeper (safe to run twice).
    "poll-rentals": {
        "task": "rentals.tasks.poll_rentals",
        "schedule": settings.SIMDESK_POLL_INTERVAL,
        "options": {"expires": settings.SIMDESK_POLL_INTERVAL * 2},
    },
    "renew-rentals": {
        "task": "rentals.tasks.renew_rentals",
        "schedule": 30.0,
        "options": {"expires": 60},
    },
    "refresh-balances": {
        "task": "providers.tasks.refresh_all_balances",
        "schedule": 300.0,
        "options": {"expires": 120},
    },
    # Price snapshots: the sweeper claims teams whose own interval (default hourly) has passed; a team
    # never snapshotted is due at once, so a fresh install has prices within a minute.
    "snapshot-prices": {
        "task": "prices.tasks.snapshot_sweep",
        "schedule": 60.0,
        "options": {"expires": 50},
    },
    "sync-catalogs": {
        "task": "prices.tasks.sync_catalogs",
        "schedule": 3600.0,
        "options": {"expires": 1800},
    },
}

if settings.SANDBOX_ENABLED:
    # The sandbox provider's clock: due SMS, expiries, rent messages and webhook retries.
    app.conf.beat_schedule["sandbox-tick"] = {
        "task": "sandbox.tasks.sandbox_tick",
        "schedule": 2.0,
        "options": {"expires": 10},
    }
