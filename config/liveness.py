"""Whether the house is alive: the database answers, the broker takes messages, beat and a worker run the
schedule (the beat tick), and every key that needs polling was polled lately.

Read by /healthz (`health`, for monitors) and by the team home (`key_polls`, for owners and admins). Both
cost a constant number of queries whatever the number of keys: the keys due come from the poll sweepers' own
`keys_due` (the keys beat fans out, before it leaves out those in a cycle or with a task on its way, which
a dead poll worker would leave so forever), and their poll state is read in one aggregate per feature.

A key counts as late once it has not been polled for `STALE_INTERVALS` poll intervals. Its lag counts from
its last poll, or from the end of its backoff when it backed off after a fault (it was not due before); a
key due but never polled has no lag to tell and is counted apart (`never_polled`). Keys backing off are not
due: the key's health (the team home's warnings) tells about those.
"""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, Min
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from accounts.models import ApiKey
from activations import polling as activation_polling
from activations.models import KeyPollState
from config.models import Heartbeat
from purchases.models import KeyPollStateBase
from rentals import polling as rental_polling
from rentals.models import RentalPollState

BEAT = "beat"
# Late after this many poll intervals without a poll (a key) or a tick (beat).
STALE_INTERVALS = 3
# Seconds /healthz waits for the broker before calling it down.
BROKER_TIMEOUT = 1.0


def stale_after() -> timedelta:
    """How long without a poll or a tick before it is late: `STALE_INTERVALS` poll intervals."""
    return timedelta(seconds=float(settings.SIMDESK_POLL_INTERVAL) * STALE_INTERVALS)


def beat_tick(*, now: datetime | None = None) -> None:
    """Record that the scheduled beat tick ran now (never moves the time back)."""
    now = now or timezone.now()
    if Heartbeat.objects.filter(name=BEAT, at__lt=now).update(at=now):
        return
    # No row yet (or a later time from another worker's clock): create it, or keep the other's.
    Heartbeat.objects.get_or_create(name=BEAT, defaults={"at": now})


def last_tick() -> datetime | None:
    """When the beat tick last ran; None before it ever did."""
    return Heartbeat.objects.filter(name=BEAT).values_list("at", flat=True).first()


@dataclass(frozen=True)
class Beat:
    last_tick: datetime | None
    age_seconds: float | None
    ok: bool


def beat_state(now: datetime) -> Beat:
    tick = last_tick()
    age = max(0.0, (now - tick).total_seconds()) if tick else None
    return Beat(last_tick=tick, age_seconds=age, ok=tick is not None and now - tick <= stale_after())


def _polled_since() -> Greatest:
    # After a fault the key was not due again before its backoff ended: its lag counts from then. (GREATEST
    # skips NULL on PostgreSQL but not on SQLite, hence the Coalesce.)
    return Greatest("last_polled_at", Coalesce("backoff_until", "last_polled_at"))


@dataclass(frozen=True)
class Polling:
    keys_due: int
    never_polled: int
    oldest_lag_seconds: float | None
    ok: bool


def polling_state(now: datetime) -> Polling:
    """The keys the sweepers would poll now and how late the latest-polled of them is (four queries)."""
    oldest: datetime | None = None
    due: set[int] = set()
    never = 0
    for state_model, key_ids in (
        (KeyPollState, list(activation_polling.keys_due().values_list("pk", flat=True))),
        (RentalPollState, list(rental_polling.keys_due().values_list("pk", flat=True))),
    ):
        due.update(key_ids)
        if not key_ids:
            continue
        row = state_model.objects.filter(api_key_id__in=key_ids, last_polled_at__isnull=False).aggregate(
            since=Min(_polled_since()), polled=Count("pk")
        )
        never += len(key_ids) - row["polled"]
        if row["since"] is not None and (oldest is None or row["since"] < oldest):
            oldest = row["since"]
    lag = max(0.0, (now - oldest).total_seconds()) if oldest else None
    return Polling(
        keys_due=len(due),
        never_polled=never,
        oldest_lag_seconds=lag,
        ok=lag is None or lag <= stale_after().total_seconds(),
    )


def broker_ok() -> bool:
    """Whether the broker accepts a connection within `BROKER_TIMEOUT` (one connection, no message)."""
    from config.celery import app

    try:
        with app.connection_for_write(
            connect_timeout=BROKER_TIMEOUT,
            transport_options={"socket_connect_timeout": BROKER_TIMEOUT, "socket_timeout": BROKER_TIMEOUT},
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT)
    except Exception:  # any failure to connect is the answer, not an error of this page
        return False
    return True


def database_latency() -> float | None:
    """Milliseconds a trivial query takes; None when the database does not answer."""
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return None
    return (time.perf_counter() - started) * 1000


def health(*, now: datetime | None = None) -> tuple[int, dict]:
    """The /healthz answer: its HTTP status and body.

    "down" (503) when the database does not answer: nothing works then, so a monitor pages and a load
    balancer takes the process out. "degraded" (200) when pages work but the background does not (the
    broker, beat and a worker, or a key's polling is late): a monitor alerts on it, a load balancer keeps
    the process. "ok" (200) otherwise.
    """
    latency = database_latency()
    if latency is None:
        return 503, {"status": "down", "database": {"ok": False}}
    now = now or timezone.now()
    beat = beat_state(now)
    polling = polling_state(now)
    broker = broker_ok()
    status = "ok" if broker and beat.ok and polling.ok else "degraded"
    return 200, {
        "status": status,
        "database": {"ok": True, "latency_ms": round(latency, 1)},
        "broker": {"ok": broker},
        "beat": {
            "last_tick": beat.last_tick.isoformat() if beat.last_tick else None,
            "age_seconds": _seconds(beat.age_seconds),
            "ok": beat.ok,
        },
        "polling": {
            "oldest_lag_seconds": _seconds(polling.oldest_lag_seconds),
            "keys_due": polling.keys_due,
            "never_polled": polling.never_polled,
            "ok": polling.ok,
        },
    }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class KeyPoll:
    """When one key was last polled for its numbers and its rents, whether it is due now and whether late."""

    key: ApiKey
    activations_at: datetime | None
    rentals_at: datetime | None
    due: bool
    late: bool


@dataclass(frozen=True)
class Polls:
    beat: Beat
    keys: list[KeyPoll]

    @property
    def late(self) -> list[KeyPoll]:
        return [row for row in self.keys if row.late]


def _states(state_model: type[KeyPollStateBase], keys: list[ApiKey]) -> dict[int, tuple]:
    rows = state_model.objects.filter(api_key__in=keys).values_list(
        "api_key_id", "last_polled_at", _polled_since()
    )
    return {key_id: (polled, since) for key_id, polled, since in rows}


def key_polls(keys: list[ApiKey], *, now: datetime | None = None) -> Polls:
    """For the team home: per key when it was last polled and whether it is late, and beat's last tick.
    Constant queries: the tick, the keys due, one read of each feature's poll state for these keys."""
    now = now or timezone.now()
    limit = now - stale_after()
    rows: dict[int, dict] = {key.pk: {"key": key, "due": False, "late": False} for key in keys}
    for name, state_model, due_ids in (
        ("activations_at", KeyPollState, set(activation_polling.keys_due().values_list("pk", flat=True))),
        ("rentals_at", RentalPollState, set(rental_polling.keys_due().values_list("pk", flat=True))),
    ):
        states = _states(state_model, keys)
        for key_id, row in rows.items():
            polled, since = states.get(key_id, (None, None))
            row[name] = polled
            if key_id in due_ids:
                row["due"] = True
                # Due and not polled within the limit (a key never polled is not late yet: it has no lag).
                row["late"] = row["late"] or (since is not None and since < limit)
    return Polls(beat=beat_state(now), keys=[KeyPoll(**row) for row in rows.values()])
