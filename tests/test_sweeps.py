"""Every sweeper fans out one task per key at a constant cost in queries, and each key's work runs under the
key's claim: two real workers on one queue never do one key's work at once."""

import threading
from collections import Counter

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiKey
from activations import polling as activation_polling
from activations import tasks as activation_tasks
from activations.models import Activation, ActivationStatus, KeyPollState
from providers import tasks as provider_tasks
from providers.claims import claim, claimed, release
from providers.models import KeyClaim
from rentals import polling as rental_polling
from rentals import tasks as rental_tasks
from rentals.models import Rental, RentalPollState, RentalStatus
from tests.accounts.conftest import make_key
from tests.activations.conftest import register_key
from tests.conftest import celery_worker, sandbox_account, wait_for

SWEEPERS = [
    (activation_tasks.poll_activations, activation_tasks.poll_key),
    (rental_tasks.poll_rentals, rental_tasks.poll_rental_key),
    (activation_tasks.sync_history, activation_tasks.sync_key_history),
    (provider_tasks.refresh_all_balances, provider_tasks.refresh_key_balance),
]


def _keys_with_work(team, count: int) -> list[ApiKey]:
    """`count` keys, each with a live activation and a live rent (no upstream: the sweepers only read)."""
    keys = []
    for n in range(count):
        api_key = make_key(team, label=f"Key {ApiKey.objects.count()} {n}")
        Activation.objects.create(
            team=team, api_key=api_key, service="tg", currency="RUB", status=ActivationStatus.WAITING
        )
        Rental.objects.create(
            team=team, api_key=api_key, service="tg", currency="RUB", status=RentalStatus.ACTIVE
        )
        keys.append(api_key)
    return keys


@pytest.mark.parametrize(("sweeper", "per_key"), SWEEPERS, ids=lambda task: task.name.rsplit(".", 1)[-1])
def test_a_sweep_costs_the_same_queries_for_two_keys_as_for_twenty(team, monkeypatch, sweeper, per_key):
    sent: list[int] = []
    monkeypatch.setattr(per_key, "apply_async", lambda args, **options: sent.append(args[0]))
    monkeypatch.setattr(per_key, "delay", lambda *args, **kwargs: sent.append(args[0]))

    costs = []
    for count in (2, 20):
        _keys_with_work(team, count if not costs else count - 2)
        # The workers took the tasks of the sweep before.
        KeyPollState.objects.update(queued_until=None)
        RentalPollState.objects.update(queued_until=None)
        sent.clear()
        with CaptureQueriesContext(connection) as queries:
            sweeper()
        costs.append(len(queries))
        assert len(sent) == count, sweeper.name
    assert costs[0] == costs[1], costs


@pytest.mark.parametrize(
    ("sweeper", "per_key", "run"),
    [
        (activation_tasks.poll_activations, activation_tasks.poll_key, activation_polling.poll_key),
        (rental_tasks.poll_rentals, rental_tasks.poll_rental_key, rental_polling.poll_key),
    ],
    ids=["activations", "rentals"],
)
def test_a_poll_sweep_sends_a_key_no_second_task_until_the_first_is_taken(
    team, monkeypatch, sweeper, per_key, run
):
    sent: list[int] = []
    monkeypatch.setattr(per_key, "apply_async", lambda args, **options: sent.append(args[0]))
    (api_key,) = _keys_with_work(team, 1)
    sweeper()
    sweeper()
    # A queue that fell behind holds one task per key, not one per sweep.
    assert sent == [api_key.pk]
    # A worker takes it and finds the key polled a moment ago (by a cycle of its own): nothing to do, and the
    # next sweep may send again.
    state = (KeyPollState if run is activation_polling.poll_key else RentalPollState).objects
    state.filter(api_key=api_key).update(last_polled_at=timezone.now())
    assert run(api_key.pk, fresh_within=3600.0) == "locked"
    sweeper()
    assert sent == [api_key.pk, api_key.pk]


def test_the_renewal_sweep_fans_out_per_key_with_renewals_due(team, monkeypatch):
    sent: list[int] = []
    monkeypatch.setattr(
        rental_tasks.renew_key_rentals, "apply_async", lambda args, **options: sent.append(args[0])
    )
    monkeypatch.setattr(rental_tasks.services, "renewal_keys", lambda: [3, 5])
    with CaptureQueriesContext(connection) as queries:
        assert rental_tasks.renew_rentals() == 2
    assert sent == [3, 5]
    assert len(queries) <= 2


def test_a_claim_is_taken_once_and_free_again_after_release_or_expiry(team):
    from datetime import timedelta

    api_key = make_key(team)
    assert claim(api_key.pk, "history", ttl=timedelta(minutes=5))
    assert not claim(api_key.pk, "history", ttl=timedelta(minutes=5))
    # Another kind of work of the same key is its own claim.
    assert claim(api_key.pk, "balance", ttl=timedelta(minutes=5))
    release(api_key.pk, "history")
    assert KeyClaim.objects.get(api_key=api_key, work="history").last_done_at is not None
    with claimed(api_key.pk, "history", ttl=timedelta(seconds=-1)) as mine:
        assert mine
        # Left by a worker that died: expired at once here, so free again.
        assert claim(api_key.pk, "history", ttl=timedelta(minutes=5))


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_the_sweeps_and_never_work_one_key_at_once(
    team, live_server, sandbox_url, tmp_path
):
    if connection.vendor != "postgresql":
        pytest.skip("two worker processes writing at once need PostgreSQL; CI runs it")
    from sandbox import views as sandbox_views

    keys = []
    for n in range(4):
        secret = sandbox_account("--balance", "100")
        # Each call takes a while, so two workers given the same key's work overlap if nothing stops them.
        call_command("sandbox_account", "set", secret, "--latency-ms", "400")
        keys.append((register_key(team, secret, label=f"Key {n}"), secret))
    by_secret = {secret: api_key.pk for api_key, secret in keys}

    lock = threading.Lock()
    in_flight: Counter = Counter()
    most: Counter = Counter()
    calls: Counter = Counter()
    dispatch = sandbox_views.dispatch

    def watched(params, now, **kwargs):
        name = (by_secret.get(params.get("api_key", "")), params.get("action", ""))
        with lock:
            in_flight[name] += 1
            calls[name] += 1
            most[name] = max(most[name], in_flight[name])
        try:
            return dispatch(params, now, **kwargs)
        finally:
            with lock:
                in_flight[name] -= 1

    sandbox_views.dispatch = watched
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    try:
        with (
            celery_worker(live_server, tmp_path / "a", beat=False) as queue,
            celery_worker(live_server, tmp_path / "b", beat=False, queue=queue),
        ):
            assert wait_for(
                lambda: all("ready." in (tmp_path / name / "worker.log").read_text() for name in ("a", "b")),
                timeout=30,
            )
            # Each key's work sent twice in a row: the two workers take the two copies together.
            for api_key, _secret in keys:
                for task in (activation_tasks.sync_key_history, provider_tasks.refresh_key_balance):
                    for _ in range(2):
                        task.apply_async(args=[api_key.pk], queue=queue)
            done = wait_for(
                lambda: (
                    KeyClaim.objects.filter(last_done_at__isnull=False, locked_until__isnull=True).count()
                    == 2 * len(keys)
                ),
                timeout=60,
            )
            logs = [(tmp_path / name / "worker.log").read_text() for name in ("a", "b")]
    finally:
        sandbox_views.dispatch = dispatch
    assert done, calls
    for api_key, _secret in keys:
        for action in ("getHistory", "getBalance"):
            assert calls[(api_key.pk, action)] >= 1, (api_key.label, action, calls)
            assert most[(api_key.pk, action)] == 1, (api_key.label, action, most)
    # Both workers took part.
    assert all("succeeded" in log for log in logs)
