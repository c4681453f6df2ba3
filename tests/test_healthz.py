"""/healthz for monitors: JSON with the database, the broker, beat's last tick and the oldest poll lag of the
keys due; 503 only when the database is down; a constant number of queries whatever the number of keys."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from activations.models import Activation, ActivationStatus, KeyPollState
from config import liveness
from config.tasks import beat_tick
from rentals.models import Rental, RentalPollState, RentalStatus
from tests.accounts.conftest import make_key

INTERVAL = 3.0


@pytest.fixture(autouse=True)
def _interval(settings, monkeypatch):
    settings.SIMDESK_POLL_INTERVAL = INTERVAL
    # The broker is another test's subject (and a machine's service): here it answers.
    monkeypatch.setattr(liveness, "broker_ok", lambda: True)


def live_activation(api_key, n: int = 0) -> Activation:
    return Activation.objects.create(
        team=api_key.team,
        api_key=api_key,
        service="tg",
        country=0,
        currency="RUB",
        status=ActivationStatus.WAITING,
        upstream_id=f"9{api_key.pk}{n}",
        phone=f"7900{api_key.pk:04d}{n:03d}",
    )


def polled(api_key, ago: float, *, state_model=KeyPollState, **fields) -> None:
    state_model.objects.update_or_create(
        api_key=api_key, defaults={"last_polled_at": timezone.now() - timedelta(seconds=ago), **fields}
    )


def test_it_answers_json_with_every_part(client, db):
    beat_tick()
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/json"
    assert "no-cache" in answer["Cache-Control"] or "max-age=0" in answer["Cache-Control"]
    body = answer.json()
    assert set(body) == {"status", "database", "broker", "beat", "polling"}
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True and body["database"]["latency_ms"] >= 0
    assert body["broker"] == {"ok": True}
    assert body["beat"]["ok"] is True and body["beat"]["age_seconds"] < INTERVAL
    assert body["beat"]["last_tick"].startswith(str(timezone.now().year))
    assert body["polling"] == {"oldest_lag_seconds": None, "keys_due": 0, "never_polled": 0, "ok": True}


def test_it_is_degraded_before_beat_ever_ran_and_when_the_tick_is_stale(client, db):
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["beat"] == {"last_tick": None, "age_seconds": None, "ok": False}

    liveness.beat_tick(now=timezone.now() - timedelta(seconds=INTERVAL * 3 + 1))
    answer = client.get("/healthz")
    assert answer.status_code == 200  # pages work: a load balancer keeps the process
    body = answer.json()
    assert body["status"] == "degraded"
    assert body["beat"]["ok"] is False and body["beat"]["age_seconds"] > INTERVAL * 3

    beat_tick()
    assert client.get("/healthz").json()["beat"]["ok"] is True


def test_the_tick_never_moves_back(db):
    now = timezone.now()
    liveness.beat_tick(now=now)
    liveness.beat_tick(now=now - timedelta(minutes=5))  # a worker with a slow clock, or a late duplicate
    assert liveness.last_tick() == now


def test_the_injected_clock_decides_the_ages(db):
    now = timezone.now()
    liveness.beat_tick(now=now)
    status, body = liveness.health(now=now + timedelta(seconds=INTERVAL * 3 - 0.5))
    assert (status, body["status"], body["beat"]["ok"]) == (200, "ok", True)
    status, body = liveness.health(now=now + timedelta(seconds=INTERVAL * 3 + 0.5))
    assert (status, body["status"], body["beat"]["ok"]) == (200, "degraded", False)


def test_a_key_due_whose_last_poll_is_old_shows_its_lag(client, team):
    beat_tick()
    fresh, stale, idle = (
        make_key(team, label="Fresh"),
        make_key(team, label="Stale"),
        make_key(team, label="Idle"),
    )
    live_activation(fresh)
    live_activation(stale)
    polled(fresh, 1)
    polled(stale, 40)
    polled(idle, 4000)  # nothing live: not due, however old its last poll
    body = client.get("/healthz").json()
    assert body["status"] == "degraded"
    assert body["polling"]["keys_due"] == 2
    assert body["polling"]["ok"] is False
    assert 40 <= body["polling"]["oldest_lag_seconds"] < 45
    # No team, key or number in a public answer.
    text = client.get("/healthz").content.decode()
    assert "Acme" not in text and "Stale" not in text and "acme" not in text


def test_rent_polls_count_too(client, team):
    beat_tick()
    key = make_key(team)
    Rental.objects.create(
        team=team, api_key=key, service="tg", country=0, currency="RUB", status=RentalStatus.ACTIVE, hours=4
    )
    polled(key, 100, state_model=RentalPollState)
    body = client.get("/healthz").json()
    assert body["polling"]["keys_due"] == 1
    assert body["polling"]["oldest_lag_seconds"] >= 100


def test_a_key_that_backed_off_counts_from_the_end_of_its_backoff(client, team):
    beat_tick()
    key = make_key(team)
    live_activation(key)
    # Polled 60 s ago, failed, backed off until 1 s ago: due for 1 s, not late for 60.
    polled(key, 60, backoff_until=timezone.now() - timedelta(seconds=1), failures=3)
    body = client.get("/healthz").json()
    assert body["polling"]["keys_due"] == 1
    assert body["polling"]["oldest_lag_seconds"] < INTERVAL
    assert body["status"] == "ok"


def test_a_key_backing_off_is_not_due(client, team):
    beat_tick()
    key = make_key(team)
    live_activation(key)
    polled(key, 60, backoff_until=timezone.now() + timedelta(seconds=30), failures=3)
    body = client.get("/healthz").json()
    assert body["polling"]["keys_due"] == 0 and body["status"] == "ok"


def test_a_key_whose_task_waits_in_the_queue_still_counts_as_late(client, team):
    beat_tick()
    key = make_key(team)
    live_activation(key)
    # The sweeps keep sending it a task that no poll worker takes (the poller is down): it is still late.
    polled(key, 60, queued_until=timezone.now() + timedelta(seconds=2 * INTERVAL))
    body = client.get("/healthz").json()
    assert body["polling"]["keys_due"] == 1
    assert body["polling"]["oldest_lag_seconds"] >= 60 and body["status"] == "degraded"


def test_a_key_due_but_never_polled_is_counted_apart(client, team):
    beat_tick()
    live_activation(make_key(team))
    body = client.get("/healthz").json()
    assert body["polling"] == {"oldest_lag_seconds": None, "keys_due": 1, "never_polled": 1, "ok": True}


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/healthz").status_code == 200
    return len(queries)


def test_the_query_count_is_the_same_for_1_and_20_keys(client, team):
    beat_tick()
    keys = [make_key(team, label=f"K{n}") for n in range(20)]
    for n, key in enumerate(keys):
        live_activation(key)
        Rental.objects.create(
            team=team,
            api_key=key,
            service="tg",
            country=0,
            currency="RUB",
            status=RentalStatus.ACTIVE,
            hours=4,
        )
        polled(key, n)
        polled(key, n, state_model=RentalPollState)
    Activation.objects.exclude(api_key=keys[0]).delete()
    Rental.objects.exclude(api_key=keys[0]).delete()
    one = _queries(client)
    assert client.get("/healthz").json()["polling"]["keys_due"] == 1
    for key in keys[1:]:
        live_activation(key)
        Rental.objects.create(
            team=team,
            api_key=key,
            service="tg",
            country=0,
            currency="RUB",
            status=RentalStatus.ACTIVE,
            hours=4,
        )
    assert client.get("/healthz").json()["polling"]["keys_due"] == 20
    assert _queries(client) == one
    print(f"/healthz: {one} queries")


def test_it_is_down_with_503_when_the_database_does_not_answer(client, db, monkeypatch):
    class Unreachable:
        def cursor(self):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(liveness, "connection", Unreachable())
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "down", "database": {"ok": False}}


def test_it_is_degraded_when_the_broker_does_not_answer(client, db, monkeypatch):
    beat_tick()
    monkeypatch.setattr(liveness, "broker_ok", lambda: False)
    body = client.get("/healthz").json()
    assert body["status"] == "degraded" and body["broker"] == {"ok": False}


def test_the_broker_check_answers_false_for_a_broker_that_is_not_there(settings, monkeypatch):
    from config.celery import app

    monkeypatch.undo()  # the real check
    assert liveness.broker_ok() is True  # the broker the tests run with (a folder, or Redis in CI)
    monkeypatch.setattr(app.conf, "broker_write_url", "redis://127.0.0.1:9/0")
    assert liveness.broker_ok() is False


@pytest.mark.django_db(transaction=True)
def test_a_real_beat_and_worker_keep_the_tick_fresh(client, live_server, tmp_path):
    """The schedule's entry reaches a worker: beat sends the tick, the worker records it, /healthz sees it."""
    from tests.conftest import celery_worker, wait_for

    assert client.get("/healthz").json()["beat"]["ok"] is False
    with celery_worker(live_server, tmp_path, beat=True):
        assert wait_for(lambda: liveness.last_tick() is not None)
    beat = client.get("/healthz").json()["beat"]
    assert beat["ok"] is True and beat["age_seconds"] < INTERVAL
