"""The ledger equals what the provider charged, whatever failed: each defect found by the fault workload, as a story.

Every test drives the product against the sandbox over real HTTP and compares our ledger with the
sandbox's own (`provider_charged`), to the kopeck.
"""

import json
from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry, LedgerKind
from activations import extra
from activations import polling as activation_polling
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy, order_from_row, record_intent, record_purchase
from providers.client import ProviderClient
from providers.keys import client_for_key
from purchases.services import in_flight_timeout
from rentals import polling as rental_polling
from rentals.models import Rental, RentalStatus
from rentals.services import RentRequest, rental_rent
from tests.activations.conftest import ledger_net, provider_charged, set_sandbox

TG = BuyRequest(service="tg", country=0)


def age(row, by: timedelta) -> None:
    type(row).objects.filter(pk=row.pk).update(created_at=timezone.now() - by)


# --- 1. a rent whose price read failed ------------------------------------------------------------


def test_a_rent_whose_price_read_failed_is_booked_at_the_providers_price_not_at_nothing(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "http5xx=1", "--fault-actions", "getRentServicesAndCountries")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    rental.refresh_from_db()
    assert rental.status == RentalStatus.ACTIVE
    # The classic answer carries no price and every quote failed: "price pending", not zero.
    assert rental.cost is None and rental.price_pending
    assert not LedgerEntry.objects.exists()
    assert provider_charged(secret) > 0

    set_sandbox(secret, "--fault", "http5xx=0")
    rental_polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.cost == rental.total_cost == provider_charged(secret)
    assert ledger_net(api_key) == provider_charged(secret)
    assert LedgerEntry.objects.get().kind == LedgerKind.RENT


# --- 2. a lost rent answer is never matched to another rent ---------------------------------------


def test_two_lost_rents_and_one_unknown_number_are_left_to_an_admin_not_guessed(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    # wa: refused by a 5xx before the provider acted (nothing rented); tg: rented, but the answer was lost.
    set_sandbox(secret, "--fault", "http5xx=1", "--fault-actions", "getRentNumber")
    wa = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="wa", country=0))
    set_sandbox(secret, "--fault", "http5xx=0", "--fault", "after_commit=1")
    tg = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    set_sandbox(secret, "--fault", "after_commit=0", "--fault-actions", "")
    assert wa.status == tg.status == RentalStatus.UNKNOWN

    age(wa, timedelta(minutes=10))
    age(tg, timedelta(minutes=10))
    rental_polling.poll_key(api_key.pk)
    wa.refresh_from_db()
    tg.refresh_from_db()
    # One unknown number, two purchases it could be: neither gets it, neither is called "did not happen".
    assert wa.status == tg.status == RentalStatus.UNKNOWN
    assert wa.error_code == tg.error_code == "AMBIGUOUS"
    assert wa.upstream_id is None and tg.upstream_id is None
    assert not LedgerEntry.objects.exists()


def test_a_lost_rent_with_the_only_unknown_number_is_settled(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "after_commit=1")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    set_sandbox(secret, "--fault", "after_commit=0")
    assert rental.status == RentalStatus.UNKNOWN
    rental_polling.poll_key(api_key.pk)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.ACTIVE and rental.member == owner.user
    assert ledger_net(api_key) == provider_charged(secret)


# --- 3 and 4. a purchase in flight: its process died, or the poll ran meanwhile --------------------


def _bought_behind_our_back(api_key, owner) -> Activation:
    """An intent whose upstream call went through while its process died before it could record the answer."""
    intent, created = record_intent(membership=owner, api_key=api_key, request=TG, request_token=None)
    assert created and intent.status == ActivationStatus.PENDING
    client_for_key(api_key).get_number_v2(service="tg", country=0)
    return intent


def test_the_poll_never_takes_a_purchase_in_flight_for_one_made_outside(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    intent = _bought_behind_our_back(api_key, owner)
    activation_polling.poll_key(api_key.pk)
    # Still the buyer's: not adopted as bought outside simdesk, not failed.
    assert Activation.objects.count() == 1
    intent.refresh_from_db()
    assert intent.status == ActivationStatus.PENDING
    assert not LedgerEntry.objects.exists()

    # The buyer's answer arrives after the poll: it settles its own row once, under its member.
    order = client_for_key(api_key).get_active_activations()[0]
    assert record_purchase(intent, order_from_row(order), actor=owner.user)
    activation_polling.poll_key(api_key.pk)
    assert Activation.objects.count() == 1
    entry = LedgerEntry.objects.get()
    assert entry.member == owner.user
    assert ledger_net(api_key) == provider_charged(secret)


def test_a_purchase_whose_process_died_mid_call_is_reconciled_with_its_member(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    intent = _bought_behind_our_back(api_key, owner)
    age(intent, in_flight_timeout() + timedelta(seconds=1))
    activation_polling.poll_key(api_key.pk)
    intent.refresh_from_db()
    assert intent.status == ActivationStatus.WAITING and intent.upstream_id and intent.price_confirmed
    assert Activation.objects.count() == 1
    assert LedgerEntry.objects.get().member == owner.user
    assert ledger_net(api_key) == provider_charged(secret)


def test_a_rent_whose_process_died_mid_call_is_reconciled(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    from rentals.services import record_intent as rent_intent

    intent, _ = rent_intent(
        membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0), request_token=None
    )
    client_for_key(api_key).get_rent_number(service="tg", country=0, rent_time=4)
    rental_polling.poll_key(api_key.pk)
    intent.refresh_from_db()
    assert intent.status == RentalStatus.PENDING  # still in its buyer's hands
    age(intent, in_flight_timeout() + timedelta(seconds=1))
    rental_polling.poll_key(api_key.pk)
    intent.refresh_from_db()
    assert intent.status == RentalStatus.ACTIVE and intent.member == owner.user
    assert ledger_net(api_key) == provider_charged(secret)


# --- 5. several services, and an additional service, at the provider's price ----------------------


def test_several_services_with_forwarding_are_booked_at_what_the_provider_charged(make_key, owner):
    api_key, secret = make_key("--sms-delay", "0")
    rows = extra.multi_buy(
        membership=owner, api_key=api_key, services=["vk", "tg"], country=0, forward_service="vk"
    )
    vk = next(row for row in rows if row.service == "vk")
    vk.refresh_from_db()
    # The price list knows no forwarding price: the forwarded one is pending, not booked at the plain price.
    assert vk.cost is None
    activation_polling.poll_key(api_key.pk)
    for row in rows:
        row.refresh_from_db()
        assert row.price_confirmed and row.cost > 0
    assert ledger_net(api_key) == provider_charged(secret)


def test_an_additional_service_is_booked_at_the_providers_fixed_price(make_key, owner):
    api_key, secret = make_key("--sms-delay", "0")
    parent = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="vk", country=0, forward=True)
    )
    activation_polling.poll_key(api_key.pk)
    parent.refresh_from_db()
    child = extra.additional_buy(membership=owner, parent=parent, service="ok")
    activation_polling.poll_key(api_key.pk)
    child.refresh_from_db()
    assert child.cost == Decimal("5") and child.price_confirmed
    assert ledger_net(api_key) == provider_charged(secret)


def test_a_purchase_without_a_known_price_is_refused_under_a_limit(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    owner.daily_spend_limit = Decimal("1000")
    owner.save()
    try:
        extra.multi_buy(
            membership=owner, api_key=api_key, services=["vk", "tg"], country=0, forward_service="vk"
        )
    except Exception as exc:  # noqa: BLE001 - the refusal type is asserted below
        assert "limits cannot be checked" in exc.message
    else:
        raise AssertionError("a limited member bought at an unknown price")
    assert not client_for_key(api_key).get_active_activations()


# --- 6. every page of a HeroSMS list ---------------------------------------------------------------


def test_a_number_beyond_the_first_page_of_a_herosms_list_is_found(make_key, owner, monkeypatch):
    from sandbox import catalog as sandbox_catalog
    from sandbox import services as sandbox_services
    from sandbox.models import Account as SandboxAccount

    api_key, secret = make_key("--dialect", "hero", "--sms-delay", "3600", profile="sandbox_hero")
    client = client_for_key(api_key)
    # Bought outside simdesk, for another service (no candidates for the lost one): at the provider
    # itself, not over HTTP, since a hundred requests are not what this test is about.
    sandbox_catalog.ensure_catalog()
    account = SandboxAccount.objects.get(key=secret)
    for _ in range(100):
        sandbox_services.activation_buy(account=account, service_code="wa", country_raw="0", operators=[])
    set_sandbox(secret, "--fault", "after_commit=1")
    lost = activation_buy(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", "after_commit=0")
    assert lost.status == ActivationStatus.UNKNOWN
    assert len(client.get_active_activations()) == 100  # the provider's page

    pages: list[int] = []
    original = ProviderClient.get_active_activations

    def counting(self, **kwargs):
        pages.append(kwargs.get("start") or 0)
        return original(self, **kwargs)

    monkeypatch.setattr(ProviderClient, "get_active_activations", counting)
    activation_polling.poll_key(api_key.pk)
    lost.refresh_from_db()
    assert lost.status == ActivationStatus.WAITING, lost.error_message
    assert pages == [0, 100]
    assert Activation.objects.count() == 101  # the other hundred were bought outside simdesk: adopted
    assert ledger_net(api_key) == provider_charged(secret)


# --- 9. smaller: a lost finish, webhooks out of order or late --------------------------------------


def test_a_finish_whose_answer_was_lost_is_settled_by_the_next_poll(make_key, owner):
    api_key, _ = make_key("--sms-delay", "0")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG)
    activation_polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CODE_RECEIVED
    # Our finish reached the provider, its answer did not reach us.
    client_for_key(api_key).set_status(id=activation.upstream_id, status=6)
    activation_polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND).exists()


def _post_webhook(api_key, payload: dict) -> None:
    from django.conf import settings

    url = settings.SITE_URL.rstrip("/") + reverse("activations:webhook", args=[api_key.webhook_token])
    assert requests.post(url, data=json.dumps(payload), timeout=10).status_code == 200


def test_a_webhook_out_of_order_never_moves_the_code_back(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG)
    base = {"activationId": activation.upstream_id, "service": "tg", "country": 0}
    _post_webhook(api_key, {**base, "code": "222222", "text": "new", "receivedAt": "2026-12-02 10:05:00"})
    _post_webhook(api_key, {**base, "code": "111111", "text": "old", "receivedAt": "2026-12-02 10:01:00"})
    activation.refresh_from_db()
    assert activation.last_code == "222222"
    assert activation.sms_count == 2


def test_a_late_webhook_adds_no_code_to_a_finished_number(make_key, owner):
    api_key, _ = make_key("--sms-delay", "0")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG)
    activation_polling.poll_key(api_key.pk)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CODE_RECEIVED
    from activations.services import activation_set_status

    activation_set_status(membership=owner, activation=activation, action="finish")
    _post_webhook(api_key, {"activationId": activation.upstream_id, "code": "999999", "text": "late"})
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
    assert "999999" not in activation.messages.values_list("code", flat=True)
    assert activation.last_code != "999999"


def test_rentals_ledger_equals_the_provider_after_rent_cancel_and_refund(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    from rentals.services import rental_set_status

    rental_set_status(membership=owner, rental=rental, action="cancel")
    rental.refresh_from_db()
    assert rental.status == RentalStatus.CANCELLED
    assert ledger_net(api_key) == provider_charged(secret) == 0
    assert Rental.objects.get().total_cost == 0


# --- ambiguity is shown to admins to resolve ------------------------------------------------------


def test_an_admin_chooses_the_number_of_a_lost_purchase_and_the_next_poll_settles_the_other(
    team, alice, bob, make_key, owner
):
    from tests.activations.test_views import htmx, login, url

    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "after_commit=1")
    first = activation_buy(membership=owner, api_key=api_key, request=TG)
    second = activation_buy(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", "after_commit=0")
    activation_polling.poll_key(api_key.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.awaits_choice and second.awaits_choice
    assert len(first.candidates) == 2

    board = login(alice).get(url("board", team)).content.decode()
    assert "Which of these numbers is this purchase?" in board
    assert "Which of these numbers" not in login(bob).get(url("board", team)).content.decode()
    chosen = first.candidates[0]["id"]
    # An operator may not choose; a number that is not a candidate is refused.
    assert (
        login(bob)
        .post(url("resolve", team), {"activation": first.public_id, "upstream_id": chosen})
        .status_code
        == 403
    )
    refused = login(alice).post(
        url("resolve", team),
        {"activation": first.public_id, "upstream_id": "1"},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert refused.status_code == 200 and "not one of the numbers" in refused["HX-Trigger"]

    response = login(alice).post(
        url("resolve", team),
        {"activation": first.public_id, "upstream_id": chosen},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    first.refresh_from_db()
    assert (
        first.status == ActivationStatus.WAITING
        and first.upstream_id == chosen
        and first.member == owner.user
    )
    # The other purchase now has one candidate left: the poll settles it without anyone.
    activation_polling.poll_key(api_key.pk)
    second.refresh_from_db()
    assert second.status == ActivationStatus.WAITING and second.candidates == []
    assert ledger_net(api_key) == provider_charged(secret)


def test_an_admin_records_a_lost_rent_as_not_made(team, alice, make_key, owner):
    from tests.activations.test_views import login

    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "http5xx=1", "--fault-actions", "getRentNumber")
    wa = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="wa", country=0))
    set_sandbox(secret, "--fault", "http5xx=0", "--fault", "after_commit=1")
    tg = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    set_sandbox(secret, "--fault", "after_commit=0", "--fault-actions", "")
    rental_polling.poll_key(api_key.pk)
    wa.refresh_from_db()
    assert wa.awaits_choice
    resolve = reverse("rentals:resolve", args=[team.slug])
    assert login(alice).post(resolve, {"rental": wa.public_id, "upstream_id": ""}).status_code == 302
    wa.refresh_from_db()
    assert wa.status == RentalStatus.FAILED
    rental_polling.poll_key(api_key.pk)
    tg.refresh_from_db()
    assert tg.status == RentalStatus.ACTIVE
    assert ledger_net(api_key) == provider_charged(secret)


@pytest.mark.parametrize(
    ("close", "status", "refunded"),
    [(6, ActivationStatus.FINISHED, False), (8, ActivationStatus.CANCELLED, True)],
)
def test_a_lost_purchase_whose_number_closed_before_any_poll_is_found_in_the_history(
    make_key, owner, monkeypatch, close, status, refunded
):
    monkeypatch.setattr(activation_polling, "UNKNOWN_GRACE", timedelta(0))
    api_key, secret = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    set_sandbox(secret, "--fault", "after_commit=1")
    lost = activation_buy(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", "after_commit=0")
    client = client_for_key(api_key)
    (row,) = client.get_active_activations()
    if close == 6:
        call_command("sandbox_account", "sms", row.activation_id, "Your code 123456")
    client.set_status(id=row.activation_id, status=close)
    assert client.get_active_activations() == []

    activation_polling.poll_key(api_key.pk)
    lost.refresh_from_db()
    assert (lost.status, lost.member, lost.upstream_id) == (status, owner.user, row.activation_id)
    assert Activation.objects.count() == 1  # no copy "bought outside simdesk" beside it
    assert ledger_net(api_key) == provider_charged(secret) == (0 if refunded else row.cost)


def test_two_lost_purchases_closed_before_any_poll_wait_for_an_admin_not_failed(make_key, owner, monkeypatch):
    monkeypatch.setattr(activation_polling, "UNKNOWN_GRACE", timedelta(0))
    api_key, secret = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    set_sandbox(secret, "--fault", "after_commit=1")
    first = activation_buy(membership=owner, api_key=api_key, request=TG)
    second = activation_buy(membership=owner, api_key=api_key, request=TG)
    set_sandbox(secret, "--fault", "after_commit=0")
    client = client_for_key(api_key)
    for row in client.get_active_activations():
        client.set_status(id=row.activation_id, status=8)
    activation_polling.poll_key(api_key.pk)
    first.refresh_from_db()
    second.refresh_from_db()
    # The history does not say which is which: neither is called "did not happen".
    assert first.awaits_choice and second.awaits_choice
    assert len(first.candidates) == 2


def test_a_rent_webhook_dated_after_the_end_adds_nothing_but_a_late_delivery_does(make_key, owner):
    from django.conf import settings

    from rentals.services import rental_set_status

    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    url = settings.SITE_URL.rstrip("/") + reverse("rentals:webhook", args=[api_key.webhook_token])
    during = timezone.localtime(
        timezone.now(), timezone=ZoneInfo("Europe/Moscow")
    )  # the classic dialect's zone
    rental_set_status(membership=owner, rental=rental, action="finish")
    late = {"rentId": rental.upstream_id, "phoneFrom": "Telegram", "text": "code 11111", "service": "tg"}
    stamp = during.strftime("%Y-%m-%d %H:%M:%S")
    requests.post(url, data=json.dumps({**late, "date": stamp}), timeout=10)
    requests.post(url, data=json.dumps({**late, "text": "code 22222"}), timeout=10)
    assert list(rental.messages.values_list("text", flat=True)) == ["code 11111"]


def test_a_lost_rent_never_takes_the_number_of_a_rent_still_in_its_buyers_hands(make_key, owner, operator):
    from rentals.services import record_intent as rent_intent

    api_key, secret = make_key("--sms-delay", "3600")
    # Bob's rent of ok: refused by a 5xx before the provider acted (nothing rented), answer unknown.
    set_sandbox(secret, "--fault", "http5xx=1", "--fault-actions", "getRentNumber")
    lost = rental_rent(membership=operator, api_key=api_key, request=RentRequest(service="ok", country=0))
    set_sandbox(secret, "--fault", "http5xx=0", "--fault-actions", "")
    # Alice's rent of wa: on the wire right now (its process has not read the answer yet).
    fresh, _ = rent_intent(
        membership=owner, api_key=api_key, request=RentRequest(service="wa", country=0), request_token=None
    )
    client_for_key(api_key).get_rent_number(service="wa", country=0, rent_time=4)
    age(lost, timedelta(minutes=10))
    rental_polling.poll_key(api_key.pk)
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.upstream_id is None and lost.status == RentalStatus.UNKNOWN
    assert fresh.status == RentalStatus.PENDING
    # Once Alice's intent is orphaned, both are lost and the provider's list cannot tell them apart: an admin
    # chooses; the other then has nothing left and did not happen.
    age(fresh, in_flight_timeout() + timedelta(seconds=1))
    rental_polling.poll_key(api_key.pk)
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert lost.awaits_choice and fresh.awaits_choice
    from rentals.services import rental_resolve

    rental_resolve(membership=owner, rental=fresh, upstream_id=fresh.candidates[0]["id"])
    rental_polling.poll_key(api_key.pk)
    lost.refresh_from_db()
    fresh.refresh_from_db()
    assert (fresh.status, fresh.member, lost.status) == (RentalStatus.ACTIVE, owner.user, RentalStatus.FAILED)
    assert ledger_net(api_key) == provider_charged(secret)
