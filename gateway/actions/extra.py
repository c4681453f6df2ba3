"""Purchases beyond one number and call verification through the gateway: several services on one number,
an additional service on a forwarded number, re-activation, and the calls of a call-verification number.

Purchases go through `activations.extra` (the purchase core's limits, intent, settlement and ledger, as from
the browser), as the gateway key's member with its `via` (its daily budget inside the core's locks, its
label in the audit log), with the gateway key's own limits checked first, as getNumber does. The calls go
through `activations.calls`. A script sees the activations its member sees (`activations._find`).

An activation the key does not see is answered as the provider answers an unknown id: HeroSMS's one 404,
the classic dialect's token of the action (`WRONG_ACTIVATION_ID`, getIncomingCallStatus's
`INVALID_ACTIVATION_ID`). An action the upstream's profile does not offer is `BAD_ACTION`.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied

from accounts.permissions import SpendDenied
from accounts.services import ActionRefused
from activations import calls
from activations.extra import additional_buy, extra_buy, extra_price, multi_buy
from activations.models import Activation
from activations.services import estimate_price
from gateway import answers
from gateway.actions.activations import _find, _no_activation, _provider_refusal, sold
from gateway.answers import Answer
from gateway.limits import check_price, check_service_country, spend_refusal, via_of
from gateway.registry import Call, Handler, action
from providers import errors
from providers.keys import profile_for_key
from purchases.services import PurchaseRefused, Via

# The provider's refusals of these actions a script is told as they are (getNumber's PASSED_ON too).
EXTRA_PASSED_ON = frozenset(
    {
        "BAD_ACTION",
        "WRONG_ADDITIONAL_SERVICE",
        "WRONG_SECURITY",
        "REPEAT_ADDITIONAL_SERVICE",
        "RENEW_ACTIVATION_NOT_AVAILABLE",
        "NEW_ACTIVATION_IMPOSSIBLE",
        "CALL_TASK_ALREADY_EXIST",
        "NUMBER_NOT_EXIST",
        "NOT_INCOMING",
        "WRONG_DATE",
    }
)


def _offered(name: str, *, spends: bool = False) -> Callable[[Handler], Handler]:
    """Register `name`, answered `BAD_ACTION` where the upstream's profile lacks it (as the upstream would)."""

    def register(handler: Handler) -> Handler:
        @wraps(handler)
        def run(call: Call) -> Answer:
            if not profile_for_key(call.api_key).supports_action(name):
                return answers.error(call.hero, "BAD_ACTION")
            return handler(call)

        return action(name, spends=spends)(run)

    return register


# --- lookups and refusals --------------------------------------------------------------------------


def _activation(call: Call, *names: str) -> Activation | None:
    """The activation named by the first of `names` the script sent (clients disagree: `activationId`/`id`)."""
    for name in names:
        if name in call.params:
            return _find(call, call.params.get(name))
    return None


def _missing(call: Call, classic: str) -> Answer:
    return _no_activation(True) if call.hero else answers.token(False, classic)


def _refused(call: Call, error: errors.ProviderError | None, *, missing: str) -> Answer:
    """The provider's refusal in the script's dialect; anything else is the dialect's server error."""
    if isinstance(error, errors.NoActivation):
        return _missing(call, missing)
    if error is not None and error.code in EXTRA_PASSED_ON:
        return answers.error(call.hero, error.code)
    return _provider_refusal(call, error, asked_max_price=False)


def _cause(exc: ActionRefused) -> errors.ProviderError | None:
    # `activations.calls` and `extra_price` keep the provider's refusal as the cause of their plain words.
    cause = exc.__cause__
    return cause if isinstance(cause, errors.ProviderError) else None


def _purchase(call: Call, buy: Callable[[Via], Any], *, missing: str = "WRONG_ACTIVATION_ID") -> Any:
    """Run one purchase of `activations.extra` as the gateway key's member; a refusal as an Answer."""
    gateway_key = call.gateway_key
    try:
        return buy(via_of(gateway_key))
    except PermissionDenied:
        return answers.error(call.hero, "BAD_KEY")
    except SpendDenied as exc:
        refusal = spend_refusal(exc, gateway_key=gateway_key, asked_max_price=False, price=None)
        return refusal.answer(call.hero)
    except PurchaseRefused as exc:
        return _refused(call, exc.error, missing=missing)


# --- several services on one number ------------------------------------------------------------------


def _flags(raw: str | None, count: int) -> list[bool] | None:
    """`multiForward`: one 0/1 per service, at most one 1 (the seed); None when malformed."""
    if not raw:
        return [False] * count
    flags = [flag.strip() for flag in raw.split(",")]
    if len(flags) != count or any(flag not in ("0", "1") for flag in flags) or flags.count("1") > 1:
        return None
    return [flag == "1" for flag in flags]


@_offered("getMultiServiceNumber", spends=True)
def get_multi_service_number(call: Call) -> Answer:
    """`[{"phone","activation","service"}]`: one number for several services, one activation each."""
    params, gateway_key = call.params, call.gateway_key
    services = [
        code.strip().lower() for code in (params.get("multiService") or "").split(",") if code.strip()
    ]
    if not services or len(set(services)) != len(services):
        return answers.error(call.hero, "BAD_SERVICE")
    # smsactivate 1.5 sends the list as `forward`, the seed documents `multiForward`.
    forwards = _flags(params.get("multiForward", params.get("forward")), len(services))
    if forwards is None:
        return answers.error(call.hero, "BAD_FORWARD")
    country = call.country()
    for service in services:
        refusal = check_service_country(gateway_key, service=service, country=country)
        if refusal is not None:
            return refusal.answer(call.hero)
    if country is None:
        return answers.error(call.hero, "NO_NUMBERS")
    if gateway_key.max_price is not None:
        for service, forward in zip(services, forwards, strict=True):
            price = estimate_price(call.api_key, service=service, country=country, forward=forward)
            if price is None:
                # No price to hold against the key's cap, and no cap to send upstream: a passing error.
                return answers.upstream_failed(call.hero)
            refusal = check_price(gateway_key, price=price, asked_max_price=False)
            if refusal is not None:
                return refusal.answer(call.hero)
    forward_service = next((s for s, forward in zip(services, forwards, strict=True) if forward), "")
    bought = _purchase(
        call,
        lambda via: multi_buy(
            membership=call.membership,
            api_key=call.api_key,
            services=services,
            country=country,
            operator=(params.get("operator") or "").strip(),
            forward_service=forward_service,
            via=via,
        ),
    )
    if isinstance(bought, Answer):
        return bought
    if not all(sold(row) for row in bought):
        return answers.upstream_failed(call.hero)
    # The provider writes the activation id as a number in both dialects.
    listing = [
        {"phone": row.phone, "activation": answers.id_value(row.upstream_id or ""), "service": row.service}
        for row in bought
    ]
    return answers.as_json(call.hero, listing)


# --- an additional service on a forwarded number -----------------------------------------------------


@_offered("getAdditionalService", spends=True)
def get_additional_service(call: Call) -> Answer:
    """`ADDITIONAL:<id>:<phone>`: another service on a forwarded number that has received its code."""
    parent = _activation(call, "id", "activationId")
    if parent is None:
        return _missing(call, "WRONG_ACTIVATION_ID")
    service = (call.params.get("service") or "").strip().lower()
    refusal = check_service_country(call.gateway_key, service=service, country=parent.country)
    if refusal is not None:
        return refusal.answer(call.hero)
    # The provider's words for what `additional_buy` refuses before asking it.
    if not (parent.forward and parent.is_live and parent.sms_count):
        return answers.error(call.hero, "WRONG_SECURITY")
    if service == parent.service:
        return answers.error(call.hero, "REPEAT_ADDITIONAL_SERVICE")
    if call.gateway_key.max_price is not None:
        # The price list does not price an additional service: nothing to hold against the key's cap.
        return answers.upstream_failed(call.hero)
    bought = _purchase(
        call,
        lambda via: additional_buy(membership=call.membership, parent=parent, service=service, via=via),
    )
    if isinstance(bought, Answer):
        return bought
    if not sold(bought):
        return answers.upstream_failed(call.hero)
    return answers.token(call.hero, f"ADDITIONAL:{bought.upstream_id}:{bought.phone}")


# --- re-activation of a used number ------------------------------------------------------------------


@_offered("checkExtraActivation")
def check_extra_activation(call: Call) -> Answer:
    """`{"status","cost","service","phone","country"}`: what activating this used number again costs."""
    parent = _activation(call, "activationId", "id")
    if parent is None:
        return _missing(call, "WRONG_ACTIVATION_ID")
    try:
        price = extra_price(activation=parent)
    except ActionRefused as exc:
        return _refused(call, _cause(exc), missing="WRONG_ACTIVATION_ID")
    phone = price.phone or parent.phone or ""
    return answers.as_json(
        call.hero,
        {
            "status": "success",
            "cost": answers.num(price.cost),
            "service": price.service or parent.service,
            "phone": int(phone) if phone.isdigit() else phone,
            "country": price.country if price.country is not None else parent.country,
        },
    )


@_offered("getExtraActivation", spends=True)
def get_extra_activation(call: Call) -> Answer:
    """`ACCESS_NUMBER:<new id>:<phone>`: the same number again for the same service, at the checked price."""
    parent = _activation(call, "activationId", "id")
    if parent is None:
        return _missing(call, "WRONG_ACTIVATION_ID")
    gateway_key = call.gateway_key
    refusal = check_service_country(gateway_key, service=parent.service, country=parent.country)
    if refusal is not None:
        return refusal.answer(call.hero)
    if gateway_key.max_price is not None:
        try:
            price = extra_price(activation=parent)
        except ActionRefused as exc:
            return _refused(call, _cause(exc), missing="WRONG_ACTIVATION_ID")
        refusal = check_price(gateway_key, price=price.cost, asked_max_price=False)
        if refusal is not None:
            return refusal.answer(call.hero)
    bought = _purchase(
        call,
        lambda via: extra_buy(membership=call.membership, parent=parent, via=via),
    )
    if isinstance(bought, Answer):
        return bought
    if not sold(bought):
        return answers.upstream_failed(call.hero)
    return answers.token(call.hero, f"ACCESS_NUMBER:{bought.upstream_id}:{bought.phone}")


# --- calls -------------------------------------------------------------------------------------------


@_offered("getIncomingCallStatus")
def get_incoming_call_status(call: Call) -> Answer:
    """`{"status":"2","phone":false}`: 2 waiting, 3 closed, 4 cancelled, 5 returned; the caller once known."""
    activation = _activation(call, "activationId", "id")
    if activation is None:
        return _missing(call, "INVALID_ACTIVATION_ID")
    if not activation.verification:
        # As the provider answers a number bought without call verification; nothing to ask it.
        return answers.error(call.hero, "NOT_INCOMING")
    try:
        status = calls.incoming_call_status(activation=activation)
    except ActionRefused as exc:
        return _refused(call, _cause(exc), missing="INVALID_ACTIVATION_ID")
    return answers.as_json(call.hero, {"status": status.status, "phone": status.phone or False})


@_offered("createTaskForCall", spends=True)
def create_task_for_call(call: Call) -> Answer:
    """`{"status":"success","msg":…}`: the provider calls `phone` from the activation's number (once)."""
    activation = _activation(call, "activationId", "id")
    if activation is None or not activation.is_live:
        # The provider answers a closed activation as an unknown one.
        return _missing(call, "WRONG_ACTIVATION_ID")
    if not call.membership.can_buy:
        return answers.error(call.hero, "BAD_KEY")
    try:
        message = calls.outgoing_call_create(
            membership=call.membership,
            activation=activation,
            phone=(call.params.get("phone") or "").strip(),
            via=via_of(call.gateway_key),
        )
    except ActionRefused as exc:
        return _refused(call, _cause(exc), missing="WRONG_ACTIVATION_ID")
    return answers.as_json(call.hero, {"status": "success", "msg": message})


@_offered("getOutgoingCalls")
def get_outgoing_calls(call: Call) -> Answer:
    """Today's calls of one activation the key sees, as the provider lists them (`{"<key>":{"date",
    "phoneFrom","status"}}`); one it does not see has none (`{}`, the provider's answer for an id without
    calls). Without `activationId` the whole account's list would show numbers the member may not see:
    the gateway answers it as an unknown activation."""
    if not (call.params.get("activationId") or "").strip():
        return _missing(call, "WRONG_ACTIVATION_ID")
    activation = _activation(call, "activationId")
    if activation is None:
        return answers.as_json(call.hero, {})
    try:
        rows = calls.outgoing_calls(activation=activation)
    except ActionRefused as exc:
        return _refused(call, _cause(exc), missing="WRONG_ACTIVATION_ID")
    zone = profile_for_key(activation.api_key).timezone
    # `activation_id` holds the key the upstream listed the call under, written back as it came.
    listing = {
        row.activation_id: {
            "date": answers.iso_time(row.date) if call.hero else answers.classic_time(row.date, zone),
            "phoneFrom": row.phone_from,
            "status": row.status,
        }
        for row in rows
    }
    return answers.as_json(call.hero, listing)
