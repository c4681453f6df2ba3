"""The team home's polling panel: owners and admins see when each key was last polled, in their own time
zone, with a warning for a key not polled for three intervals and for beat that stopped; operators and
viewers see none of it."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from activations.models import KeyPollState
from config import liveness
from tests.accounts.conftest import client_for, make_key
from tests.test_healthz import INTERVAL, live_activation, polled


@pytest.fixture(autouse=True)
def _interval(settings):
    settings.SIMDESK_POLL_INTERVAL = INTERVAL


def home(user) -> str:
    answer = client_for(user).get("/t/acme/")
    assert answer.status_code == 200
    return answer.content.decode()


def test_owners_and_admins_see_the_panel_operators_and_viewers_do_not(team, alice, dave, bob, vera):
    liveness.beat_tick()
    key = make_key(team)
    live_activation(key)
    polled(key, 1)
    for user in (alice, dave):
        content = home(user)
        assert 'id="polling"' in content and "Numbers last polled" in content
        assert "polled every cycle" in content
    for user in (bob, vera):
        content = home(user)
        assert 'id="polling"' not in content and "Numbers last polled" not in content


def test_the_last_poll_shows_in_the_readers_time_zone(team, alice):
    liveness.beat_tick()
    key = make_key(team)
    KeyPollState.objects.create(api_key=key, last_polled_at=datetime(2026, 3, 1, 9, 15, 42, tzinfo=UTC))
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    content = home(alice)
    assert "2026-03-01 18:15:42" in content
    assert "nothing live to poll" in content  # no live number: not late, however old


def test_a_key_not_polled_for_three_intervals_is_warned_about(team, alice, bob):
    liveness.beat_tick()
    fresh, stale = make_key(team, label="Fresh"), make_key(team, label="Stale")
    live_activation(fresh)
    live_activation(stale)
    polled(fresh, 1)
    polled(stale, INTERVAL * 3 + 5)
    content = home(alice)
    assert content.count("not polled for three poll intervals") == 1
    assert "<strong>Stale</strong>" in content
    assert 'class="badge poll-late"' in content
    assert 'id="beat-stopped"' not in content
    assert "not polled for three poll intervals" not in home(bob)


def test_a_stopped_beat_is_warned_about(team, alice, bob):
    liveness.beat_tick(now=timezone.now() - timedelta(minutes=5))
    key = make_key(team)
    live_activation(key)
    polled(key, 300)
    content = home(alice)
    assert 'id="beat-stopped"' in content
    assert "The scheduled work has not run since" in content
    # Beat stopped explains every late key: one warning, not one per key.
    assert "not polled for three poll intervals" not in content
    assert 'id="beat-stopped"' not in home(bob)


def test_a_beat_that_never_ran_is_warned_about(team, alice):
    make_key(team)
    content = home(alice)
    assert 'id="beat-stopped"' in content and "The scheduled work has not run yet" in content


def test_the_warning_comes_with_the_next_poll_of_the_page(team, alice, monkeypatch):
    """The summary polls itself with its version token: a key turning late changes the token."""
    minute = timezone.now()
    monkeypatch.setattr("config.home.timezone", SimpleNamespace(now=lambda: minute))  # the token's minute
    liveness.beat_tick()
    key = make_key(team)
    live_activation(key)
    polled(key, 1)
    client = client_for(alice)
    first = client.get("/t/acme/")
    token = first.content.decode().split("?v=", 1)[1].split('"', 1)[0]
    assert client.get(f"/t/acme/?v={token}", headers={"HX-Request": "true"}).status_code == 204
    polled(key, INTERVAL * 3 + 5)
    answer = client.get(f"/t/acme/?v={token}", headers={"HX-Request": "true"})
    assert answer.status_code == 200
    assert "not polled for three poll intervals" in answer.content.decode()
