"""Activation actions through the gateway: balance, buying, status and the live list.

Every purchase goes through `activations.services.activation_buy` (the purchase core's limits, intent,
settlement and ledger, as a purchase from the browser), as the gateway key's member, with the gateway
key's own limits checked first (`gateway.limits`) and its daily budget inside the core's locks. Status
changes go through `activations.services.activation_set_status`. getStatus, getStatusV2 and
getActiveActivations are answered from simdesk's own records, which the poll cycle and webhooks keep
fresh: a hundred scripts polling never multiply upstream requests, and a code that has arrived is
answered at once.

A script sees the activations of the gateway key's upstream key that its member sees, by the upstream's
ids (what the provider itself would answer); anything else is `NO_ACTIVATION`.
"""

from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, QuerySet

from accounts.permissions import SpendDenied, visible_keys, visible_to
from activations.models import LIVE_STATUSES, Activation, ActivationStatus, Sms
from activations.services import (
    BuyRequest,
    StatusRefused,
    activation_buy,
    activation_buy_routed,
    activation_set_status,
    estimate_price,
)
from gateway import answers
from gateway.answers import Answer
from gateway.limits import check_price, check_service_country, spend_refusal, via_of
from gateway.registry import Call, action
from providers import errors
from providers.keys import client_for_key, profile_for_key, provider_of
from providers.models import CatalogCountry
from providers.selectors import service_label
from purchases.services import PurchaseRefused, has_limits

# The provider's refusals of a purchase that a script is told as they are; anything else (the upstream key
# refused, an unknown answer) is the dialect's server error, so the upstream's key and words stay ours.
PASSED_ON = frozenset(
    {
        "NO_NUMBERS",
        "NO_BALANCE",
        "NO_BALANCE_FORWARD",
        "BAD_SERVICE",
        "WRONG_SERVICE",
        "BAD_COUNTRY",
        "BAD_FORWARD",
        "WRONG_EXCEPTION_PHONE",
        "WRONG_OPERATOR",
        "CHANNELS_LIMIT",
        "ACCOUNT_INACTIVE",
        "NOT_AVAILABLE",
    }
)
# setStatus values and the activation service's action names (`-1`: the legacy cancel, protocol.md c.22).
STATUS_ACTIONS = {"1": "ready", "3": "another", "6": "finish", "8": "cancel", "-1": "cancel"}
STATUS_REPLIES = {
    "ready": "ACCESS_READY",
    "another": "ACCESS_RETRY_GET",
    "finish": "ACCESS_ACTIVATION",
    "cancel": "ACCESS_CANCEL",
}


# --- lookups ---------------------------------------------------------------------------------------


def _visible(call: Call) -> QuerySet[Activation]:
    """The activations of the gateway key's upstream key (every key of its route) that its member sees."""
    return visible_to(call.membership, Activation.objects.filter(api_key__in=call.upstream_keys()))


def _find(call: Call, raw_id: str | None) -> Activation | None:
    upstream_id = (raw_id or "").strip()
    if not upstream_id or len(upstream_id) > 32:
        return None
    return _visible(call).filter(upstream_id=upstream_id).first()


def _no_activation(hero: bool) -> Answer:
    # HeroSMS answers every unknown activation with one 404 title (protocol.md a.2).
    return answers.error(True, "NOT_FOUND") if hero else answers.token(False, "NO_ACTIVATION")


# --- balance ---------------------------------------------------------------------------------------


@action("getBalance")
def get_balance(call: Call) -> Answer:
    """`ACCESS_BALANCE:<amount>`: the upstream account's balance, as the upstream wrote it; through a route,
    what its keys that the member sees hold together (one currency), leaving out a provider that does not
    answer now."""
    keys = call.upstream_keys()
    if call.route is not None:
        # A key the member is not granted is not theirs to count, as its numbers are not theirs to see.
        seen = set(visible_keys(call.membership).values_list("pk", flat=True))
        keys = [api_key for api_key in keys if api_key.pk in seen]
    amounts = []
    for api_key in keys:
        try:
            amounts.append(client_for_key(api_key).get_balance().amount)
        except errors.ProviderError:
            continue
    if not amounts:
        return answers.upstream_failed(call.hero)
    return answers.token(call.hero, f"ACCESS_BALANCE:{sum(amounts, Decimal(0)):f}")


@action("getBalanceAndCashBack")
def get_balance_and_cashback(call: Call) -> Answer:
    """`ACCESS_BALANCE:<amount>`: the balance with the cashback the account may spend (the seed: counted only
    where the account spends cashback on activations), as the upstream wrote it; asked each time, never
    derived from getBalance. An upstream without the action answers `BAD_ACTION`, and so does the gateway."""
    try:
        balance = client_for_key(call.api_key).get_balance_and_cashback()
    except errors.BadAction:
        return answers.error(call.hero, "BAD_ACTION")
    except errors.ProviderError:
        return answers.upstream_failed(call.hero)
    return answers.token(call.hero, f"ACCESS_BALANCE:{balance.amount:f}")


# --- buying ----------------------------------------------------------------------------------------


def _decimal(raw: str | None) -> Decimal | None:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def _provider_refusal(call: Call, error: errors.ProviderError | None, *, asked_max_price: bool) -> Answer:
    """The provider's definite refusal of a purchase, in the script's dialect."""
    if isinstance(error, errors.WrongMaxPrice):
        if not asked_max_price:
            # The gateway key's cap refused it, not a price the script asked for.
            return answers.error(call.hero, "NO_BALANCE")
        if error.minimum is None:
            return answers.error(call.hero, "WRONG_MAX_PRICE")
        minimum = answers.num(error.minimum)
        return answers.error(call.hero, "WRONG_MAX_PRICE", str(minimum), {"min": minimum})
    if isinstance(error, errors.Banned) and error.until is not None:
        zone = ZoneInfo(profile_for_key(call.api_key).timezone)
        until = error.until.astimezone(zone).strftime("%Y-%m-%d %H-%M-%S")
        return answers.error(call.hero, "BANNED", until)
    if error is not None and error.code in PASSED_ON:
        return answers.error(call.hero, error.code)
    return answers.upstream_failed(call.hero)


def sold(activation: Activation) -> bool:
    """Sold for sure; otherwise the upstream's answer was lost and the poll cycle finds out whether it sold
    (never bought twice): the script is told the dialect's passing server error."""
    return activation.status == ActivationStatus.WAITING and bool(activation.upstream_id)


def _buy(call: Call) -> Activation | Answer:
    """Buy as the browser does, within the gateway key's limits; an Answer is a refusal to send back."""
    params, gateway_key = call.params, call.gateway_key
    service = (params.get("service") or "").strip().lower()
    if not service:
        return answers.error(call.hero, "BAD_SERVICE")
    country = call.country()
    refusal = check_service_country(gateway_key, service=service, country=country)
    if refusal is not None:
        return refusal.answer(call.hero)
    if country is None:
        return answers.error(call.hero, "NO_NUMBERS")
    asked = _decimal(params.get("maxPrice"))
    forward = (params.get("forward") or "").strip() == "1"
    estimate = None
    if call.route is None and (
        gateway_key.max_price is not None
        or gateway_key.daily_budget is not None
        or has_limits(call.membership, call.api_key)
    ):
        estimate = estimate_price(call.api_key, service=service, country=country, forward=forward)
    refusal = check_price(gateway_key, price=estimate, asked_max_price=asked is not None)
    if refusal is not None:
        return refusal.answer(call.hero)
    request = BuyRequest(
        service=service,
        country=country,
        operator=(params.get("operator") or "").strip(),
        max_price=asked,
        forward=forward,
        verification=(params.get("verification") or "").strip().lower() in ("1", "true"),
        phone_exception=(params.get("phoneException") or "").strip(),
        price_cap=gateway_key.max_price,
    )
    try:
        if call.route is not None:
            # Each key of the route is priced on its own; the cap goes upstream with the request, so a
            # dearer provider refuses (WRONG_MAX_PRICE) and the route goes on to the next.
            activation = activation_buy_routed(
                membership=call.membership,
                route=call.route,
                reference=call.api_key,
                request=request,
                via=via_of(gateway_key),
            )
        else:
            activation = activation_buy(
                membership=call.membership,
                api_key=call.api_key,
                request=request,
                via=via_of(gateway_key),
                # Unknown price under a capped key: the cap is the money at stake.
                estimate=estimate if estimate is not None else gateway_key.max_price,
            )
    except PermissionDenied:
        return answers.error(call.hero, "BAD_KEY")
    except SpendDenied as exc:
        at_stake = asked if asked is not None else estimate
        refusal = spend_refusal(
            exc, gateway_key=gateway_key, asked_max_price=asked is not None, price=at_stake
        )
        return refusal.answer(call.hero)
    except PurchaseRefused as exc:
        return _provider_refusal(call, exc.error, asked_max_price=asked is not None)
    if not sold(activation):
        return answers.upstream_failed(call.hero)
    return activation


@action("getNumber", spends=True)
def get_number(call: Call) -> Answer:
    """`ACCESS_NUMBER:<id>:<phone>`."""
    bought = _buy(call)
    if isinstance(bought, Answer):
        return bought
    return answers.token(call.hero, f"ACCESS_NUMBER:{bought.upstream_id}:{bought.phone}")


def number_v2(call: Call, act: Activation) -> dict:
    """getNumberV2's answer from the recorded purchase: the seed's shape, or HeroSMS's."""
    cost = act.cost or Decimal("0")
    if not call.hero:
        return {
            "activationId": answers.id_value(act.upstream_id or ""),
            "phoneNumber": act.phone,
            "activationCost": f"{cost:.2f}",
            "countryCode": str(act.country),
            "canGetAnotherSms": "1" if act.can_get_another_sms else "0",
            "activationTime": answers.classic_time(act.bought_at, profile_for_key(act.api_key).timezone),
            "activationOperator": act.operator,
        }
    return {
        "activationId": act.upstream_id,
        "phoneNumber": act.phone,
        "activationCost": answers.num(cost),
        "currency": answers.CURRENCY_NUMBERS.get(act.currency, 0),
        "countryCode": act.country,
        "canGetAnotherSms": act.can_get_another_sms,
        "activationTime": answers.iso_time(act.bought_at),
        "activationEndTime": answers.iso_time(act.expires_at),
        "activationOperator": act.operator,
        "verificationType": "call" if act.verification else "sms",
        "subtype": 1,
        "serviceCode": act.service,
        "status": int(numeric_status(act)),
    }


@action("getNumberV2", spends=True)
def get_number_v2(call: Call) -> Answer:
    bought = _buy(call)
    if isinstance(bought, Answer):
        return bought
    return answers.as_json(call.hero, number_v2(call, bought))


# --- status ----------------------------------------------------------------------------------------


def status_token(act: Activation) -> str:
    """getStatus from simdesk's record: STATUS_WAIT_CODE / STATUS_OK:<code> / STATUS_WAIT_RETRY:<last code>
    / STATUS_CANCEL (a finished number keeps answering its last code, as the provider does)."""
    if act.status == ActivationStatus.WAITING:
        return "STATUS_WAIT_CODE"
    if act.status == ActivationStatus.WAIT_RETRY:
        return f"STATUS_WAIT_RETRY:{act.last_code}" if act.last_code else "STATUS_WAIT_CODE"
    if act.status in (ActivationStatus.CODE_RECEIVED, ActivationStatus.FINISHED) and act.last_code:
        return f"STATUS_OK:{act.last_code}"
    return "STATUS_CANCEL"


@action("getStatus")
def get_status(call: Call) -> Answer:
    act = _find(call, call.params.get("id"))
    if act is None:
        return _no_activation(call.hero)
    return answers.token(call.hero, status_token(act))


@action("getStatusV2")
def get_status_v2(call: Call) -> Answer:
    """The last code with its text and time: SMS-Activate's `{verificationType, sms, call}`, or HeroSMS's
    `{verificationType, data}`; a cancelled number answers `STATUS_CANCEL`."""
    act = _find(call, call.params.get("id"))
    if act is None:
        return _no_activation(call.hero)
    if status_token(act) == "STATUS_CANCEL":
        return answers.token(call.hero, "STATUS_CANCEL")
    last = act.messages.order_by("-received_at", "-id").first()
    if call.hero:
        data = None
        if last is not None:
            data = {
                "id": str(last.pk),
                # Who sent it, as HeroSMS names it: the service's name where the catalogue is at hand.
                "phoneFrom": service_label(act.api_key, act.service),
                "code": last.code,
                "text": last.text,
                "service": act.service,
                "date": answers.iso_time(last.received_at),
                "type": "call" if act.verification else "sms",
            }
        return answers.as_json(
            True, {"verificationType": "call" if act.verification else "sms", "data": data}
        )
    zone = profile_for_key(act.api_key).timezone
    sms = call_data = None
    if last is not None and not act.verification:
        sms = {"dateTime": answers.classic_time(last.received_at, zone), "code": last.code, "text": last.text}
    if last is not None and act.verification:
        call_data = {
            "from": "",
            "text": last.text,
            "code": last.code,
            "dateTime": answers.classic_time(last.received_at, zone),
            "url": "",
            "parsingCount": 1,
        }
    return answers.as_json(
        False, {"verificationType": 1 if act.verification else 0, "sms": sms, "call": call_data}
    )


def _status_refused(call: Call, act: Activation, action_name: str, exc: StatusRefused) -> Answer:
    if exc.code == "EARLY_CANCEL_DENIED":
        info = {"minActivationTime": exc.min_seconds} if exc.min_seconds else None
        return answers.error(call.hero, "EARLY_CANCEL_DENIED", None, info)
    if exc.code in ("NO_ACTIVATION", "NOT_FOUND"):
        return _no_activation(call.hero)
    if exc.code == "BAD_KEY":
        return answers.error(call.hero, "BAD_KEY")
    if exc.code in ("BAD_STATUS", "ACTIVATION_NOT_ACTIVE", "OTP_RECEIVED"):
        if not call.hero:
            return answers.token(False, "BAD_STATUS")
        act.refresh_from_db()
        # HeroSMS names why (protocol.md b.1): a closed number, or a code already received.
        if not act.is_live:
            return answers.error(True, "ACTIVATION_NOT_ACTIVE")
        if action_name == "cancel":
            return answers.error(True, "OTP_RECEIVED")
        return answers.error(True, "BAD_STATUS")
    return answers.upstream_failed(call.hero)


@action("setStatus", spends=True)
def set_status(call: Call) -> Answer:
    """1 ready, 3 another code, 6 finish, 8 cancel (refunded), through the activation service."""
    act = _find(call, call.params.get("id"))
    if act is None:
        return _no_activation(call.hero)
    action_name = STATUS_ACTIONS.get((call.params.get("status") or "").strip())
    if action_name is None:
        return answers.error(call.hero, "BAD_STATUS")
    if action_name == "ready" and act.status == ActivationStatus.WAITING and act.ready_reported:
        # Reported already: the provider answers it again; nothing to ask upstream.
        return answers.token(call.hero, STATUS_REPLIES["ready"])
    try:
        activation_set_status(
            membership=call.membership, activation=act, action=action_name, via=via_of(call.gateway_key)
        )
    except StatusRefused as exc:
        return _status_refused(call, act, action_name, exc)
    return answers.token(call.hero, STATUS_REPLIES[action_name])


# --- the live list ---------------------------------------------------------------------------------


def numeric_status(act: Activation) -> str:
    """The numeric `activationStatus` (protocol.md b.3): 1 after setStatus 1, 4 while waiting, 2 code,
    3 waiting for another, 6 finished, 8 cancelled."""
    if act.status == ActivationStatus.WAITING:
        return "1" if act.ready_reported else "4"
    return {
        ActivationStatus.CODE_RECEIVED: "2",
        ActivationStatus.WAIT_RETRY: "3",
        ActivationStatus.FINISHED: "6",
    }.get(act.status, "8")


def _country_names(call: Call, codes: set[int]) -> dict[int, str]:
    provider = provider_of(call.api_key)
    if provider is None or not codes:
        return {}
    rows = CatalogCountry.objects.filter(provider=provider, code__in=codes).values_list("code", "name_eng")
    return dict(rows)


def active_row(call: Call, act: Activation, country_name: str, zone: str) -> dict:
    """One row of getActiveActivations, from the record and its messages."""
    codes = [sms.code for sms in act.messages.all()]
    texts = [sms.text for sms in act.messages.all() if sms.text]
    cost = act.cost or Decimal("0")
    repeated = act.parent_id is not None and act.parent is not None and act.parent.service == act.service
    if not call.hero:
        return {
            "activationId": act.upstream_id,
            "serviceCode": act.service,
            "phoneNumber": act.phone,
            "activationCost": f"{cost:.2f}",
            "activationStatus": numeric_status(act),
            "smsCode": codes or None,
            "smsText": f"[{', '.join(texts)}]" if texts else None,
            "activationTime": answers.classic_time(act.bought_at, zone),
            "discount": "0.00",
            "repeated": "1" if repeated else "0",
            "countryCode": str(act.country),
            "countryName": country_name,
            "canGetAnotherSms": "1" if act.can_get_another_sms else "0",
        }
    return {
        "activationId": act.upstream_id,
        "serviceCode": act.service,
        "phoneNumber": act.phone,
        "activationCost": answers.num(cost),
        "currency": answers.CURRENCY_NUMBERS.get(act.currency, 0),
        "activationStatus": numeric_status(act),
        "smsCode": codes[-1] if codes else None,
        "smsText": texts[-1] if texts else None,
        "activationTime": answers.iso_time(act.bought_at),
        "activationEndTime": answers.iso_time(act.expires_at),
        "discount": 0,
        "repeated": 1 if repeated else 0,
        "countryCode": str(act.country),
        "countryName": country_name,
        "canGetAnotherSms": act.can_get_another_sms,
        "verificationType": "call" if act.verification else "sms",
        "subtype": 1,
    }


def _bounded(raw: str | None, default: int, *, high: int | None = None) -> int:
    raw = (raw or "").strip()
    value = int(raw) if raw.isdigit() and len(raw) < 9 else default
    return min(value, high) if high is not None else value


@action("getActiveActivations")
def get_active_activations(call: Call) -> Answer:
    """The live numbers from simdesk's records (the poll cycle keeps them fresh), oldest first, in the
    dialect's shape: SMS-Activate's `activeActivations` (`NO_ACTIVATIONS` when none), HeroSMS's `data` page."""
    rows = (
        _visible(call)
        .filter(status__in=LIVE_STATUSES, upstream_id__isnull=False)
        .select_related("parent", "api_key")
        .prefetch_related(Prefetch("messages", queryset=Sms.objects.order_by("received_at", "id")))
        .order_by("bought_at", "id")
    )
    if call.hero:
        start = _bounded(call.params.get("start"), 0)
        limit = max(1, _bounded(call.params.get("limit"), 100, high=100))
        page = list(rows[start : start + limit])
    else:
        page = list(rows)
        if not page:
            return answers.token(False, "NO_ACTIVATIONS")
    names = _country_names(call, {act.country for act in page if act.country is not None})
    zone = profile_for_key(call.api_key).timezone
    listing = [active_row(call, act, names.get(act.country, ""), zone) for act in page]
    if call.hero:
        return answers.as_json(True, {"status": "success", "data": listing})
    return answers.as_json(False, {"status": "success", "activeActivations": listing})
