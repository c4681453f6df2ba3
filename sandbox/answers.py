"""How the sandbox writes its answers: tokens, JSON shapes, dates, money and error envelopes.

Two dialects (per account):

* classic (SMS-Activate): every answer HTTP 200; tokens as `text/plain; charset=utf-8`, JSON as
  `application/json; charset=utf-8`; errors of activation actions are bare tokens, errors of rent
  actions `{"status":"error","message":CODE}`; dates are Moscow local time without a zone.
* hero (HeroSMS): everything is served as `text/html; charset=utf-8` (like the real one); errors are
  `{"title","details"[,"info"]}` envelopes with real HTTP codes; money in USD (currency 840);
  dates ISO 8601 with an offset; ids are strings in JSON.

Bodies never end with whitespace: exact-match clients compare the whole body.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.errors import ApiError
from sandbox.models import RUB, Activation, ActivationStatus, Rental

MOSCOW = ZoneInfo("Europe/Moscow")
TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass
class Answer:
    """A finished answer: body, HTTP status, content type, extra headers; `is_json` marks JSON bodies."""

    body: str | bytes
    status: int = 200
    content_type: str = TEXT
    headers: dict[str, str] = field(default_factory=dict)
    is_json: bool = False


# --- dates and money --------------------------------------------------------------------------


def classic_time(moment: datetime) -> str:
    """`2022-06-01 17:30:57`: the classic provider's local (Moscow) time, no zone."""
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%d %H:%M:%S")


def classic_rent_time(moment: datetime) -> str:
    """`2020-01-31T12:01:52`: rent end dates, Moscow time with a `T` and no zone."""
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%dT%H:%M:%S")


def iso_time(moment: datetime) -> str:
    """`2026-02-18T16:11:33+00:00`: HeroSMS times, UTC with an explicit offset."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def ban_time(moment: datetime) -> str:
    """The `BANNED:` suffix, PHP format `Y-m-d H-i-s` in Moscow time."""
    return moment.astimezone(MOSCOW).strftime("%Y-%m-%d %H-%M-%S")


def time_for(hero: bool, moment: datetime) -> str:
    return iso_time(moment) if hero else classic_time(moment)


def money(amount: Decimal, currency: int) -> str:
    """Balance-style amounts: 2 decimals in RUB, 4 in USD."""
    return f"{amount:.2f}" if currency == RUB else f"{amount:.4f}"


def num(amount: Decimal) -> int | float:
    """A Decimal as a JSON number: integral values as ints (`"cost":9`), others as floats (`12.5`)."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


# --- renderers --------------------------------------------------------------------------------


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def token(hero: bool, text: str) -> Answer:
    return Answer(text, 200, HTML if hero else TEXT)


def as_json(hero: bool, data: Any, status: int = 200) -> Answer:
    return Answer(dumps(data), status, HTML if hero else JSON, is_json=True)


def no_content() -> Answer:
    return Answer("", 204, TEXT)


# HeroSMS: title -> (HTTP status, details). Codes not listed answer 400 with the code as title.
HERO_ERRORS: dict[str, tuple[int, str]] = {
    "BAD_KEY": (401, "Unauthorized"),
    "NO_BALANCE": (402, "Payment Required"),
    "NO_BALANCE_FORWARD": (402, "Payment Required"),
    "NO_NUMBERS": (404, "Numbers Gone. Try Later"),
    "NOT_FOUND": (404, "Activation Not Found"),
    "BAD_ACTION": (404, "Method Not Found"),
    "INVALID_PHONE": (404, "Rent Not Found"),
    "WRONG_MAX_PRICE": (400, "The specified maximum price is less than the current minimum price"),
    "BAD_STATUS": (400, "Wrong status code"),
    "BAD_SERVICE": (400, "Wrong service"),
    "WRONG_SERVICE": (400, "Wrong service"),
    "BANNED": (403, "Account is temporarily banned"),
    "NOT_AVAILABLE": (403, "Multi-service is not available for this country"),
    "WRONG_SECURITY": (403, "The activation has no forwarding or is not active"),
    "EARLY_CANCEL_DENIED": (
        409,
        "Activation cannot be cancelled at this time. Minimum activation period must pass.",
    ),
    "OTP_RECEIVED": (409, "Activation cannot be cancelled: the code has been received"),
    "ACTIVATION_NOT_ACTIVE": (409, "Activation is not active"),
    "REPEAT_ADDITIONAL_SERVICE": (409, "The additional service has already been ordered"),
    "RENEW_ACTIVATION_NOT_AVAILABLE": (409, "The number is not available for another activation"),
    "NEW_ACTIVATION_IMPOSSIBLE": (409, "Another activation is impossible"),
    "CALL_TASK_ALREADY_EXIST": (409, "Call request has already been created"),
    "CANT_CANCEL": (409, "The rent cannot be cancelled after 20 minutes"),
    "ALREADY_FINISH": (409, "The rent has already been finished"),
    "ALREADY_CANCEL": (409, "The rent has already been cancelled"),
    "RENT_DIE": (409, "The number has expired and cannot be extended"),
    "STATUS_FINISH": (409, "The rent is finished"),
    "STATUS_CANCEL": (409, "The rent is cancelled"),
    "RATE_LIMIT": (429, ""),
    # A parameter failed validation; `info` names it: {"field","code":"REQUIRED"|"INVALID","message"}.
    "UNPROCESSABLE_ENTITY": (422, "Validation failed"),
}
# Activation lookups answer one HeroSMS title whatever the classic token.
HERO_ALIASES = {
    "NO_ACTIVATION": "NOT_FOUND",
    "WRONG_ACTIVATION_ID": "NOT_FOUND",
    "INVALID_ACTIVATION_ID": "NOT_FOUND",
}
# HeroSMS still answers these as bare tokens with HTTP 200.
HERO_PLAIN = {"NO_KEY", "OPERATORS_NOT_FOUND", "ERROR_SQL", "SQL_ERROR"}


def classic_error_text(error: ApiError) -> str:
    return error.code if error.suffix is None else f"{error.code}:{error.suffix}"


def error(hero: bool, err: ApiError, *, rent: bool = False) -> Answer:
    """Render an error for an activation action (bare token) or a rent action (JSON object)."""
    if hero:
        title = HERO_ALIASES.get(err.hero_code or err.code, err.hero_code or err.code)
        if title in HERO_PLAIN:
            return token(True, classic_error_text(err))
        status, details = HERO_ERRORS.get(title, (400, title.replace("_", " ").capitalize()))
        envelope: dict[str, Any] = {"title": title, "details": details}
        if err.info:
            envelope["info"] = err.info
        return as_json(True, envelope, status)
    if rent:
        body: dict[str, Any] = {"status": "error", "message": classic_error_text(err)}
        if err.info:
            body["info"] = err.info
        return as_json(False, body)
    return token(False, classic_error_text(err))


# --- activation shapes ------------------------------------------------------------------------

NUMERIC_STATUS = {
    ActivationStatus.WAIT_CODE: "4",
    ActivationStatus.CODE_RECEIVED: "2",
    ActivationStatus.WAIT_RETRY: "3",
    ActivationStatus.FINISHED: "6",
    ActivationStatus.CANCELLED: "8",
}


def numeric_status(activation: Activation) -> str:
    """The numeric `activationStatus` (see protocol.md b.3): 1 after setStatus 1, else 4 while waiting."""
    if activation.status == ActivationStatus.WAIT_CODE and activation.ready:
        return "1"
    return NUMERIC_STATUS[activation.status]


def cost_text(amount: Decimal) -> str:
    return f"{amount:.2f}"


def number_v2(hero: bool, act: Activation) -> dict[str, Any]:
    """getNumberV2 (and reactivation) answer: the seed shape, or the HeroSMS one."""
    if not hero:
        return {
            "activationId": act.id,
            "phoneNumber": act.phone,
            "activationCost": cost_text(act.cost),
            "countryCode": str(act.country_id),
            "canGetAnotherSms": "1" if act.country.retry else "0",
            "activationTime": classic_time(act.created_at),
            "activationOperator": act.operator,
        }
    return {
        "activationId": str(act.id),
        "phoneNumber": act.phone,
        "activationCost": num(act.cost),
        "currency": act.currency,
        "countryCode": act.country_id,
        "countryPhoneCode": int(act.country.phone_code),
        "canGetAnotherSms": act.country.retry,
        "activationTime": iso_time(act.created_at),
        "activationEndTime": iso_time(act.expires_at),
        "activationOperator": act.operator,
        "verificationType": "call" if act.verification else "sms",
        "subtype": 1,
        "serviceCode": act.service_id,
        "status": int(numeric_status(act)),
    }


def hero_rent(rental: Rental, cancel_seconds: int) -> dict[str, Any]:
    """HeroSMS getRentNumber: the rent object of its API reference (`successfulRentNumberExample`).

    `lockCancelTime` is not explained there; here it is the seconds the rent may be cancelled in.
    """
    return {
        "id": str(rental.id),
        "phoneNumber": rental.phone,
        "cost": num(rental.cost),
        "currency": rental.currency,
        "lockCancelTime": cancel_seconds,
        "endDate": iso_time(rental.ends_at),
        "operator": rental.operator,
    }


def active_row(hero: bool, act: Activation) -> dict[str, Any]:
    """One row of getActiveActivations."""
    codes = [sms["code"] for sms in act.sms]
    texts = [sms["text"] for sms in act.sms]
    if not hero:
        return {
            "activationId": str(act.id),
            "serviceCode": act.service_id,
            "phoneNumber": act.phone,
            "activationCost": cost_text(act.cost),
            "activationStatus": numeric_status(act),
            "smsCode": codes or None,
            "smsText": f"[{', '.join(texts)}]" if texts else None,
            "activationTime": classic_time(act.created_at),
            "discount": "0.00",
            "repeated": "1" if act.kind == Activation.Kind.EXTRA else "0",
            "countryCode": str(act.country_id),
            "countryName": act.country.eng,
            "canGetAnotherSms": "1" if act.country.retry else "0",
        }
    return {
        "activationId": str(act.id),
        "serviceCode": act.service_id,
        "phoneNumber": act.phone,
        "activationCost": num(act.cost),
        "currency": act.currency,
        "activationStatus": numeric_status(act),
        "smsCode": codes[-1] if codes else None,
        "smsText": texts[-1] if texts else None,
        "activationTime": iso_time(act.created_at),
        "activationEndTime": iso_time(act.expires_at),
        "discount": 0,
        "repeated": 1 if act.kind == Activation.Kind.EXTRA else 0,
        "countryCode": str(act.country_id),
        "countryName": act.country.eng,
        "canGetAnotherSms": act.country.retry,
        "verificationType": "call" if act.verification else "sms",
        "subtype": 1,
    }


def history_row(hero: bool, act: Activation) -> dict[str, Any]:
    """One row of getHistory; `cost` is 0 until the activation is finished."""
    cost = act.cost if act.status == ActivationStatus.FINISHED else Decimal("0")
    codes = [sms["code"] for sms in act.sms]
    if not hero:
        return {
            "id": act.id,
            "date": classic_time(act.created_at),
            "phone": act.phone,
            "sms": codes or None,
            "cost": num(cost),
            "status": numeric_status(act),
        }
    return {
        "id": str(act.id),
        "date": iso_time(act.created_at),
        "phone": act.phone,
        "sms": codes[-1] if codes else None,
        "cost": num(cost),
        "status": numeric_status(act),
        "currency": act.currency,
    }


def status_v2(hero: bool, act: Activation) -> dict[str, Any]:
    """getStatusV2: the SMS-Activate `{verificationType, sms, call}` shape, or HeroSMS's `data` shape."""
    last = act.sms[-1] if act.sms else None
    if hero:
        data = None
        if last:
            data = {
                "id": str(last.get("id", "")),
                "phoneFrom": act.call_from or act.service.name,
                "code": last["code"],
                "text": last["text"],
                "service": act.service_id,
                "date": iso_time(datetime.fromisoformat(last["at"])),
                "type": "call" if act.verification else "sms",
            }
        return {"verificationType": "call" if act.verification else "sms", "data": data}
    sms = call = None
    if last and not act.verification:
        sms = {
            "dateTime": classic_time(datetime.fromisoformat(last["at"])),
            "code": last["code"],
            "text": last["text"],
        }
    if last and act.verification:
        call = {
            "from": act.call_from,
            "text": last["text"],
            "code": last["code"],
            "dateTime": classic_time(datetime.fromisoformat(last["at"])),
            "url": "",
            "parsingCount": 1,
        }
    return {"verificationType": 1 if act.verification else 0, "sms": sms, "call": call}
