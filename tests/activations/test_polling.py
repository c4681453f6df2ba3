"""The worker side: the per-key poll cycle against the sandbox, including its fault modes."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, KeyHealth, LedgerEntry, LedgerKind
from activations import polling
from activations.models import Activation, ActivationStatus, KeyPollState, Sms
from activations.services import BuyRequest, activation_buy
from providers.keys import client_for_key
from purchases.polling import claim
from sandbox import services as sandbox_services
from sandbox.models import Activation as SandboxActivation

from .conftest import set_sandbox

TG_RU = BuyRequest(service="tg", country=0)


def test_it_makes_one_upstream_call_per_key_whatever_the_number_of_activations(make_key, owner, spy):
    api_key, secret = make_key("--sms-delay", "3600")
    bought = [activation_buy(membership=owner, api_key=api_key, request=TG_RU) for _ in range(5)]
    for activation in bought[:3]:
        call_command("sandbox_account", "sms", activation.upstream_id, f"Code {activation.pk}1234")
    spy.clear()
    assert polling.poll_key(api_key.pk) == "ok"
    assert spy == {"get_active_activations": 1}
    statuses = sorted(Activation.objects.values_list("status", flat=True))
    assert statuses == sorted([ActivationStatus.CODE_RECEIVED] * 3 + [ActivationStatus.WAITING] * 2)
    assert Sms.objects.count() == 3
    # A second cycle with nothing new changes nothing and stores no duplicate code.
    polling.poll_key(api_key.pk)
    assert Sms.objects.count() == 3


def test_it_sees_the_next_code_after_asking_for_another(make_key, owner):
    from activations.services import activation_set_status

    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    call_command("sandbox_account", "sms", activation.upstream_id, "First code 111111")
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    first = activation.last_code
    activation_set_status(membership=owner, activation=activation, action="another")
    call_command("sandbox_account", "sms", activation.upstream_id, "Second code 222222")
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CODE_RECEIVED
    assert activation.last_code != first
    assert activation.sms_count == 2


def test_it_adopts_numbers_bought_elsewhere_with_the_key(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    order = client_for_key(api_key).get_number_v2(service="wa", country=0)
    polling.poll_key(api_key.pk)
    adopted = Activation.objects.get(upstream_id=order.activation_id)
    assert adopted.member is None and adopted.phone == order.phone and adopted.service == "wa"
    assert adopted.status == ActivationStatus.WAITING
    assert LedgerEntry.objects.get(reference=order.activation_id).amount == order.cost
    assert AuditEntry.objects.get(action="activation.outside").amount == order.cost
    assert not AuditEntry.objects.filter(action="activation.reconciled").exists()


def test_it_reconciles_a_purchase_whose_answer_was_lost(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "after_commit=1")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    set_sandbox(secret, "--fault", "after_commit=0")
    assert activation.status == ActivationStatus.UNKNOWN
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.WAITING
    assert activation.upstream_id and activation.phone and activation.member == owner.user
    entry = LedgerEntry.objects.get()
    assert entry.amount == activation.cost and entry.member == owner.user
    assert Activation.objects.count() == 1
    assert AuditEntry.objects.filter(action="activation.reconciled").exists()


def test_it_gives_up_on_an_unknown_purchase_that_never_happened(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "http5xx=1")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    set_sandbox(secret, "--fault", "http5xx=0")
    assert activation.status == ActivationStatus.UNKNOWN
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.UNKNOWN  # still within the grace period
    Activation.objects.filter(pk=activation.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FAILED
    assert not LedgerEntry.objects.exists()


def test_it_settles_an_expired_number_with_a_refund(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    past = timezone.now() - timedelta(hours=1)
    SandboxActivation.objects.filter(pk=int(activation.upstream_id)).update(created_at=past, expires_at=past)
    Activation.objects.filter(pk=activation.pk).update(expires_at=past)
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.EXPIRED
    kinds = sorted(LedgerEntry.objects.values_list("kind", "amount"))
    assert kinds == [(LedgerKind.PURCHASE, activation.cost), (LedgerKind.REFUND, -activation.cost)]
    assert client_for_key(api_key).get_balance().amount == Decimal("1000")


def test_it_settles_a_number_finished_elsewhere_without_refund(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    call_command("sandbox_account", "sms", activation.upstream_id, "Code 424242")
    client_for_key(api_key).set_status(id=activation.upstream_id, status=6)
    polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status in (ActivationStatus.FINISHED, ActivationStatus.CODE_RECEIVED)
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND).exists()


def test_it_auto_cancels_numbers_without_a_code(make_key, owner, team):
    team.auto_cancel_minutes = 5
    team.save()
    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    old = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    fresh = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    six_minutes_ago = timezone.now() - timedelta(minutes=6)
    Activation.objects.filter(pk=old.pk).update(bought_at=six_minutes_ago, cancel_allowed_at=six_minutes_ago)
    polling.poll_key(api_key.pk)
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == ActivationStatus.CANCELLED
    assert fresh.status == ActivationStatus.WAITING
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND).get().amount == -old.cost
    assert AuditEntry.objects.filter(action="activation.auto_cancel").count() == 1


@pytest.mark.parametrize("fault", ["html", "http5xx", "error_sql", "truncated_json", "rate_limit"])
def test_it_survives_upstream_faults_and_backs_off(make_key, owner, fault):
    api_key, secret = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    set_sandbox(secret, "--fault", f"{fault}=1")
    assert polling.poll_key(api_key.pk) == "error"
    state = KeyPollState.objects.get(api_key=api_key)
    assert state.failures == 1 and state.backoff_until > timezone.now() and state.locked_until is None
    assert api_key.pk not in polling.keys_to_poll()
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.WAITING and activation.phone
    set_sandbox(secret, "--fault", f"{fault}=0")
    KeyPollState.objects.filter(api_key=api_key).update(backoff_until=None)
    call_command("sandbox_account", "sms", activation.upstream_id, "Code 777777")
    assert polling.poll_key(api_key.pk) == "ok"
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CODE_RECEIVED
    assert KeyPollState.objects.get(api_key=api_key).failures == 0


def test_it_survives_a_timeout(make_key, owner, settings):
    settings.PROVIDER_READ_TIMEOUT = 0.5
    settings.PROVIDER_READ_RETRIES = 0
    api_key, secret = make_key("--sms-delay", "3600")
    activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    set_sandbox(secret, "--latency-ms", "1500")
    assert polling.poll_key(api_key.pk) == "error"
    set_sandbox(secret, "--latency-ms", "0")
    assert Activation.objects.get().status == ActivationStatus.WAITING


def test_bad_key_and_ban_mark_the_key_and_tell_the_team(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    from accounts.crypto import encrypt_secret

    good = api_key.secret_encrypted
    api_key.secret_encrypted = encrypt_secret("wrong-key-1234")
    api_key.save()
    polling.poll_key(api_key.pk)
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.INVALID
    assert AuditEntry.objects.filter(action="key.invalid").exists()
    api_key.secret_encrypted = good
    api_key.save()
    KeyPollState.objects.filter(api_key=api_key).update(backoff_until=None)
    polling.poll_key(api_key.pk)
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.OK


def test_two_cycles_never_run_at_once_for_one_key(make_key, owner, spy):
    api_key, _ = make_key("--sms-delay", "3600")
    activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    assert claim(api_key.pk, state_model=KeyPollState) is True
    spy.clear()
    assert polling.poll_key(api_key.pk) == "locked"
    assert spy == {}
    # A worker killed mid-cycle leaves a lock that expires.
    KeyPollState.objects.filter(api_key=api_key).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert polling.poll_key(api_key.pk) == "ok"


def test_a_webhook_puts_the_code_on_the_board_without_a_poll(make_key, owner, live_server):
    api_key, secret = make_key("--sms-delay", "3600")
    hook = live_server.url + reverse("activations:webhook", args=[api_key.webhook_token])
    set_sandbox(secret, "--webhook-url", hook)
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    call_command("sandbox_account", "sms", activation.upstream_id, "Your code 987654")
    sandbox_services.deliver_webhooks()
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CODE_RECEIVED
    assert Sms.objects.get(activation=activation).via == "webhook"


def test_the_webhook_endpoint_is_idempotent_and_checks_its_token(make_key, owner, live_server):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    payload = {
        "activationId": int(activation.upstream_id),
        "service": "tg",
        "text": "Telegram code 55555",
        "code": "55555",
        "country": 0,
        "receivedAt": "2026-11-26 17:30:57",
    }
    url = live_server.url + reverse("activations:webhook", args=[api_key.webhook_token])
    for _ in range(3):  # the provider retries up to 8 times
        response = requests.post(url, data=json.dumps(payload), timeout=5)
        assert response.status_code == 200
    assert Sms.objects.filter(activation=activation).count() == 1
    bad = live_server.url + reverse("activations:webhook", args=["not-a-token"])
    assert requests.post(bad, data=json.dumps(payload), timeout=5).status_code == 404
    assert requests.post(url, data="<html>", timeout=5).status_code == 400


def test_history_sync_records_what_the_provider_remembers(make_key, owner):
    from activations.history_sync import history_sync

    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    client = client_for_key(api_key)
    # Bought, coded and finished outside simdesk: only the provider's history knows it.
    elsewhere = client.get_number_v2(service="vk", country=0)
    call_command("sandbox_account", "sms", elsewhere.activation_id, "VK code 246810")
    client.set_status(id=elsewhere.activation_id, status=6)
    # Ours, finished upstream behind the poll cycle's back.
    ours = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    call_command("sandbox_account", "sms", ours.upstream_id, "Code 135790")
    client.set_status(id=ours.upstream_id, status=6)

    assert history_sync(api_key=api_key) == 2
    recorded = Activation.objects.get(upstream_id=elsewhere.activation_id)
    assert recorded.status == ActivationStatus.FINISHED and recorded.phone == elsewhere.phone
    assert recorded.last_code
    ours.refresh_from_db()
    assert ours.status == ActivationStatus.FINISHED
    assert LedgerEntry.objects.filter(reference=elsewhere.activation_id, kind=LedgerKind.PURCHASE).exists()
    # Running it again changes nothing and books nothing twice.
    assert history_sync(api_key=api_key) == 0
    assert LedgerEntry.objects.count() == 2
