"""With Redis (the cache and the broker) down, the pages and purchases work on and say live updates are delayed."""

import uuid

import pytest
from celery.app.task import Task
from django.core.cache import cache
from django.urls import reverse
from kombu.exceptions import OperationalError

from accounts.models import LedgerEntry
from activations.models import Activation, ActivationStatus
from kit import degraded, jobs
from rentals.models import Rental, RentalStatus
from tests.activations.conftest import _steady_sandbox, make_key  # noqa: F401 - shared fixtures
from tests.conftest import login

# Nothing listens on port 1: every connection is refused at once.
DEAD_REDIS = "redis://127.0.0.1:1/0"
DELAYED = "Live updates are delayed"


@pytest.fixture(autouse=True)
def redis_down(settings, monkeypatch):
    settings.REDIS_URL = DEAD_REDIS
    settings.CACHES = {"default": {"BACKEND": "config.cache.SoftRedisCache", "LOCATION": DEAD_REDIS}}
    monkeypatch.setattr(degraded, "_delayed_until", 0.0)

    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

    # The broker is the same dead Redis: sending any task fails the way kombu fails.
    monkeypatch.setattr(Task, "apply_async", broker_down)
    yield


def test_it_reads_a_miss_and_drops_writes_while_redis_is_down():
    cache.set("k", 1)
    assert cache.get("k") is None and cache.get("k", "default") == "default"
    assert cache.add("guard", True) is True  # a dedupe guard lets the work through
    assert cache.delete("k") is False
    with pytest.raises(ValueError):
        cache.incr("k")
    assert degraded.live_updates_delayed()


def test_it_buys_and_shows_the_pages_with_redis_down(team, bob, make_key):  # noqa: F811
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(bob)
    assert client.get(reverse("activations:buy", args=[team.slug])).status_code == 200
    response = client.post(
        reverse("activations:buy", args=[team.slug]),
        {
            "api_key": str(api_key.public_id),
            "service": "tg",
            "country": "0",
            "request_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    activation = Activation.objects.get()
    assert activation.status == ActivationStatus.WAITING
    assert LedgerEntry.objects.filter(api_key=api_key).exists()
    for name in ("activations:board", "activations:history", "rentals:board", "rentals:rent"):
        page = client.get(reverse(name, args=[team.slug]))
        assert page.status_code == 200, name
    board = client.get(reverse("activations:board", args=[team.slug])).content.decode()
    assert f"+{activation.phone}" in board and DELAYED in board


def test_it_rents_with_redis_down(team, alice, make_key):  # noqa: F811
    api_key, _ = make_key("--sms-delay", "3600")
    response = login(alice).post(
        reverse("rentals:rent", args=[team.slug]),
        {
            "api_key": str(api_key.public_id),
            "country": 0,
            "operator": "",
            "hours": 4,
            "service": "full",
            "request_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    assert Rental.objects.get().status == RentalStatus.ACTIVE


def test_a_job_the_broker_refuses_does_not_fail_the_page(team, alice, make_key, monkeypatch):  # noqa: F811
    make_key()
    monkeypatch.setattr(jobs.transaction, "on_commit", lambda callback, *args, **kwargs: callback())
    response = login(alice).post(reverse("prices:snapshot_now", args=[team.slug]))
    assert response.status_code in (200, 302)
    page = login(alice).get(reverse("prices:overview", args=[team.slug]))
    assert page.status_code == 200 and DELAYED in page.content.decode()
