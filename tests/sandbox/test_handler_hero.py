"""The HeroSMS dialect: JSON served as text/html, USD, ISO times, `{title,details,info}` envelopes."""

import json
import re
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from sandbox.models import Activation, Price
from tests.sandbox.conftest import HERO_URL

HTML = "text/html; charset=utf-8"
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00"


def _envelope(response, status: int, title: str) -> dict:
    assert (response.status_code, response["Content-Type"]) == (status, HTML), response.content
    data = json.loads(response.content)
    assert data["title"] == title
    return data


def _usd(country: int, service: str) -> Decimal:
    rub = Price.objects.get(country_id=country, service_id=service, forward=False).base_cost
    return (rub / Decimal(90)).quantize(Decimal("0.0001"))


def test_it_answers_tokens_and_json_as_text_html_in_usd(api, hero):
    response = api(hero, "getBalance")
    assert (response.status_code, response["Content-Type"], response.content) == (
        200,
        HTML,
        b"ACCESS_BALANCE:1000.0000",
    )
    assert hero.currency == 840
    response = api(hero, "getPrices", service="tg", country=0)
    assert response["Content-Type"] == HTML
    assert json.loads(response.content)["0"]["tg"]["cost"] == float(_usd(0, "tg"))
    assert json.loads(api(hero, "getPrices", service="nope").content) == {
        "status": "false",
        "msg": "service is incorrect",
    }
    assert json.loads(api(hero, "getPrices", country=999).content) == {
        "status": "false",
        "msg": "country is incorrect",
    }


def test_it_answers_bad_key_as_an_envelope_on_the_hero_path(api, db):
    response = api("f" * 32, "getBalance", endpoint=HERO_URL)
    assert response.content == b'{"title":"BAD_KEY","details":"Unauthorized"}'
    _envelope(response, 401, "BAD_KEY")
    # A missing key: HeroSMS's live answer (0xffz/gatewave-app crates/sms-activate/fixtures/hero_sms/nokey_getBalance.txt).
    response = api(None, "getBalance", endpoint=HERO_URL)
    assert response.content == (
        b'{"title":"UNPROCESSABLE_ENTITY","details":"Validation failed",'
        b'"info":{"field":"api_key","code":"REQUIRED","message":""}}'
    )
    _envelope(response, 422, "UNPROCESSABLE_ENTITY")


def test_it_sells_numbers_in_the_hero_shape(api, hero):
    data = json.loads(api(hero, "getNumberV2", service="tg", country=6).content)
    assert isinstance(data["activationId"], str) and int(data["activationId"]) > 2**31
    assert (
        data["phoneNumber"].startswith("62") and data["countryPhoneCode"] == 62 and data["countryCode"] == 6
    )
    assert data["activationCost"] == float(_usd(6, "tg")) and data["currency"] == 840
    assert re.fullmatch(ISO, data["activationTime"]) and re.fullmatch(ISO, data["activationEndTime"])
    assert data["canGetAnotherSms"] is True and data["serviceCode"] == "tg" and data["status"] == 4
    body = api(hero, "getNumber", service="tg", country=0).content
    assert re.fullmatch(rb"ACCESS_NUMBER:\d+:7\d{10}", body)
    hero.refresh_from_db()
    assert hero.balance == Decimal(1000) - _usd(6, "tg") - _usd(0, "tg")


def test_it_answers_hero_errors_with_http_codes(api, make_account):
    hero = make_account(dialect="hero", balance="0.001", cancel_lock_seconds=120)
    _envelope(api(hero, "getNumber", service="tg", country=0), 402, "NO_BALANCE")
    _envelope(api(hero, "getNumber", service="tg", country=999), 404, "NO_NUMBERS")
    _envelope(api(hero, "getNumber", service="zz", country=0), 400, "BAD_SERVICE")
    data = _envelope(
        api(hero, "getNumber", service="tg", country=0, maxPrice="0.0001"), 400, "WRONG_MAX_PRICE"
    )
    assert data["info"] == {"min": float(_usd(0, "tg"))}
    _envelope(api(hero, "noSuchAction"), 404, "BAD_ACTION")
    assert api(hero, "getStatus", id=5).content == b'{"title":"NOT_FOUND","details":"Activation Not Found"}'
    _envelope(api(hero, "setStatus", id=5, status=8), 404, "NOT_FOUND")
    response = api(hero, "getOperators", country=999)
    assert (response.status_code, response.content) == (200, b"OPERATORS_NOT_FOUND")

    hero.balance = Decimal(100)
    hero.save()
    activation_id = json.loads(api(hero, "getNumberV2", service="tg", country=0).content)["activationId"]
    _envelope(api(hero, "setStatus", id=activation_id, status=3), 400, "BAD_STATUS")
    data = _envelope(api(hero, "setStatus", id=activation_id, status=8), 409, "EARLY_CANCEL_DENIED")
    assert data["info"] == {"minActivationTime": 120}
    Activation.objects.filter(pk=activation_id).update(code_due_at=timezone.now())
    assert api(hero, "getStatus", id=activation_id).content.startswith(b"STATUS_OK:")
    _envelope(api(hero, "setStatus", id=activation_id, status=8), 409, "OTP_RECEIVED")
    assert api(hero, "setStatus", id=activation_id, status=6).content == b"ACCESS_ACTIVATION"
    _envelope(api(hero, "setStatus", id=activation_id, status=6), 409, "ACTIVATION_NOT_ACTIVE")


def test_it_bans_spending_with_a_403_envelope(api, make_account):
    until = timezone.now().replace(microsecond=0) + timedelta(hours=1)
    hero = make_account(dialect="hero", banned_until=until)
    data = _envelope(api(hero, "getNumber", service="tg", country=0), 403, "BANNED")
    assert data["info"]["banned_until"] == int(until.timestamp()) and data["info"]["scope"] == "global"
    assert data["info"]["readable_date"] == until.isoformat().replace("+00:00", "+00:00")
    assert api(hero, "getBalance").status_code == 200
    assert not Activation.objects.exists()


def test_it_lists_active_activations_and_history_in_the_hero_shape(api, hero):
    assert api(hero, "getActiveActivations").content == b'{"status":"success","data":[]}'
    activation_id = json.loads(api(hero, "getNumberV2", service="tg", country=0).content)["activationId"]
    rows = json.loads(api(hero, "getActiveActivations").content)["data"]
    assert rows[0]["activationId"] == activation_id and rows[0]["currency"] == 840
    assert re.fullmatch(ISO, rows[0]["activationTime"]) and rows[0]["smsCode"] is None
    Activation.objects.filter(pk=activation_id).update(code_due_at=timezone.now())
    rows = json.loads(api(hero, "getActiveActivations").content)["data"]
    assert rows[0]["smsCode"] == Activation.objects.get(pk=activation_id).sms[0]["code"]
    assert rows[0]["activationStatus"] == "2"
    history = json.loads(api(hero, "getHistory").content)
    assert (
        history[0]["id"] == activation_id
        and history[0]["currency"] == 840
        and re.fullmatch(ISO, history[0]["date"])
    )
    status = json.loads(api(hero, "getStatusV2", id=activation_id).content)
    assert status["verificationType"] == "sms" and status["data"]["code"] == rows[0]["smsCode"]


def test_it_finishes_and_cancels_with_204(api, hero):
    first = json.loads(api(hero, "getNumberV2", service="tg", country=0).content)["activationId"]
    response = api(hero, "cancelActivation", id=first)
    assert (response.status_code, response.content) == (204, b"")
    second = json.loads(api(hero, "getNumberV2", service="tg", country=0).content)["activationId"]
    _envelope(api(hero, "finishActivation", id=second), 400, "BAD_STATUS")
    Activation.objects.filter(pk=second).update(code_due_at=timezone.now())
    assert api(hero, "finishActivation", id=second).status_code == 204


def test_it_answers_rent_actions_in_the_hero_dialect(api, hero):
    assert json.loads(api(hero, "getRentList").content) == {"status": "success", "values": {}}
    data = json.loads(api(hero, "getRentNumber", service="tg", country=0).content)
    # HeroSMS's rent object (metoakr-cyber/sms api/testdata/fixtures/herosms/openapi-reference.json,
    # components.examples.successfulRentNumberExample).
    assert set(data) == {"id", "phoneNumber", "cost", "currency", "lockCancelTime", "endDate", "operator"}
    assert re.fullmatch(ISO, data["endDate"]) and data["currency"] == 840 and data["cost"] > 0
    rent_id = data["id"]
    assert json.loads(api(hero, "getRentStatus", id=rent_id).content) == {
        "status": "success",
        "quantity": "0",
        "values": {},
    }
    _envelope(api(hero, "getRentStatus", id=1), 404, "INVALID_PHONE")
    _envelope(api(hero, "continueRentNumber", id=rent_id, rent_time=2), 400, "INVALID_TIME")
    assert api(hero, "setRentStatus", id=rent_id, status=1).content == b'{"status":"success"}'
    _envelope(api(hero, "setRentStatus", id=rent_id, status=1), 409, "ALREADY_FINISH")
    _envelope(api(hero, "getRentStatus", id=rent_id), 409, "STATUS_FINISH")
