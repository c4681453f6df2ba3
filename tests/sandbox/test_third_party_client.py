"""Third-party clients work unchanged: the official `smsactivate==1.5` parser over real HTTP.

The first test re-implements that client's documented parsing rules (protocol.md d.2) so it runs
everywhere; the second drives the real package when it is installed.
"""

import json
from decimal import Decimal

import pytest

from sandbox import services
from sandbox.models import Activation

# The exact-match error keys of smsactivate 1.5 (protocol.md d.2).
SA15_ERRORS = {
    "NO_NUMBERS",
    "NO_BALANCE",
    "BAD_ACTION",
    "BAD_SERVICE",
    "BAD_KEY",
    "ERROR_SQL",
    "SQL_ERROR",
    "NO_ACTIVATION",
    "BAD_STATUS",
    "STATUS_CANCEL",
    "BANNED",
    "NO_CONNECTION",
    "ACCOUNT_INACTIVE",
    "NO_ID_RENT",
    "INVALID_PHONE",
    "STATUS_FINISH",
    "INCORECT_STATUS",
    "CANT_CANCEL",
    "ALREADY_FINISH",
    "ALREADY_CANCEL",
    "WRONG_OPERATOR",
    "NO_YULA_MAIL",
    "WHATSAPP_NOT_AVAILABLE",
    "NOT_INCOMING",
    "INVALID_ACTIVATION_ID",
    "WRONG_ADDITIONAL_SERVICE",
    "WRONG_ACTIVATION_ID",
    "WRONG_SECURITY",
    "REPEAT_ADDITIONAL_SERVICE",
    "NO_KEY",
    "OPERATORS_NOT_FOUND",
}


def sa15_parse(action: str, text: str):
    """What smsactivate 1.5's `response(action, text)` returns for a body."""
    if text in SA15_ERRORS:
        return {"error": text}
    if action in {"getBalance", "getBalanceAndCashBack"}:
        return {"balance": text[15:]}
    if action == "getNumber":
        first, second = text[14:].split(":")[:2]
        return {"activation_id": int(first), "phone": int(second)}
    if action in {"setStatus", "getStatus"}:
        return text
    return json.loads(text)


def test_it_satisfies_the_sa15_parsing_rules(api, make_account):
    account = make_account(balance="100", sms_delay_min=0, sms_delay_max=0)
    text = lambda action, **params: api(account, action, **params).content.decode()  # noqa: E731
    assert sa15_parse("getBalance", text("getBalance")) == {"balance": "100.00"}
    number = sa15_parse("getNumber", text("getNumber", service="tg", country=0))
    assert number["activation_id"] > 2**31 and str(number["phone"]).startswith("7")
    status = sa15_parse("getStatus", text("getStatus", id=number["activation_id"]))
    assert status.startswith("STATUS_OK:")
    assert (
        sa15_parse("setStatus", text("setStatus", id=number["activation_id"], status=6))
        == "ACCESS_ACTIVATION"
    )
    assert sa15_parse("getNumber", api("0" * 32, "getNumber").content.decode()) == {"error": "BAD_KEY"}
    assert sa15_parse("getNumber", text("getNumber", service="zz")) == {"error": "BAD_SERVICE"}
    for action, params in [
        ("getNumbersStatus", {"country": 0}),
        ("getNumberV2", {"service": "tg", "country": 0}),
        ("getMultiServiceNumber", {"multiService": "fb,ig", "country": 0}),
        ("getPrices", {"service": "tg"}),
        ("getCountries", {}),
        ("getRentServicesAndCountries", {"time": 4}),
        ("getRentNumber", {"service": "tg"}),
        ("getTopCountriesByService", {"service": "tg"}),
        ("getOperators", {"country": 0}),
        ("getActiveActivations", {}),
        ("getRentList", {}),
        ("getOutgoingCalls", {}),
    ]:
        assert isinstance(sa15_parse(action, text(action, **params)), dict | list), action


sa = pytest.importorskip("smsactivate.api")


def test_it_serves_the_official_client(live_server, transactional_db):
    account = services.account_create(balance=Decimal("500"))
    account.sms_delay_min = account.sms_delay_max = 1000
    account.no_code_share = 0
    account.cancel_lock_seconds = 0
    account.save()
    client = sa.SMSActivateAPI(account.key)
    client._SMSActivateAPI__api_url = f"{live_server.url}/sandbox/stubs/handler_api.php"

    assert client.getBalance() == {"balance": "500.00"}
    assert client.getNumbersStatus(country=0, operator="tele2")["tg_0"] > 0
    assert client.getTopCountriesByService("tg")["0"]["count"] > 0
    assert client.getOperators(country=0)["countryOperators"]["0"]
    assert client.getCountries()["0"]["eng"] == "Russia"
    assert client.getPrices(service="tg", country=0)["0"]["tg"]["cost"] > 0
    number = client.getNumber(service="tg", country=0)
    assert set(number) == {"activation_id", "phone"}
    assert client.getStatus(id=number["activation_id"]) == "STATUS_WAIT_CODE"
    assert client.getActiveActivations()["activeActivations"][0]["activationId"] == str(
        number["activation_id"]
    )
    assert client.setStatus(id=number["activation_id"], status=1) == "ACCESS_READY"
    assert client.setStatus(id=number["activation_id"], status=8) == "ACCESS_CANCEL"
    assert client.getStatus(id=number["activation_id"])["error"] == "STATUS_CANCEL"
    assert client.getNumberV2(service="wa", country=0)["phoneNumber"].startswith("7")
    multi = client.getMultiServiceNumber(service="fb,ig", country=0)
    assert [row["service"] for row in multi] == ["fb", "ig"]
    forwarded = client.getNumber(service="vk", country=0, forward=1)
    services.sms_push(target_id=forwarded["activation_id"], text="code 1234")
    assert (
        client.getAdditionalService(id=forwarded["activation_id"], service="ok")["phone"]
        == forwarded["phone"]
    )
    assert client.createTaskForCall(number["activation_id"])["error"] == "WRONG_ACTIVATION_ID"

    assert client.getRentServicesAndCountries(time=4, country=0)["services"]["full"]["cost"] > 0
    rent = client.getRentNumber(service="tg", time=4, country=0)
    assert rent["status"] == "success"
    rent_id = rent["phone"]["id"]
    assert client.getRentStatus(rent_id) == {"status": "error", "message": "STATUS_WAIT_CODE"}
    assert client.getRentList()["values"]["0"]["id"] == str(rent_id)
    assert client.continueRentNumber(id=rent_id, time=4)["phone"]["id"] == rent_id
    assert client.setRentStatus(id=rent_id, status=1) == {"status": "success"}
    assert client.getRentStatus(rent_id) == {"status": "error", "message": "STATUS_FINISH"}
    assert Activation.objects.count() == 6

    stranger = sa.SMSActivateAPI("0" * 32)
    stranger._SMSActivateAPI__api_url = client._SMSActivateAPI__api_url
    assert stranger.getBalance()["error"] == "BAD_KEY"
