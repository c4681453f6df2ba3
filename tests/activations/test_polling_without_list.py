"""The poll cycle of a key whose provider has no getActiveActivations (SMSBower): learned from BAD_ACTION and
kept on the key, one getStatus per live number within the key's budget, the list tried again a day later.

Against the sandbox over HTTP, its account made list-less with `--no-active-list`.
"""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEntry, KeyHealth, LedgerEntry, LedgerKind
from activations import polling
from activations.models import Activation, ActivationStatus, KeyPollState, Sms
from activations.services import BuyRequest, activation_buy
from providers.models import MissingAction

from .conftest import set_sandbox

TG_RU = BuyRequest(service="tg", country=0)


@pytest.fixture
def listless_key(make_key):
    """A key whose provider answers BAD_ACTION to getActiveActivations; codes only when pushed by hand."""
    return make_key("--sms-delay", "3600", "--no-active-list")


def buy(owner, api_key, count: int) -> list[Activation]:
    return [activation_buy(membership=owner, api_key=api_key, request=TG_RU) for _ in range(count)]


def sms(activation: Activation, text: str) -> None:
    call_command("sandbox_account", "sms", activation.upstream_id, text)


def statuses(activations: list[Activation]) -> list[str]:
    return [Activation.objects.get(pk=a.pk).status for a in activations]


def test_after_bad_action_it_asks_each_live_number_and_records_the_codes(listless_key, owner, spy):
    api_key, _ = listless_key
    bought = buy(owner, api_key, 3)
    sms(bought[0], "Telegram code 111111")
    sms(bought[2], "Telegram code 333333")
    spy.clear()
    assert polling.poll_key(api_key.pk) == "ok"
    assert spy == {"get_active_activations": 1, "get_status": 3}
    assert statuses(bought) == [
        ActivationStatus.CODE_RECEIVED,
        ActivationStatus.WAITING,
        ActivationStatus.CODE_RECEIVED,
    ]
    assert sorted(Sms.objects.values_list("code", flat=True)) == ["111111", "333333"]
    learned = MissingAction.objects.get(api_key=api_key)
    assert learned.action == "getActiveActivations"
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.OK


def test_it_learns_once_and_asks_for_the_list_again_after_a_day(listless_key, owner, spy):
    api_key, secret = listless_key
    bought = buy(owner, api_key, 2)
    start = timezone.now()
    polling.poll_key(api_key.pk, clock=lambda: start)
    spy.clear()
    # The next cycles, the same day, go straight to getStatus.
    for hours in (0, 6, 23):
        polling.poll_key(api_key.pk, clock=lambda hours=hours: start + timedelta(hours=hours))
    assert spy == {"get_status": 6}
    # A day later the list is asked for again; still BAD_ACTION, so the day starts again.
    spy.clear()
    next_day = start + timedelta(hours=25)
    assert polling.poll_key(api_key.pk, clock=lambda: next_day) == "ok"
    assert spy == {"get_active_activations": 1, "get_status": 2}
    assert MissingAction.objects.get(api_key=api_key).learned_at == next_day
    # The provider added the list: the next re-check uses it, one call for every number, and forgets.
    set_sandbox(secret, "--active-list")
    sms(bought[1], "Telegram code 222222")
    spy.clear()
    assert polling.poll_key(api_key.pk, clock=lambda: next_day + timedelta(hours=25)) == "ok"
    assert spy == {"get_active_activations": 1}
    assert not MissingAction.objects.exists()
    assert statuses(bought) == [ActivationStatus.WAITING, ActivationStatus.CODE_RECEIVED]


def test_many_live_numbers_are_asked_a_budget_worth_per_cycle_in_turn(listless_key, owner, spy, settings):
    # The sandbox's budget is 20 requests a second: a 0.1 s poll interval allows two getStatus a cycle.
    settings.SIMDESK_POLL_INTERVAL = 0.1
    api_key, _ = listless_key
    assert polling.status_poll_cap(api_key) == 2
    bought = buy(owner, api_key, 5)
    for number, activation in enumerate(bought):
        sms(activation, f"Telegram code {number}0000{number}")
    spy.clear()
    polling.poll_key(api_key.pk)
    assert spy == {"get_active_activations": 1, "get_status": 2}
    got = [status == ActivationStatus.CODE_RECEIVED for status in statuses(bought)]
    assert got == [True, True, False, False, False]
    polling.poll_key(api_key.pk)
    assert [status == ActivationStatus.CODE_RECEIVED for status in statuses(bought)] == [True] * 4 + [False]
    # The last number, then round again from the first.
    polling.poll_key(api_key.pk)
    assert all(status == ActivationStatus.CODE_RECEIVED for status in statuses(bought))
    assert KeyPollState.objects.get(api_key=api_key).status_cursor == bought[0].pk
    assert spy == {"get_active_activations": 1, "get_status": 6}


def test_numbers_closed_upstream_are_settled_as_the_list_path_settles_them(listless_key, owner):
    api_key, secret = listless_key
    set_sandbox(secret, "--cancel-lock", "0")
    cancelled, used = buy(owner, api_key, 2)
    # Cancelled at the provider (its own site): getStatus says STATUS_CANCEL, the money comes back.
    from providers.keys import client_for_key

    client_for_key(api_key).set_status(id=cancelled.upstream_id, status=8)
    # Used and past its lifetime: the provider still shows the code, but the number is over.
    sms(used, "Telegram code 555555")
    polling.poll_key(api_key.pk)
    assert statuses([cancelled, used]) == [ActivationStatus.CANCELLED, ActivationStatus.CODE_RECEIVED]
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND, reference=cancelled.upstream_id).exists()
    Activation.objects.filter(pk=used.pk).update(expires_at=timezone.now() - timedelta(minutes=5))
    polling.poll_key(api_key.pk)
    assert statuses([cancelled, used]) == [ActivationStatus.CANCELLED, ActivationStatus.FINISHED]
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND, reference=used.upstream_id).exists()
    # Nothing live is left to ask about.
    assert api_key.pk not in polling.keys_to_poll()


def test_faults_of_one_number_skip_it_and_faults_of_the_provider_back_off(listless_key, owner, spy):
    api_key, secret = listless_key
    bought = buy(owner, api_key, 3)
    polling.poll_key(api_key.pk)  # learns the missing list
    for activation in bought:
        sms(activation, f"Telegram code {activation.pk}4242")
    # Every getStatus answers an HTML page: twice in a row is the provider's fault, the cycle backs off.
    set_sandbox(secret, "--fault", "html=1", "--fault-actions", "getStatus")
    spy.clear()
    assert polling.poll_key(api_key.pk) == "error"
    assert spy == {"get_status": 2}
    state = KeyPollState.objects.get(api_key=api_key)
    assert state.failures == 1 and state.backoff_until > timezone.now() and state.locked_until is None
    assert statuses(bought) == [ActivationStatus.WAITING] * 3  # nothing lost, nothing made up
    set_sandbox(secret, "--fault", "html=0")
    KeyPollState.objects.filter(api_key=api_key).update(backoff_until=None)
    # The cycle goes on after the numbers it skipped, and comes round to them.
    polling.poll_key(api_key.pk)
    assert all(status == ActivationStatus.CODE_RECEIVED for status in statuses(bought))
    assert KeyPollState.objects.get(api_key=api_key).failures == 0


def test_a_rate_limit_stops_the_cycle_at_once_and_that_number_goes_first_next_time(listless_key, owner, spy):
    api_key, secret = listless_key
    bought = buy(owner, api_key, 3)
    polling.poll_key(api_key.pk)  # learns the missing list and asks all three: next time starts at the first
    cursor = KeyPollState.objects.get(api_key=api_key).status_cursor
    sms(bought[0], "Telegram code 909090")
    set_sandbox(secret, "--fault", "rate_limit=1", "--fault-actions", "getStatus")
    spy.clear()
    assert polling.poll_key(api_key.pk) == "error"
    assert spy == {"get_status": 1}  # the key's budget is spent: the other numbers are not asked
    assert KeyPollState.objects.get(api_key=api_key).status_cursor == cursor
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.UNREACHABLE
    set_sandbox(secret, "--fault", "rate_limit=0")
    KeyPollState.objects.filter(api_key=api_key).update(backoff_until=None)
    assert polling.poll_key(api_key.pk) == "ok"
    assert statuses(bought)[0] == ActivationStatus.CODE_RECEIVED


def test_a_rejected_key_is_marked_and_the_team_told_as_on_the_list_path(listless_key, owner):
    api_key, _ = listless_key
    buy(owner, api_key, 1)
    polling.poll_key(api_key.pk)
    from accounts.crypto import encrypt_secret

    good = api_key.secret_encrypted
    api_key.secret_encrypted = encrypt_secret("wrong-key-1234")
    api_key.save()
    assert polling.poll_key(api_key.pk) == "error"
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.INVALID
    assert AuditEntry.objects.filter(action="key.invalid").exists()
    # What the key learned stays: a key fault is not the provider's list coming back.
    assert MissingAction.objects.filter(api_key=api_key).exists()
    api_key.secret_encrypted = good
    api_key.save()
    KeyPollState.objects.filter(api_key=api_key).update(backoff_until=None)
    assert polling.poll_key(api_key.pk) == "ok"
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.OK
