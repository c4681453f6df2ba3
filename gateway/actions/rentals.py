"""Rent actions through the gateway: renting, the rent's SMS, finishing, cancelling, the list, extending.

Every rent goes through `rentals.services.rental_rent` (the purchase core's limits, intent, settlement and
ledger, as a rent from the browser), as the gateway key's member, with the gateway key's own limits
checked first (`gateway.limits`) and its daily budget inside the core's locks (`via`). Finishing and
cancelling go through `rental_set_status`, extending through `rental_extend`, and an extension's price
(getContinueRentPriceNumber) is the upstream's quote read by `continue_price`, as in the browser.
getRentStatus and getRentList are answered from simdesk's own records, which the poll cycle and webhooks
keep fresh.

Rent actions answer refusals as JSON in the classic dialect (`{"status":"error","message":<code>}`,
protocol.md c), HeroSMS's envelopes otherwise. A script sees the rentals of the gateway key's upstream
key that its member sees, by the upstream's ids; anything else is `INVALID_PHONE`, as the provider says.
"""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from accounts.permissions import SpendDenied, visible_to
from accounts.services import ActionRefused
from gateway import answers
from gateway.actions.activations import PASSED_ON
from gateway.answers import Answer
from gateway.limits import (
    SERVER_ERROR_CODE,
    Refusal,
    check_price,
    check_service_country,
    spend_refusal,
    via_of,
)
from gateway.registry import Call, action
from providers import errors
from providers.keys import profile_for_key
from purchases.services import PurchaseRefused, has_limits
from rentals.models import MAX_HOURS, MIN_HOURS, RenewalStatus, Rental, RentalStatus
from rentals.services import (
    RentRequest,
    continue_price,
    offer_price,
    rental_extend,
    rental_rent,
    rental_rent_routed,
    rental_set_status,
)

HOURS_PARAMS = ("rent_time", "time", "duration")
# setRentStatus values and the rental service's action names.
STATUS_ACTIONS = {"1": "finish", "2": "cancel"}
# The provider's refusals of a rent or an extension a script is told as they are.
RENT_PASSED_ON = PASSED_ON | {"INVALID_TIME", "MAX_HOURS_EXCEED", "RENT_DIE", "INVALID_PHONE", "NO_ID_RENT"}


def _refuse(call: Call, refusal: Refusal) -> Answer:
    if refusal.code == SERVER_ERROR_CODE:
        return answers.upstream_failed(call.hero)
    if call.hero:
        return answers.error(True, refusal.code, refusal.suffix, refusal.info)
    message = refusal.code if refusal.suffix is None else f"{refusal.code}:{refusal.suffix}"
    return answers.rent_error(False, message, refusal.info)


def _provider_refusal(call: Call, error: errors.ProviderError | None) -> Answer:
    if error is not None and error.code in RENT_PASSED_ON:
        return answers.rent_error(call.hero, error.code)
    return answers.upstream_failed(call.hero)


# --- lookups ---------------------------------------------------------------------------------------


def _visible(call: Call) -> QuerySet[Rental]:
    """The rentals of the gateway key's upstream key that its member sees."""
    return visible_to(call.membership, Rental.objects.filter(api_key__in=call.upstream_keys()))


def _find(call: Call) -> Rental | Answer:
    raw = (call.params.get("id") or "").strip()
    if not raw:
        return answers.rent_error(call.hero, "NO_ID_RENT")
    rental = _visible(call).filter(upstream_id=raw).first() if len(raw) <= 32 else None
    if rental is None:
        return answers.rent_error(call.hero, "INVALID_PHONE")
    return rental


def _hours(call: Call) -> int | None:
    raw = ""
    for name in HOURS_PARAMS:
        raw = (call.params.get(name) or "").strip()
        if raw:
            break
    if not raw:
        return MIN_HOURS
    if not raw.isdigit() or not MIN_HOURS <= int(raw) <= MAX_HOURS:
        return None
    return int(raw)


def _rent_phone(call: Call, rental: Rental) -> dict[str, Any]:
    """`{"status":"success","phone":{"id","endDate","number"}}`: classic end dates are the provider's local
    time with a `T` and no zone, HeroSMS's ISO in UTC."""
    if call.hero:
        end = answers.iso_time(rental.ends_at)
    else:
        end = answers.classic_time(rental.ends_at, profile_for_key(rental.api_key).timezone).replace(" ", "T")
    return {
        "status": "success",
        "phone": {"id": answers.id_value(rental.upstream_id or ""), "endDate": end, "number": rental.phone},
    }


def _hero_rent(rental: Rental) -> dict[str, Any]:
    """HeroSMS's rent object (its API reference's `successfulRentNumberExample`)."""
    start = rental.started_at or rental.created_at
    return {
        "id": rental.upstream_id,
        "phoneNumber": rental.phone,
        "cost": answers.num(rental.cost or 0),
        "currency": answers.CURRENCY_NUMBERS.get(rental.currency, 0),
        "lockCancelTime": int((rental.cancel_deadline - start).total_seconds()),
        "endDate": answers.iso_time(rental.ends_at),
        "operator": rental.operator,
    }


# --- renting ---------------------------------------------------------------------------------------


@action("getRentNumber", spends=True)
def get_rent_number(call: Call) -> Answer:
    """Rent as the browser does, within the gateway key's limits."""
    params, gateway_key = call.params, call.gateway_key
    service = (params.get("service") or "").strip().lower()
    if not service:
        return answers.rent_error(call.hero, "BAD_SERVICE")
    country = call.country()
    refusal = check_service_country(gateway_key, service=service, country=country)
    if refusal is not None:
        return _refuse(call, refusal)
    if country is None:
        return answers.rent_error(call.hero, "NO_NUMBERS")
    hours = _hours(call)
    if hours is None:
        return answers.rent_error(call.hero, "INVALID_TIME")
    operator = (params.get("operator") or "").strip()
    wanted = RentRequest(service=service, country=country, hours=hours, operator=operator)
    if gateway_key.max_price is not None and call.route is None:
        price = offer_price(call.api_key, service=service, country=country, operator=operator, hours=hours)
        refusal = check_price(gateway_key, price=price, asked_max_price=False)
        if refusal is None and price is None:
            # A capped key with no price to hold against its cap: a passing error, the script tries again.
            return answers.upstream_failed(call.hero)
        if refusal is not None:
            return _refuse(call, refusal)
    try:
        if call.route is not None:
            rental = rental_rent_routed(
                membership=call.membership,
                route=call.route,
                reference=call.api_key,
                request=wanted,
                via=via_of(gateway_key),
                price_cap=gateway_key.max_price,
            )
        else:
            rental = rental_rent(
                membership=call.membership, api_key=call.api_key, request=wanted, via=via_of(gateway_key)
            )
    except PermissionDenied:
        return answers.rent_error(call.hero, "BAD_KEY")
    except SpendDenied as exc:
        return _refuse(call, spend_refusal(exc, gateway_key=gateway_key, asked_max_price=False, price=None))
    except ActionRefused:
        return answers.rent_error(call.hero, "INVALID_TIME")
    except PurchaseRefused as exc:
        return _provider_refusal(call, exc.error)
    if rental.status != RentalStatus.ACTIVE or not rental.upstream_id:
        # The upstream's answer was lost: the poll cycle finds out whether it rented; never rented twice.
        return answers.upstream_failed(call.hero)
    if call.hero:
        return answers.as_json(True, _hero_rent(rental))
    return answers.as_json(False, _rent_phone(call, rental))


# --- status ----------------------------------------------------------------------------------------


def _page_number(raw: str | None, default: int, *, low: int = 0) -> int:
    raw = (raw or "").strip()
    value = int(raw) if raw.isdigit() and len(raw) < 9 else default
    return max(value, low)


@action("getRentStatus")
def get_rent_status(call: Call) -> Answer:
    """The rent's SMS from simdesk's records, newest first: `{"status","quantity","values":{"0":{phoneFrom,
    text,service,date}}}`; a closed rent answers `STATUS_FINISH` / `STATUS_CANCEL`."""
    found = _find(call)
    if isinstance(found, Answer):
        return found
    rental = found
    if rental.status == RentalStatus.CANCELLED:
        return answers.rent_error(call.hero, "STATUS_CANCEL")
    if rental.status != RentalStatus.ACTIVE:
        return answers.rent_error(call.hero, "STATUS_FINISH")
    messages = list(rental.messages.order_by("-received_at", "-id"))
    if not messages and not call.hero:
        return answers.rent_error(False, "STATUS_WAIT_CODE")
    size = _page_number(call.params.get("size"), len(messages) or 1, low=1)
    page = _page_number(call.params.get("page"), 0)
    shown = messages[page * size : (page + 1) * size]
    zone = profile_for_key(rental.api_key).timezone
    values = {
        str(i): {
            "phoneFrom": sms.phone_from,
            "text": sms.text,
            "service": sms.service,
            "date": answers.iso_time(sms.received_at)
            if call.hero
            else answers.classic_time(sms.received_at, zone),
        }
        for i, sms in enumerate(shown)
    }
    return answers.as_json(call.hero, {"status": "success", "quantity": str(len(messages)), "values": values})


@action("setRentStatus", spends=True)
def set_rent_status(call: Call) -> Answer:
    """1 finish, 2 cancel (refunded in the first 20 minutes), through the rental service."""
    found = _find(call)
    if isinstance(found, Answer):
        return found
    rental = found
    action_name = STATUS_ACTIONS.get((call.params.get("status") or "").strip())
    if action_name is None:
        return answers.rent_error(call.hero, "INCORECT_STATUS")
    # The provider's own refusals for a state simdesk knows already: nothing to ask upstream.
    if rental.status == RentalStatus.FINISHED:
        return answers.rent_error(call.hero, "ALREADY_FINISH")
    if rental.status == RentalStatus.CANCELLED:
        return answers.rent_error(call.hero, "ALREADY_CANCEL")
    if action_name == "cancel" and rental.is_live and not rental.can_cancel_now:
        return answers.rent_error(call.hero, "CANT_CANCEL")
    if not call.membership.can_buy:
        return answers.rent_error(call.hero, "BAD_KEY")
    try:
        rental_set_status(
            membership=call.membership, rental=rental, action=action_name, via=via_of(call.gateway_key)
        )
    except ActionRefused:
        rental.refresh_from_db()
        if rental.status == RentalStatus.FINISHED:
            return answers.rent_error(call.hero, "ALREADY_FINISH")
        if rental.status == RentalStatus.CANCELLED:
            return answers.rent_error(call.hero, "ALREADY_CANCEL")
        return answers.upstream_failed(call.hero)
    return answers.as_json(call.hero, {"status": "success"})


@action("getRentList")
def get_rent_list(call: Call) -> Answer:
    """The live rents from simdesk's records, oldest first: `{"status","values":{"0":{"id","phone"}}}`;
    none is `NO_NUMBERS` in the classic dialect."""
    rows = (
        _visible(call)
        .filter(status=RentalStatus.ACTIVE, upstream_id__isnull=False)
        .order_by("started_at", "id")
    )
    values = {str(i): {"id": str(r.upstream_id), "phone": r.phone} for i, r in enumerate(rows)}
    if not values and not call.hero:
        return answers.rent_error(False, "NO_NUMBERS")
    return answers.as_json(call.hero, {"status": "success", "values": values})


# --- extending -------------------------------------------------------------------------------------


@action("continueRentNumber", spends=True)
def continue_rent_number(call: Call) -> Answer:
    """Extend a rent by `rent_time` hours through the rental service (a finished one is re-ordered: a new id)."""
    found = _find(call)
    if isinstance(found, Answer):
        return found
    rental = found
    hours = _hours(call)
    if hours is None:
        return answers.rent_error(call.hero, "INVALID_TIME")
    gateway_key = call.gateway_key
    if not call.membership.can_buy:
        return answers.rent_error(call.hero, "BAD_KEY")
    if rental.status not in (RentalStatus.ACTIVE, RentalStatus.FINISHED):
        return answers.rent_error(call.hero, "RENT_DIE")
    if gateway_key.max_price is not None or has_limits(call.membership, call.api_key, via_of(gateway_key)):
        try:
            price = continue_price(rental, hours)
        except errors.ProviderError as exc:
            return _provider_refusal(call, exc)
        if gateway_key.max_price is not None and price is None:
            return answers.upstream_failed(call.hero)
        refusal = check_price(gateway_key, price=price, asked_max_price=False)
        if refusal is not None:
            return _refuse(call, refusal)
    try:
        renewal = rental_extend(
            membership=call.membership, rental=rental, hours=hours, via=via_of(gateway_key)
        )
    except SpendDenied as exc:
        return _refuse(call, spend_refusal(exc, gateway_key=gateway_key, asked_max_price=False, price=None))
    except ActionRefused:
        latest = rental.renewals.order_by("-created_at", "-id").first()
        if (
            latest is not None
            and latest.status == RenewalStatus.FAILED
            and latest.error_code in RENT_PASSED_ON
        ):
            return answers.rent_error(call.hero, latest.error_code)
        return answers.upstream_failed(call.hero)
    renewed = renewal.new_rental or rental
    renewed.refresh_from_db()
    return answers.as_json(call.hero, _rent_phone(call, renewed))


@action("getContinueRentPriceNumber")
def get_continue_rent_price_number(call: Call) -> Answer:
    """The price of extending a rent by `rent_time` hours, `{"status":"success","price":6.33}`: the upstream's
    quote, as the browser's extension reads it (`continue_price`)."""
    found = _find(call)
    if isinstance(found, Answer):
        return found
    hours = _hours(call)
    if hours is None:
        return answers.rent_error(call.hero, "INVALID_TIME")
    try:
        price = continue_price(found, hours)
    except errors.MaxHoursExceed as exc:
        # The provider says how many hours are left; the script is told so, as by the provider.
        info = {"max": exc.maximum} if exc.maximum is not None else None
        return answers.rent_error(call.hero, exc.code, info)
    except errors.ProviderError as exc:
        return _provider_refusal(call, exc)
    if price is None:
        return answers.upstream_failed(call.hero)
    return answers.as_json(call.hero, {"status": "success", "price": answers.num(price)})
