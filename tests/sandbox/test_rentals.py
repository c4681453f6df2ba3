"""Rentals: prices, purchase, messages over time, finish/cancel window, continue with bounds, re-order."""

import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from sandbox import services
from sandbox.models import Rental, RentalStatus, RentMessage

JSON = "application/json; charset=utf-8"


def _rent(api, account, **params) -> Rental:
    response = api(account, "getRentNumber", **{"service": "tg", "country": 0, **params})
    data = response.json()
    assert data["status"] == "success", data
    return Rental.objects.get(pk=data["phone"]["id"])


def _balance(account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def test_it_lists_rent_services_for_both_time_parameter_names(api, account):
    four = api(account, "getRentServicesAndCountries").json()
    assert four["countries"] == {"0": 0}
    assert four["operators"]["0"] == "any" and "megafon" in four["operators"].values()
    assert {"full", "tg", "vk"} <= set(four["services"]) and set(four["services"]["tg"]) == {"cost", "quant"}
    day = api(account, "getRentServicesAndCountries", rent_time=24).json()
    assert day["services"]["tg"]["cost"] > four["services"]["tg"]["cost"]
    assert api(account, "getRentServicesAndCountries", time=24).json() == day
    assert api(account, "getRentServicesAndCountries", country=3).json() == {
        "countries": {},
        "operators": {},
        "services": {},
    }


def test_it_rents_a_number(api, account):
    response = api(
        account, "getRentNumber", service="tg", rent_time=12, country=0, url="http://127.0.0.1:9/hook"
    )
    assert response["Content-Type"] == JSON
    assert re.fullmatch(
        rb'\{"status":"success","phone":\{"id":\d+,"endDate":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d","number":"7\d{10}"\}\}',
        response.content,
    )
    rental = Rental.objects.get()
    assert rental.hours == 12 and rental.url == "http://127.0.0.1:9/hook"
    assert rental.ends_at - rental.started_at == timedelta(hours=12)
    price = api(account, "getRentServicesAndCountries", rent_time=12).json()["services"]["tg"]["cost"]
    assert _balance(account) == Decimal("1000") - Decimal(str(price))
    # smsactivate 1.5 sends `time` instead of `rent_time`.
    assert _rent(api, account, time=24).hours == 24
    assert _rent(api, account, service="full").service_id == "full"


def test_it_refuses_rents_with_json_errors(api, make_account):
    account = make_account(balance="1")
    expectations = [
        ({"service": "nope"}, b'{"status":"error","message":"BAD_SERVICE"}'),
        ({"service": ""}, b'{"status":"error","message":"BAD_SERVICE"}'),
        ({"service": "tg", "country": 3}, b'{"status":"error","message":"NO_NUMBERS"}'),
        ({"service": "tg", "country": 999}, b'{"status":"error","message":"NO_NUMBERS"}'),
        ({"service": "tg"}, b'{"status":"error","message":"NO_BALANCE"}'),
        ({"service": "tg", "rent_time": 2}, b'{"status":"error","message":"INVALID_TIME"}'),
    ]
    for params, body in expectations:
        response = api(account, "getRentNumber", **params)
        assert (response["Content-Type"], response.content) == (JSON, body), params
    assert api("f" * 32, "getRentNumber", service="tg").content == b"BAD_KEY"
    assert not Rental.objects.exists()


def test_it_shows_rent_messages_as_they_arrive(api, account):
    rental = _rent(api, account)
    assert (
        api(account, "getRentStatus", id=rental.id).content
        == b'{"status":"error","message":"STATUS_WAIT_CODE"}'
    )
    assert api(account, "getRentStatus").content == b'{"status":"error","message":"NO_ID_RENT"}'
    assert api(account, "getRentStatus", id=1).content == b'{"status":"error","message":"INVALID_PHONE"}'
    services.advance(timezone.now() + timedelta(hours=3))
    messages = list(RentMessage.objects.filter(rental=rental))
    assert 1 <= len(messages) <= 5
    data = api(account, "getRentStatus", id=rental.id).json()
    assert data["status"] == "success" and data["quantity"] == str(len(messages))
    first = data["values"]["0"]
    assert set(first) == {"phoneFrom", "text", "service", "date"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", first["date"])
    assert list(data["values"]) == [str(i) for i in range(len(messages))]
    services.sms_push(target_id=rental.id, text="Your code 4321")
    data = api(account, "getRentStatus", id=rental.id).json()
    # Newest first; the clock above ran hours ahead, so the pushed message is the oldest.
    assert data["values"][str(len(messages))]["text"] == "Your code 4321"
    assert data["quantity"] == str(len(messages) + 1)
    assert api(account, "getRentStatus", id=rental.id, page=0, size=1).json()["values"].keys() == {"0"}


def test_it_finishes_and_cancels_rents(api, make_account):
    account = make_account(rent_cancel_seconds=1200)
    kept, cancelled, late = _rent(api, account), _rent(api, account), _rent(api, account)
    assert api(account, "setRentStatus", id=kept.id, status=1).content == b'{"status":"success"}'
    assert (
        api(account, "setRentStatus", id=kept.id, status=1).content
        == b'{"status":"error","message":"ALREADY_FINISH"}'
    )
    assert (
        api(account, "setRentStatus", id=kept.id, status=2).content
        == b'{"status":"error","message":"ALREADY_FINISH"}'
    )
    assert (
        api(account, "getRentStatus", id=kept.id).content == b'{"status":"error","message":"STATUS_FINISH"}'
    )

    balance = _balance(account)
    assert api(account, "setRentStatus", id=cancelled.id, status=2).content == b'{"status":"success"}'
    assert _balance(account) == balance + cancelled.cost
    assert api(account, "setRentStatus", id=cancelled.id, status=2).content == (
        b'{"status":"error","message":"ALREADY_CANCEL"}'
    )
    assert (
        api(account, "getRentStatus", id=cancelled.id).content
        == b'{"status":"error","message":"STATUS_CANCEL"}'
    )

    Rental.objects.filter(pk=late.pk).update(started_at=timezone.now() - timedelta(minutes=21))
    assert (
        api(account, "setRentStatus", id=late.id, status=2).content
        == b'{"status":"error","message":"CANT_CANCEL"}'
    )
    for status in ("", "3", "x"):
        assert api(account, "setRentStatus", id=late.id, status=status).content == (
            b'{"status":"error","message":"INCORECT_STATUS"}'
        )
    assert api(account, "setRentStatus", status=1).content == b'{"status":"error","message":"NO_ID_RENT"}'
    assert api(account, "setRentStatus", id=kept.id + 999, status=1).content == (
        b'{"status":"error","message":"INVALID_PHONE"}'
    )


def test_it_lists_active_rents(api, account):
    assert api(account, "getRentList").content == b'{"status":"error","message":"NO_NUMBERS"}'
    first, second = _rent(api, account), _rent(api, account)
    assert api(account, "getRentList").json() == {
        "status": "success",
        "values": {
            "0": {"id": str(first.id), "phone": first.phone},
            "1": {"id": str(second.id), "phone": second.phone},
        },
    }
    Rental.objects.filter(pk=first.pk).update(ends_at=timezone.now() - timedelta(seconds=1))
    assert api(account, "getRentList").json()["values"] == {
        "0": {"id": str(second.id), "phone": second.phone}
    }
    assert (
        api(account, "getRentStatus", id=first.id).content == b'{"status":"error","message":"STATUS_FINISH"}'
    )


def test_it_continues_an_active_rent_under_the_same_id(api, account):
    rental = _rent(api, account)
    price = api(account, "getContinueRentPriceNumber", id=rental.id, rent_time=12).json()
    assert price["status"] == "success" and price["price"] > 0
    balance = _balance(account)
    data = api(account, "continueRentNumber", id=rental.id, rent_time=12).json()
    assert (
        data["status"] == "success"
        and data["phone"]["id"] == rental.id
        and data["phone"]["number"] == rental.phone
    )
    rental_after = Rental.objects.get(pk=rental.pk)
    assert rental_after.ends_at == rental.ends_at + timedelta(hours=12) and rental_after.hours == 16
    assert _balance(account) == balance - Decimal(str(price["price"]))
    assert api(account, "continueRentNumber", id=rental.id).json()["phone"]["id"] == rental.id


def test_it_bounds_rent_continuation(api, account):
    rental = _rent(api, account)
    for hours in ("3", "1345", "x"):
        body = b'{"status":"error","message":"INVALID_TIME"}'
        assert api(account, "continueRentNumber", id=rental.id, rent_time=hours).content == body
        assert api(account, "getContinueRentPriceNumber", id=rental.id, rent_time=hours).content == body
    Rental.objects.filter(pk=rental.pk).update(max_ends_at=rental.ends_at + timedelta(hours=10, minutes=30))
    body = b'{"status":"error","message":"MAX_HOURS_EXCEED","info":{"max":10}}'
    assert api(account, "continueRentNumber", id=rental.id, rent_time=12).content == body
    assert api(account, "getContinueRentPriceNumber", id=rental.id, rent_time=12).content == body
    assert api(account, "continueRentNumber").content == b'{"status":"error","message":"NO_ID_RENT"}'
    assert (
        api(account, "continueRentNumber", id=42).content == b'{"status":"error","message":"INVALID_PHONE"}'
    )
    account.balance = Decimal("0")
    account.save()
    assert (
        api(account, "continueRentNumber", id=rental.id).content
        == b'{"status":"error","message":"NO_BALANCE"}'
    )


def test_it_reorders_a_finished_rent_with_a_new_id(api, account):
    rental = _rent(api, account)
    api(account, "setRentStatus", id=rental.id, status=1)
    data = api(account, "continueRentNumber", id=rental.id, rent_time=24).json()
    renewed = Rental.objects.get(pk=data["phone"]["id"])
    assert renewed.id != rental.id and renewed.phone == rental.phone and renewed.renewed_from_id == rental.id
    assert renewed.status == RentalStatus.ACTIVE and renewed.hours == 24
    assert (
        api(account, "continueRentNumber", id=rental.id).content == b'{"status":"error","message":"RENT_DIE"}'
    )

    dead = _rent(api, account)
    api(account, "setRentStatus", id=dead.id, status=1)
    Rental.objects.filter(pk=dead.pk).update(max_ends_at=timezone.now() - timedelta(seconds=1))
    assert (
        api(account, "continueRentNumber", id=dead.id).content == b'{"status":"error","message":"RENT_DIE"}'
    )
    assert (
        api(account, "getContinueRentPriceNumber", id=dead.id).content
        == b'{"status":"error","message":"RENT_DIE"}'
    )
    cancelled = _rent(api, account)
    api(account, "setRentStatus", id=cancelled.id, status=2)
    assert (
        api(account, "continueRentNumber", id=cancelled.id).content
        == b'{"status":"error","message":"RENT_DIE"}'
    )
