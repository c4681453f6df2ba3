"""After money moves (a purchase, a refund) the key's balance is read again, in the worker once the money is
committed, once per burst; the buy form shows the chosen key's balance. Against the sandbox over HTTP."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, LedgerEntry, LedgerKind
from activations.models import Activation
from activations.services import BuyRequest, activation_buy, activation_set_status
from providers import tasks
from purchases.services import ledger_book
from tests.conftest import login

TG_RU = BuyRequest(service="tg", country=0)


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The key ids of the balance refreshes sent to the broker (recorded instead of sent). Each is checked
    as it is sent: the money it follows is committed, no transaction is open, the queue is the configured one."""
    sent: list[int] = []

    def apply_async(args, **options):
        assert not transaction.get_connection().in_atomic_block
        assert LedgerEntry.objects.filter(api_key_id=args[0]).exists()
        assert options["queue"] == settings.CELERY_TASK_DEFAULT_QUEUE
        sent.append(args[0])

    monkeypatch.setattr(tasks.refresh_key_balance, "apply_async", apply_async)
    return sent


def test_a_buy_enqueues_one_refresh_after_commit_and_it_shows_the_providers_new_balance(
    make_key, team, alice, enqueued
):
    api_key, _ = make_key("--sms-delay", "3600")
    data = {
        "api_key": str(api_key.public_id),
        "service": "tg",
        "country": "0",
        "request_token": str(uuid.uuid4()),
    }
    response = login(alice).post(reverse("activations:buy", args=[team.slug]), data)
    assert response.status_code == 302
    activation = Activation.objects.get()
    assert enqueued == [api_key.pk]
    # The request only enqueued: it did not ask the provider for the balance itself.
    api_key.refresh_from_db()
    assert api_key.balance is None

    tasks.refresh_key_balance(api_key.pk)

    api_key.refresh_from_db()
    assert api_key.balance == Decimal("1000") - activation.cost
    assert api_key.balance_updated_at > timezone.now() - timedelta(seconds=30)


def test_a_burst_of_moves_costs_one_refresh_and_a_move_after_it_started_another(make_key, owner, enqueued):
    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    kept = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    cancelled = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    assert enqueued == [api_key.pk]  # the second found the first still pending
    tasks.refresh_key_balance(api_key.pk)
    kept.refresh_from_db(), cancelled.refresh_from_db()
    assert ApiKey.objects.get().balance == Decimal("1000") - kept.cost - cancelled.cost

    # A refund after that refresh began is read by a refresh of its own.
    Activation.objects.filter(pk=cancelled.pk).update(cancel_allowed_at=timezone.now() - timedelta(minutes=1))
    cancelled.refresh_from_db()
    activation_set_status(membership=owner, activation=cancelled, action="cancel")
    assert enqueued == [api_key.pk, api_key.pk]
    tasks.refresh_key_balance(api_key.pk)
    assert ApiKey.objects.get().balance == Decimal("1000") - kept.cost


def test_a_replayed_money_event_books_nothing_and_asks_nothing(make_key, owner, enqueued):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    tasks.refresh_key_balance(api_key.pk)  # the refresh the buy asked for has run: nothing is pending
    assert not ledger_book(activation, LedgerKind.PURCHASE, activation.cost, event="purchase")
    assert enqueued == [api_key.pk]


def test_a_broker_that_is_down_does_not_undo_the_purchase(make_key, owner, monkeypatch):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.refresh_key_balance, "apply_async", broker_down)
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    activation.refresh_from_db()
    assert activation.upstream_id and activation.cost
    assert LedgerEntry.objects.filter(api_key=api_key).count() == 1


# --- the buy form ----------------------------------------------------------------------------------


def test_the_buy_form_shows_the_chosen_keys_balance_and_follows_the_choice(make_key, team, alice):
    first, _ = make_key()
    second, _ = make_key()
    ApiKey.objects.filter(pk=first.pk).update(
        label="A", balance=Decimal("812.5"), balance_updated_at=timezone.now()
    )
    ApiKey.objects.filter(pk=second.pk).update(
        label="B", balance=Decimal("77"), balance_updated_at=timezone.now()
    )
    client = login(alice)
    url = reverse("activations:buy", args=[team.slug])

    page = client.get(url).content.decode()
    assert 'id="key-balance"' in page and "812.50" in page and "77.00" not in page

    # Choosing the other key re-renders the panel (htmx) with its balance.
    panel = client.get(url, {"api_key": str(second.public_id)}, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="key-balance"' in panel and "77.00" in panel and "812.50" not in panel


def test_the_buy_form_says_when_a_balance_was_never_read(make_key, team, alice):
    make_key()
    page = login(alice).get(reverse("activations:buy", args=[team.slug])).content.decode()
    assert "The balance of this key has not been read yet." in page
