"""The classic (SMS-Activate) dialect: exact bodies and content types of every action."""

import json
import re
from decimal import Decimal

from sandbox.models import Activation, Country, Price, Transaction

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"


def _json(response):
    assert response["Content-Type"] == JSON
    assert response.status_code == 200
    assert response.content == response.content.strip()
    return json.loads(response.content)


def _cost(country: int, service: str, forward: bool = False) -> Decimal:
    return Price.objects.get(country_id=country, service_id=service, forward=forward).base_cost


def test_it_answers_no_key_bad_key_and_bad_action_as_bare_tokens(api, account):
    for response, body in [
        (api(None, "getBalance"), b"NO_KEY"),
        (api("", "getBalance"), b"NO_KEY"),
        (api("0" * 32, "getBalance"), b"BAD_KEY"),
        (api(account, "noSuchAction"), b"BAD_ACTION"),
        (api(account, None), b"BAD_ACTION"),
    ]:
        assert (response.status_code, response["Content-Type"], response.content) == (200, TEXT, body)


def test_it_answers_the_balance_without_a_space_or_newline(api, make_account):
    account = make_account(balance="100.5", cashback=Decimal("12.25"))
    assert api(account, "getBalance").content == b"ACCESS_BALANCE:100.50"
    assert api(account, "getBalanceAndCashBack").content == b"ACCESS_BALANCE:112.75"
    assert api(account, "getBalance")["Content-Type"] == TEXT


def test_it_accepts_post_bodies_and_keys_with_stray_spaces(api, account, client):
    assert api(account, "getBalance", method="post").content == b"ACCESS_BALANCE:1000.00"
    response = client.post(f"/sandbox/stubs/handler_api.php?api_key={account.key}&action=getBalance", {})
    assert response.content == b"ACCESS_BALANCE:1000.00"
    response = client.get("/sandbox/stubs/handler_api.php", {"api_key ": account.key, "action": "getBalance"})
    assert response.content == b"ACCESS_BALANCE:1000.00"
    assert client.put("/sandbox/stubs/handler_api.php").status_code == 405


def test_it_sells_a_number_and_charges_the_price(api, account):
    response = api(account, "getNumber", service="tg", country=0, ref="pythonsmsactivate", foo="bar")
    assert response["Content-Type"] == TEXT
    match = re.fullmatch(rb"ACCESS_NUMBER:(\d+):(7\d{10})", response.content)
    assert match, response.content
    activation = Activation.objects.get(pk=int(match[1]))
    assert activation.id > 2**31 and activation.phone == match[2].decode()
    assert activation.operator in {"megafon", "mts", "beeline", "tele2", "rostelecom"}
    account.refresh_from_db()
    assert account.balance == Decimal("1000") - _cost(0, "tg")
    assert Transaction.objects.filter(account=account, kind="purchase", activation_id=activation.id).exists()
    second = api(account, "getNumber", service="tg", country=0).content.split(b":")[1]
    assert int(second) > activation.id


def test_it_refuses_numbers_with_the_documented_tokens(api, make_account):
    account = make_account(balance="0.5")
    assert api(account, "getNumber", service="tg", country=0).content == b"NO_BALANCE"
    assert api(account, "getNumber", service="zzz", country=0).content == b"BAD_SERVICE"
    assert api(account, "getNumber", country=0).content == b"BAD_SERVICE"
    assert api(account, "getNumber", service="full", country=0).content == b"BAD_SERVICE"
    assert api(account, "getNumber", service="tg", country=999).content == b"NO_NUMBERS"
    assert api(account, "getNumber", service="tg", country=0, operator="nosuchop").content == b"NO_NUMBERS"
    assert api(account, "getNumber", service="tg", country=0, forward=1).content == b"NO_NUMBERS"
    Price.objects.filter(country_id=0, service_id="wa", forward=False).update(base_count=0)
    rich = make_account()
    assert api(rich, "getNumber", service="wa", country=0).content == b"NO_NUMBERS"
    cost = _cost(0, "tg")
    assert (
        api(rich, "getNumber", service="tg", country=0, maxPrice="0.01").content
        == f"WRONG_MAX_PRICE:{cost}".encode()
    )
    assert (
        api(rich, "getNumber", service="tg", country=0, phoneException="79").content
        == b"WRONG_EXCEPTION_PHONE"
    )
    assert (
        api(rich, "getNumber", service="tg", country=0, phoneException="7a18").content
        == b"WRONG_EXCEPTION_PHONE"
    )
    assert api(make_account(balance="1"), "getNumber", service="vk", country=0, forward=1).content == (
        b"NO_BALANCE_FORWARD"
    )
    assert not Activation.objects.filter(account__in=[account, rich]).exists()


def test_it_honours_operators_phone_exceptions_and_max_price(api, account):
    body = api(account, "getNumber", service="tg", country=0, operator="mts", maxPrice="1000").content
    activation = Activation.objects.get(pk=int(body.split(b":")[1]))
    assert activation.operator == "mts"
    exceptions = ",".join(f"79{d}{e}" for d in range(10) for e in range(10) if (d, e) != (5, 5))
    body = api(account, "getNumber", service="tg", country=0, phoneException=exceptions[:2000]).content
    if body.startswith(b"ACCESS_NUMBER"):
        assert body.split(b":")[2].startswith(b"7955")
    else:
        assert body in {b"NO_NUMBERS", b"WRONG_EXCEPTION_PHONE"}
    body = api(account, "getNumber", service="tg", country=1).content
    assert body.split(b":")[2].startswith(b"380")


def test_it_answers_get_number_v2_in_the_seed_shape(api, account):
    data = _json(api(account, "getNumberV2", service="wa", country=16))
    assert list(data) == [
        "activationId",
        "phoneNumber",
        "activationCost",
        "countryCode",
        "canGetAnotherSms",
        "activationTime",
        "activationOperator",
    ]
    assert isinstance(data["activationId"], int) and data["phoneNumber"].startswith("44")
    assert data["activationCost"] == f"{_cost(16, 'wa'):.2f}"
    assert data["countryCode"] == "16" and data["canGetAnotherSms"] == "1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", data["activationTime"])
    assert api(account, "getNumberV2", service="nope", country=16).content == b"BAD_SERVICE"


def test_it_sells_one_number_for_several_services(api, account):
    data = _json(
        api(account, "getMultiServiceNumber", multiService="fb,ig,vk", multiForward="0,0,1", country=0)
    )
    assert [row["service"] for row in data] == ["fb", "ig", "vk"]
    assert len({row["phone"] for row in data}) == 1 and all(
        isinstance(row["activation"], int) for row in data
    )
    assert [
        a.forward for a in Activation.objects.filter(pk__in=[r["activation"] for r in data]).order_by("id")
    ] == [
        False,
        False,
        True,
    ]
    # smsactivate 1.5 sends the forward list as `forward`.
    assert (
        len(_json(api(account, "getMultiServiceNumber", multiService="fb,ig", forward="0,0", country=0))) == 2
    )
    assert (
        api(account, "getMultiServiceNumber", multiService="fb,ig", multiForward="1,1").content
        == b"BAD_FORWARD"
    )
    assert (
        api(account, "getMultiServiceNumber", multiService="fb,ig", multiForward="1").content
        == b"BAD_FORWARD"
    )
    assert api(account, "getMultiServiceNumber", multiService="fb,xx").content == b"BAD_SERVICE"
    assert (
        api(account, "getMultiServiceNumber", multiService="tg,wa", country=187).content == b"NOT_AVAILABLE"
    )


def test_it_answers_the_catalog_actions(api, account):
    status = _json(api(account, "getNumbersStatus", country=0))
    assert status["tg_0"] == Price.objects.get(country_id=0, service_id="tg", forward=False).base_count
    assert "vk_1" in status and all(isinstance(v, int) for v in status.values())
    assert set(_json(api(account, "getNumbersStatus"))) == set(status)
    partial = _json(api(account, "getNumbersStatus", country=0, operator="mts,beeline"))
    assert partial["tg_0"] == int(status["tg_0"] * 2 / 5)
    assert _json(api(account, "getNumbersStatus", country=999)) == {}

    operators = _json(api(account, "getOperators", country=1))
    assert operators == {
        "status": "success",
        "countryOperators": {"1": ["kyivstar", "life", "mts", "utel", "vodafone"]},
    }
    assert len(_json(api(account, "getOperators"))["countryOperators"]) == Country.objects.count()
    response = api(account, "getOperators", country=999)
    assert (response["Content-Type"], response.content) == (TEXT, b"OPERATORS_NOT_FOUND")

    countries = _json(api(account, "getCountries"))
    assert countries["0"] == {
        "id": 0,
        "rus": "Россия",
        "eng": "Russia",
        "chn": "俄罗斯",
        "visible": 1,
        "retry": 1,
        "rent": 1,
        "multiService": 1,
    }
    assert countries["187"]["eng"] == "USA" and countries["12"]["eng"] == "USA (virtual)"
    assert "Россия".encode() in api(account, "getCountries").content

    services = _json(api(account, "getServicesList"))
    assert services["status"] == "success" and {"code": "tg", "name": "Telegram"} in services["services"]
    assert all(s["code"] != "full" for s in services["services"])
    assert _json(api(account, "getServicesList", country=999))["services"] == []


def test_it_answers_prices(api, account):
    prices = _json(api(account, "getPrices", service="tg", country=0))
    cost = _cost(0, "tg")
    expected_cost = int(cost) if cost == int(cost) else float(cost)
    assert prices == {
        "0": {
            "tg": {
                "cost": expected_cost,
                "count": Price.objects.get(country_id=0, service_id="tg").base_count,
            }
        }
    }
    assert set(_json(api(account, "getPrices", country=0))["0"]) >= {"tg", "wa", "vk"}
    assert len(_json(api(account, "getPrices", service="tg"))) == Country.objects.count()
    assert api(account, "getPrices", service="nope").content == b"{}"
    assert api(account, "getPrices", country=999).content == b"{}"
    extended = _json(api(account, "getPricesExtended", service="tg", country=0))
    assert extended["0"]["tg"]["physicalCount"] == extended["0"]["tg"]["count"]
    verification = _json(api(account, "getPricesVerification", service="tg"))
    assert verification["tg"]["0"]["price"] == f"{cost:.2f}" and isinstance(
        verification["tg"]["0"]["count"], int
    )
    assert set(_json(api(account, "getPricesVerification"))) >= {"tg", "wa"}


def test_it_ranks_top_countries(api, account):
    top = _json(api(account, "getTopCountriesByService", service="tg"))
    assert list(top)[:3] == ["0", "1", "2"]
    counts = [row["count"] for row in top.values()]
    assert counts == sorted(counts, reverse=True)
    assert set(top["0"]) == {"country", "count", "price", "retail_price"}
    free = _json(api(account, "getTopCountriesByService", service="tg", freePrice="true"))
    assert sum(free["0"]["freePriceMap"].values()) == free["0"]["count"]
    assert f"{free['0']['price']:.2f}" in free["0"]["freePriceMap"]
    everything = _json(api(account, "getTopCountriesByService"))
    assert everything["tg"] == top and "full" not in everything
    ranked = _json(api(account, "getTopCountriesByServiceRank", service="tg"))
    assert ranked == top

    listing = _json(api(account, "getListOfTopCountriesByService", service="tg"))
    assert len(listing) == 10 and set(listing[0]) == {"country", "share", "rate"}
    assert api(account, "getListOfTopCountriesByService").content == b"WRONG_SERVICE"
    assert api(account, "getListOfTopCountriesByService", service="nope").content == b"WRONG_SERVICE"


def test_it_lists_active_activations_and_history(api, account):
    assert api(account, "getActiveActivations").content == b"NO_ACTIVATIONS"
    assert api(account, "getHistory").content == b"[]"
    number = api(account, "getNumber", service="vk", country=0).content.split(b":")
    data = _json(api(account, "getActiveActivations"))
    assert data["status"] == "success"
    row = data["activeActivations"][0]
    assert row["activationId"] == number[1].decode() and row["phoneNumber"] == number[2].decode()
    assert row["activationStatus"] == "4" and row["smsCode"] is None and row["countryName"] == "Russia"
    assert row["activationCost"] == f"{_cost(0, 'vk'):.2f}" and row["canGetAnotherSms"] == "1"

    history = _json(api(account, "getHistory"))
    assert history == [
        {
            "id": int(number[1]),
            "date": row["activationTime"],
            "phone": row["phoneNumber"],
            "sms": None,
            "cost": 0,
            "status": "4",
        }
    ]
    assert _json(api(account, "getHistory", start=0, end=10, size=5)) == []
    assert api(account, "getHistory", start="yesterday").content == b"WRONG_DATE"
    assert api(account, "getHistory", start=1, end=1 + 31 * 86400).content == b"WRONG_DATE"
    for _ in range(3):
        api(account, "getNumber", service="tg", country=0)
    assert len(_json(api(account, "getHistory", size=2))) == 2
    assert len(_json(api(account, "getHistory", offset=3, limit=100))) == 1


def test_it_reports_incoming_calls_of_call_verified_numbers(api, account):
    Price.objects.filter(country_id=0, service_id="tg", forward=False).update(verification=True)
    Price.objects.filter(country_id=0, service_id="ok", forward=False).update(verification=False)
    assert api(account, "getNumber", service="ok", country=0, verification="true").content == b"NO_NUMBERS"
    plain_id = api(account, "getNumber", service="ok", country=0).content.split(b":")[1].decode()
    call_id = (
        api(account, "getNumber", service="tg", country=0, verification="true")
        .content.split(b":")[1]
        .decode()
    )
    assert _json(api(account, "getIncomingCallStatus", activationId=call_id)) == {
        "status": "2",
        "phone": False,
    }
    assert api(account, "getIncomingCallStatus", activationId=plain_id).content == b"NOT_INCOMING"
    assert api(account, "getIncomingCallStatus", activationId="1").content == b"INVALID_ACTIVATION_ID"
    Activation.objects.filter(pk=call_id).update(code_due_at=Activation.objects.get(pk=call_id).created_at)
    data = _json(api(account, "getIncomingCallStatus", activationId=call_id))
    activation = Activation.objects.get(pk=call_id)
    assert data == {"status": "2", "phone": activation.call_from}
    assert api(account, "getStatus", id=call_id).content == f"STATUS_OK:{activation.call_from[-4:]}".encode()
    assert api(account, "setStatus", id=call_id, status=3).content == b"BAD_STATUS"
    assert api(account, "setStatus", id=call_id, status=6).content == b"ACCESS_ACTIVATION"
    assert _json(api(account, "getIncomingCallStatus", activationId=call_id))["status"] == "3"


def test_it_orders_outgoing_calls(api, account):
    activation_id = api(account, "getNumber", service="tg", country=0).content.split(b":")[1].decode()
    assert _json(api(account, "getOutgoingCalls")) == {}
    response = api(account, "createTaskForCall", activationId=activation_id, phone="78006007664")
    assert response.content == b'{"status":"success","msg":"Call request successfully created."}'
    assert api(account, "createTaskForCall", activationId=activation_id).content == b"CALL_TASK_ALREADY_EXIST"
    assert api(account, "createTaskForCall", activationId="5").content == b"WRONG_ACTIVATION_ID"
    other = api(account, "getNumber", service="wa", country=0).content.split(b":")[1].decode()
    assert api(account, "createTaskForCall", activationId=other, phone="12").content == b"NUMBER_NOT_EXIST"
    calls = _json(api(account, "getOutgoingCalls", activationId=activation_id))
    (call,) = calls.values()
    assert (
        call["status"] == "IN_PROCESS" and call["phoneFrom"] == Activation.objects.get(pk=activation_id).phone
    )
    assert _json(api(account, "getOutgoingCalls", date="2001-01-01")) == {}
    assert api(account, "getOutgoingCalls", date="01/01/2001").content == b"WRONG_DATE"
