"""Calls, several services on one number, additional services and re-activation: views and their money rules."""

import uuid
from decimal import Decimal

import pytest

from accounts.models import AuditEntry, LedgerEntry, LedgerKind
from accounts.services import ActionRefused
from activations import calls, extra, polling
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy, activation_set_status
from providers.keys import client_for_key
from purchases.services import PurchaseRefused

from .conftest import set_sandbox
from .test_views import htmx, login, url


def upstream_balance(api_key) -> Decimal:
    return client_for_key(api_key).get_balance().amount


# --- calls ---------------------------------------------------------------------------------------


def test_a_call_verified_activation_shows_the_incoming_call_and_orders_a_call(
    team, bob, vera, make_key, owner
):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0, verification=True)
    )
    assert activation.verification and activation.status == ActivationStatus.WAITING
    board = login(bob).get(url("board", team)).content.decode()
    assert f'id="calls-{activation.public_id}"' in board

    panel = login(vera).get(url("calls", team), {"activation": activation.public_id}, **htmx())
    assert panel.status_code == 200
    assert "Waiting for the call" in panel.content.decode()
    assert "Order a call" not in panel.content.decode()  # viewers watch only

    response = login(bob).post(
        url("call_create", team), {"activation": activation.public_id, "phone": "+7 999 123 45 67"}, **htmx()
    )
    assert response.status_code == 200
    assert "successfully created" in response["HX-Trigger"]
    assert AuditEntry.objects.filter(action="activation.call").count() == 1
    assert len(calls.outgoing_calls(activation=activation)) == 1

    again = login(bob).post(
        url("call_create", team), {"activation": activation.public_id, "phone": "79991234567"}
    )
    assert again.status_code == 302  # a second task is refused upstream, told as a flash message


def test_the_calls_panel_without_an_activation_is_empty_and_foreign_is_404(team, bob):
    client = login(bob)
    assert client.get(url("calls", team)).status_code == 200
    assert client.get(url("calls", team), {"activation": uuid.uuid4()}).status_code == 404
    assert (
        client.post(
            url("call_create", team), {"activation": uuid.uuid4(), "phone": "79990000000"}
        ).status_code
        == 404
    )


def test_viewers_cannot_order_calls(team, vera):
    assert login(vera).post(url("call_create", team), {}).status_code == 403


def test_incoming_call_status_refuses_a_plain_activation(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    with pytest.raises(ActionRefused):
        calls.incoming_call_status(activation=activation)


# --- several services on one number --------------------------------------------------------------


def test_it_buys_one_number_for_several_services(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    token = str(uuid.uuid4())
    data = {"api_key": api_key.public_id, "services": "tg, wa", "country": "0", "request_token": token}
    response = login(bob).post(url("buy_multi", team), data)
    assert response.status_code == 302
    rows = list(Activation.objects.order_by("id"))
    assert [r.service for r in rows] == ["tg", "wa"]
    assert len({r.phone for r in rows}) == 1 and rows[0].multi_group == rows[1].multi_group is not None
    assert all(r.status == ActivationStatus.WAITING and r.cost > 0 for r in rows)
    assert sum(e.amount for e in LedgerEntry.objects.all()) == sum(r.cost for r in rows)
    # The same form again buys nothing more.
    login(bob).post(url("buy_multi", team), data)
    assert Activation.objects.count() == 2
    assert len(client_for_key(api_key).get_active_activations()) == 2


def test_a_refused_multi_purchase_spends_nothing(team, bob, make_key):
    api_key, _ = make_key()
    data = {
        "api_key": api_key.public_id,
        "services": "tg,wa",
        "country": "3",
        "request_token": str(uuid.uuid4()),
    }
    response = login(bob).post(url("buy_multi", team), data)
    assert response.status_code == 200
    assert 'id="buy-errors"' in response.content.decode()
    assert set(Activation.objects.values_list("status", flat=True)) == {ActivationStatus.FAILED}
    assert not LedgerEntry.objects.exists()
    assert upstream_balance(api_key) == Decimal("1000")


def test_a_multi_purchase_over_the_budget_is_refused_before_the_provider(team, bob, make_key):
    api_key, _ = make_key()
    api_key.daily_budget = Decimal("30")
    api_key.save()
    data = {
        "api_key": api_key.public_id,
        "services": "tg,wa",
        "country": "0",
        "request_token": str(uuid.uuid4()),
    }
    response = login(bob).post(url("buy_multi", team), data)
    assert response.status_code == 200
    assert "daily budget" in response.content.decode()
    assert not Activation.objects.exclude(status=ActivationStatus.FAILED).exists()
    assert upstream_balance(api_key) == Decimal("1000")


def test_the_multi_form_needs_two_services(team, bob, make_key):
    api_key, _ = make_key()
    data = {
        "api_key": api_key.public_id,
        "services": "tg",
        "country": "0",
        "request_token": str(uuid.uuid4()),
    }
    response = login(bob).post(url("buy_multi", team), data)
    assert response.status_code == 200
    assert "at least two services" in response.content.decode()


def test_an_ambiguous_multi_purchase_is_left_unknown(make_key, operator):
    api_key, secret = make_key()
    set_sandbox(secret, "--fault", "after_commit=1")
    rows = extra.multi_buy(membership=operator, api_key=api_key, services=["tg", "wa"], country=0)
    assert {r.status for r in rows} == {ActivationStatus.UNKNOWN}
    assert not LedgerEntry.objects.exists()


# --- additional service on a forwarded number ----------------------------------------------------


def test_it_adds_a_service_to_a_forwarded_number(team, bob, make_key, operator):
    api_key, _ = make_key("--sms-delay", "0")
    parent = activation_buy(
        membership=operator, api_key=api_key, request=BuyRequest(service="vk", country=0, forward=True)
    )
    polling.poll_key(api_key.pk)
    parent.refresh_from_db()
    assert parent.sms_count == 1
    board = login(bob).get(url("board", team)).content.decode()
    assert f'id="add-{parent.public_id}"' in board
    response = login(bob).post(
        url("additional_buy", team),
        {"activation": parent.public_id, "service": "ok", "request_token": str(uuid.uuid4())},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    child = Activation.objects.get(parent=parent)
    assert (child.service, child.phone, child.status) == ("ok", parent.phone, ActivationStatus.WAITING)
    # The answer carries no price and the price list does not tell it: pending until the provider's list does.
    assert child.cost is None and child.price_pending
    polling.poll_key(api_key.pk)
    child.refresh_from_db()
    assert (child.cost, child.price_confirmed) == (Decimal("5"), True)  # the sandbox's fixed fee
    assert LedgerEntry.objects.filter(kind=LedgerKind.PURCHASE).count() == 2
    assert LedgerEntry.objects.get(purchase_ref=f"activation:{child.pk}").amount == Decimal("5")


def test_a_number_without_forwarding_cannot_take_another_service(make_key, operator):
    api_key, _ = make_key("--sms-delay", "3600")
    parent = activation_buy(membership=operator, api_key=api_key, request=BuyRequest(service="tg", country=0))
    with pytest.raises(PurchaseRefused):
        extra.additional_buy(membership=operator, parent=parent, service="wa")
    assert Activation.objects.count() == 1


# --- re-activation -------------------------------------------------------------------------------


def test_it_shows_the_price_and_activates_a_used_number_again(team, bob, make_key, operator):
    api_key, _ = make_key("--sms-delay", "0")
    parent = activation_buy(membership=operator, api_key=api_key, request=BuyRequest(service="tg", country=0))
    polling.poll_key(api_key.pk)
    parent.refresh_from_db()
    activation_set_status(membership=operator, activation=parent, action="finish")

    board = login(bob).get(url("board", team)).content.decode()
    assert f'id="again-{parent.public_id}"' in board
    price = extra.extra_price(activation=parent)
    panel = login(bob).get(url("extra_check", team), {"activation": parent.public_id}, **htmx())
    assert panel.status_code == 200 and "data-extra-buy" in panel.content.decode()
    assert f"{price.cost:,.2f}" in panel.content.decode()

    token = str(uuid.uuid4())
    response = login(bob).post(
        url("extra_buy", team),
        {"activation": parent.public_id, "request_token": token},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    again = Activation.objects.get(parent=parent)
    assert again.phone == parent.phone and again.status == ActivationStatus.WAITING
    assert again.upstream_id != parent.upstream_id
    assert LedgerEntry.objects.get(reference=again.upstream_id).amount == price.cost
    login(bob).post(url("extra_buy", team), {"activation": parent.public_id, "request_token": token})
    assert Activation.objects.filter(parent=parent).count() == 1


def test_a_number_that_got_no_code_cannot_be_activated_again(team, bob, make_key, operator):
    api_key, secret = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    parent = activation_buy(membership=operator, api_key=api_key, request=BuyRequest(service="tg", country=0))
    # The profile's lock (2 minutes) is what simdesk knows; the sandbox account allows at once.
    Activation.objects.filter(pk=parent.pk).update(cancel_allowed_at=parent.bought_at)
    parent.refresh_from_db()
    activation_set_status(membership=operator, activation=parent, action="cancel")
    panel = login(bob).get(url("extra_check", team), {"activation": parent.public_id}, **htmx())
    assert "data-extra-buy" not in panel.content.decode()
    response = login(bob).post(
        url("extra_buy", team), {"activation": parent.public_id, "request_token": str(uuid.uuid4())}
    )
    assert response.status_code == 302
    assert Activation.objects.count() == 1
    assert upstream_balance(api_key) == Decimal("1000")
