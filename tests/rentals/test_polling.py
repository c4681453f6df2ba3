"""The rent poll cycle and the webhook against the sandbox: SMS arrive live, ends settle, faults back off."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, LedgerEntry, LedgerKind
from providers.client import ProviderClient
from providers.keys import client_for_key
from purchases.polling import claim
from rentals import polling
from rentals.models import Rental, RentalPollState, RentalSms, RentalStatus
from rentals.services import RentRequest, rental_rent
from sandbox import services as sandbox_services
from sandbox.models import Rental as SandboxRental

from .conftest import set_sandbox

TG = RentRequest(service="tg", country=0, hours=4)


@pytest.fixture
def spy(monkeypatch):
    """Counts the client's rent calls by method (the transport stays real)."""
    calls: dict[str, int] = {}
    for name in ("get_rent_list", "get_rent_status", "continue_rent_number", "set_rent_status"):
        original = getattr(ProviderClient, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ProviderClient, name, wrapper)
    return calls


def sms(rental: Rental, text: str) -> None:
    call_command("sandbox_account", "sms", rental.upstream_id, text)


def test_it_reads_several_sms_by_polling_once_per_key(make_key, owner, spy):
    # Webhooks are only queued here (nobody runs the sandbox's delivery): the poll alone must do it.
    api_key, _ = make_key("--sms-delay", "3600")
    first = rental_rent(membership=owner, api_key=api_key, request=TG)
    second = rental_rent(membership=owner, api_key=api_key, request=TG)
    sms(first, "Your Telegram code 11111")
    sms(first, "Your Telegram code 22222")
    sms(second, "WhatsApp code 333-444")
    spy.clear()
    assert polling.poll_key(api_key.pk) == "ok"
    assert spy == {"get_rent_list": 1, "get_rent_status": 2}
    assert sorted(RentalSms.objects.values_list("code", flat=True)) == ["11111", "22222", "333-444"]
    first.refresh_from_db()
    assert first.sms_count == 2 and first.last_sms_at
    polling.poll_key(api_key.pk)
    assert RentalSms.objects.count() == 3  # no duplicates from the next cycle


def test_a_webhook_brings_the_sms_without_a_poll(make_key, owner, spy, sandbox_url):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    sms(rental, "Code 424242 for your login")
    sandbox_services.deliver_webhooks()
    message = RentalSms.objects.get(rental=rental)
    assert message.via == "webhook" and message.code == "424242" and message.phone_from
    rental.refresh_from_db()
    assert rental.last_webhook_at and rental.sms_count == 1
    # The poll still asks once (a webhook can be lost), then skips getRentStatus for a webhook-fed rental.
    polling.poll_key(api_key.pk)
    spy.clear()
    polling.poll_key(api_key.pk)
    assert spy == {"get_rent_list": 1}
    assert RentalSms.objects.count() == 1


def test_the_webhook_endpoint_is_idempotent_and_checks_its_token(make_key, owner, live_server):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    payload = {
        "rentId": int(rental.upstream_id),
        "phone": rental.phone,
        "phoneFrom": "Telegram",
        "text": "Telegram code 55555",
        "service": "tg",
        "date": "2026-11-26 17:30:57",
    }
    url = live_server.url + reverse("rentals:webhook", args=[api_key.webhook_token])
    for _ in range(3):  # providers retry
        assert requests.post(url, data=json.dumps(payload), timeout=5).status_code == 200
    assert RentalSms.objects.filter(rental=rental).count() == 1
    bad = live_server.url + reverse("rentals:webhook", args=["not-a-token"])
    assert requests.post(bad, data=json.dumps(payload), timeout=5).status_code == 404
    assert requests.post(url, data="not json", timeout=5).status_code == 400


def test_it_settles_a_rental_that_ended_upstream(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    past = timezone.now() - timedelta(minutes=1)
    SandboxRental.objects.filter(pk=int(rental.upstream_id)).update(ends_at=past)
    polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.FINISHED
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND).exists()


def test_it_settles_a_rental_cancelled_elsewhere_with_its_refund(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    client_for_key(api_key).set_rent_status(id=rental.upstream_id, status=2)
    polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.CANCELLED
    assert LedgerEntry.objects.get(kind=LedgerKind.REFUND).amount == -rental.cost
    assert client_for_key(api_key).get_balance().amount == Decimal("1000")


def test_it_reconciles_a_rent_whose_answer_was_lost(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "after_commit=1")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", "after_commit=0")
    assert rental.status == RentalStatus.UNKNOWN
    polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.ACTIVE and rental.upstream_id and rental.phone
    assert LedgerEntry.objects.get().amount == rental.cost
    assert Rental.objects.count() == 1
    assert AuditEntry.objects.filter(action="rental.reconciled").exists()


def test_it_gives_up_on_an_unknown_rent_that_never_happened(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "http5xx=1")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", "http5xx=0")
    assert rental.status == RentalStatus.UNKNOWN
    polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.UNKNOWN  # within the grace period
    Rental.objects.filter(pk=rental.pk).update(created_at=timezone.now() - timedelta(minutes=10))
    polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.FAILED
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize("fault", ["html", "http5xx", "error_sql", "truncated_json", "rate_limit"])
def test_it_survives_faults_on_the_poll_and_backs_off(make_key, owner, fault):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", f"{fault}=1")
    assert polling.poll_key(api_key.pk) == "error"
    state = RentalPollState.objects.get(api_key=api_key)
    assert state.failures == 1 and state.backoff_until > timezone.now() and state.locked_until is None
    assert api_key.pk not in polling.keys_to_poll()
    rental.refresh_from_db()
    assert rental.status == RentalStatus.ACTIVE
    set_sandbox(secret, "--fault", f"{fault}=0")
    RentalPollState.objects.filter(api_key=api_key).update(backoff_until=None)
    sms(rental, "Code 777777")
    assert polling.poll_key(api_key.pk) == "ok"
    assert RentalSms.objects.get().code == "777777"
    assert RentalPollState.objects.get(api_key=api_key).failures == 0


def test_two_cycles_never_run_at_once_for_one_key(make_key, owner, spy):
    api_key, _ = make_key("--sms-delay", "3600")
    rental_rent(membership=owner, api_key=api_key, request=TG)
    assert claim(api_key.pk, state_model=RentalPollState) is True
    spy.clear()
    assert polling.poll_key(api_key.pk) == "locked"
    assert spy == {}
    RentalPollState.objects.filter(api_key=api_key).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert polling.poll_key(api_key.pk) == "ok"


def test_only_keys_with_live_rentals_are_polled(make_key, owner):
    busy, _ = make_key("--sms-delay", "3600")
    idle, _ = make_key()
    rental_rent(membership=owner, api_key=busy, request=TG)
    assert polling.keys_to_poll() == [busy.pk]
    assert idle.pk not in polling.keys_to_poll()


def test_a_real_worker_polls_the_rentals_of_a_key(worker, make_key, owner):
    from rentals.tasks import poll_rental_key
    from tests.conftest import wait_for

    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    sms(rental, "Your Telegram code 90210")
    poll_rental_key.apply_async(args=[api_key.pk], queue=worker)
    assert wait_for(lambda: RentalSms.objects.filter(rental=rental).exists()), (
        "the worker did not read the SMS"
    )
    assert RentalSms.objects.get(rental=rental).code == "90210"
