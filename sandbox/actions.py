"""One function per handler_api action: read the parameters, call a service or selector, shape the answer.

Each function takes a `Call` and returns an `answers.Answer` or raises `ApiError`; the view renders
the error in the account's dialect (bare token for activation actions, JSON for rent actions).
`ACTIONS` maps the action name to its function and whether it reads, writes or spends money,
which the fault layer needs (faults never hit after a state change, truncation only hits reads).
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox import answers, catalog, selectors, services
from sandbox.answers import Answer, as_json, no_content, num, token
from sandbox.errors import ApiError
from sandbox.models import (
    Account,
    Activation,
    ActivationStatus,
    Country,
    OutgoingCall,
    Price,
    RentalStatus,
    Service,
)

READ, WRITE, SPEND = "read", "write", "spend"
HISTORY_MAX_DAYS = 30
# HeroSMS's service codes (its API reference: `^[a-zA-Z]{2,4}$`); anything else fails validation.
HERO_SERVICE_CODE = re.compile(r"[a-zA-Z]{2,4}")


@dataclass
class Call:
    """One request to the handler: the account, its parameters and the moment it is served at."""

    account: Account
    params: dict[str, str]
    now: datetime

    @property
    def hero(self) -> bool:
        return self.account.is_hero

    def get(self, *names: str) -> str | None:
        """The first of `names` present (clients disagree on names: `rent_time`/`time`, `id`/`activationId`)."""
        for name in names:
            if name in self.params:
                return self.params[name]
        return None

    def flag(self, name: str) -> bool:
        return (self.params.get(name) or "").strip().lower() in {"1", "true", "yes"}

    def operators(self) -> list[str]:
        return [op.strip().lower() for op in (self.params.get("operator") or "").split(",") if op.strip()]

    def money(self, amount_rub: Decimal) -> Decimal:
        return catalog.convert(amount_rub, self.account.currency)


def _int(raw: str | None, default: int, *, low: int = 0, high: int | None = None) -> int:
    raw = (raw or "").strip()
    value = int(raw) if raw.isdigit() else default
    value = max(value, low)
    return min(value, high) if high is not None else value


def _country_or_none(raw: str | None) -> Country | None | bool:
    """The country of a parameter: False when the parameter is absent, None when unknown."""
    if raw is None or raw.strip() == "":
        return False
    raw = raw.strip()
    return Country.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 6 else None


# --- account and catalog ----------------------------------------------------------------------


def get_balance(call: Call) -> Answer:
    return token(call.hero, f"ACCESS_BALANCE:{answers.money(call.account.balance, call.account.currency)}")


def get_balance_and_cashback(call: Call) -> Answer:
    total = call.account.balance + call.account.cashback
    return token(call.hero, f"ACCESS_BALANCE:{answers.money(total, call.account.currency)}")


def get_numbers_status(call: Call) -> Answer:
    country = _country_or_none(call.get("country"))
    if country is False:
        country = Country.objects.filter(pk=0).first()
    if country is None:
        return as_json(call.hero, {})
    share = 1.0
    wanted = [op for op in call.operators() if op != "any"]
    if wanted:
        real = [op.name for op in country.operators.all() if op.name != "any"] or ["any"]
        share = len([name for name in real if name in wanted]) / len(real)
    counts = {
        f"{price.service_id}_{int(price.forward)}": int(
            catalog.live_price(price, call.now, call.account).count * share
        )
        for price in Price.objects.filter(country=country).order_by("service_id", "forward")
    }
    return as_json(call.hero, counts)


def _top_for_service(call: Call, service_code: str, free: bool) -> dict[str, Any]:
    rows = []
    for price in Price.objects.filter(service_id=service_code, forward=False):
        live = catalog.live_price(price, call.now, call.account)
        rows.append((live.count, price.country_id, live))
    rows.sort(key=lambda row: (-row[0], row[1]))
    ranked: dict[str, Any] = {}
    for rank, (count, country_id, live) in enumerate(rows):
        entry: dict[str, Any] = {
            "country": country_id,
            "count": count,
            "price": num(call.money(live.cost)),
            "retail_price": num(call.money(live.retail)),
        }
        if free:
            entry["freePriceMap"] = {
                answers.money(call.money(Decimal(price)), call.account.currency): amount
                for price, amount in live.free_price_map().items()
            }
        ranked[str(rank)] = entry
    return ranked


def country_slug(name: str) -> str:
    """How SMSBower names a country in keys: its English name, lower case, words joined by `-`."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _top_by_slug(call: Call, service_code: str, free: bool = False) -> dict[str, Any]:
    """SMSBower: `{"<country-slug>": {"<partnerId>": {"price","count"}}}`, the best-stocked country first,
    each country's partners by what they sell (a main partner, and a dearer one with a quarter of the stock).
    `free` is ignored: SMSBower sends no Free Price map."""
    prices = Price.objects.filter(service_id=service_code, forward=False).select_related("country")
    offers = sorted(
        ((catalog.live_price(price, call.now, call.account), price.country) for price in prices),
        key=lambda pair: (-pair[0].count, pair[1].id),
    )
    table: dict[str, Any] = {}
    for live, country in offers:
        second = live.count // 4
        partners = {
            str(2000 + country.id): {"price": num(call.money(live.cost)), "count": live.count - second}
        }
        if second:
            dearer = call.money(live.cost * Decimal("1.1"))
            partners[str(3000 + country.id)] = {"price": num(dearer), "count": second}
        table[country_slug(country.eng)] = partners
    return table


def get_top_countries_by_service(call: Call) -> Answer:
    free = call.flag("freePrice")
    code = (call.get("service") or "").strip().lower()
    top = _top_by_slug if call.account.top_countries_by_slug else _top_for_service
    if code:
        return as_json(call.hero, top(call, code, free))
    codes = Service.objects.filter(rent_only=False).values_list("code", flat=True)
    return as_json(call.hero, {code: top(call, code, free) for code in codes})


def get_list_of_top_countries_by_service(call: Call) -> Answer:
    code = (call.get("service") or "").strip().lower()
    if not code or not Service.objects.filter(code=code, rent_only=False).exists():
        raise ApiError("WRONG_SERVICE")
    prices = list(Price.objects.filter(service_id=code, forward=False))
    counts = {price.country_id: catalog.live_price(price, call.now, call.account).count for price in prices}
    total = sum(counts.values()) or 1
    rows = [
        {
            "country": cid,
            "share": round(100 * count / total),
            "rate": 40 + int(55 * catalog.unit("rate", cid, code)),
        }
        for cid, count in counts.items()
    ]
    rows.sort(key=lambda row: (-row["share"], row["country"]))
    length = _int(call.get("length"), 10, low=1, high=100)
    page = _int(call.get("page"), 1, low=1)
    return as_json(call.hero, rows[(page - 1) * length : page * length])


def get_operators(call: Call) -> Answer:
    country = _country_or_none(call.get("country"))
    if country is None:
        raise ApiError("OPERATORS_NOT_FOUND")
    countries = [country] if country else list(Country.objects.all())
    listing = {str(c.id): [op.name for op in c.operators.all()] for c in countries}
    if not any(listing.values()):
        raise ApiError("OPERATORS_NOT_FOUND")
    return as_json(call.hero, {"status": "success", "countryOperators": listing})


def get_countries(call: Call) -> Answer:
    return as_json(
        call.hero,
        {
            str(c.id): {
                "id": c.id,
                "rus": c.rus,
                "eng": c.eng,
                "chn": c.chn,
                "visible": int(c.visible),
                "retry": int(c.retry),
                "rent": int(c.rent),
                "multiService": int(c.multi_service),
            }
            for c in Country.objects.all()
        },
    )


def get_services_list(call: Call) -> Answer:
    services_qs = Service.objects.filter(rent_only=False)
    country = _country_or_none(call.get("country"))
    if country:
        services_qs = services_qs.filter(prices__country=country).distinct()
    elif country is None:
        services_qs = services_qs.none()
    listing = [{"code": s.code, "name": s.name} for s in services_qs.order_by("code")]
    return as_json(call.hero, {"status": "success", "services": listing})


def get_prices(call: Call) -> Answer:
    code = (call.get("service") or "").strip().lower()
    country = _country_or_none(call.get("country"))
    prices = Price.objects.filter(forward=False).order_by("country_id", "service_id")
    if code:
        if call.hero and not Service.objects.filter(code=code, rent_only=False).exists():
            return as_json(True, {"status": "false", "msg": "service is incorrect"})
        prices = prices.filter(service_id=code)
    if country is None:
        if call.hero:
            return as_json(True, {"status": "false", "msg": "country is incorrect"})
        prices = prices.none()
    elif country:
        prices = prices.filter(country=country)
    extended = call.params.get("action") == "getPricesExtended" or call.hero
    table: dict[str, dict[str, Any]] = {}
    for price in prices:
        live = catalog.live_price(price, call.now, call.account)
        entry: dict[str, Any] = {"cost": num(call.money(live.cost)), "count": live.count}
        if extended:
            entry["physicalCount"] = live.count
        table.setdefault(str(price.country_id), {})[price.service_id] = entry
    return as_json(call.hero, table)


def get_prices_verification(call: Call) -> Answer:
    code = (call.get("service") or "").strip().lower()
    prices = Price.objects.filter(forward=False, verification=True).order_by("service_id", "country_id")
    if code:
        prices = prices.filter(service_id=code)
    table: dict[str, dict[str, Any]] = {}
    for price in prices:
        live = catalog.live_price(price, call.now, call.account)
        cost = call.money(live.cost)
        table.setdefault(price.service_id, {})[str(price.country_id)] = {
            "count": live.count,
            "price": answers.money(cost, call.account.currency),
        }
    return as_json(call.hero, table)


# --- activations ------------------------------------------------------------------------------


def _max_price(call: Call) -> Decimal | None:
    raw = (call.get("maxPrice") or "").strip()
    try:
        value = Decimal(raw) if raw else None
    except InvalidOperation:
        return None
    return value if value is not None and value.is_finite() else None


def _invalid(field: str, code: str, message: str = "") -> ApiError:
    """A HeroSMS validation failure of one parameter: 422 `{"title":"UNPROCESSABLE_ENTITY","details":
    "Validation failed","info":{"field","code","message"}}` (text `UNPROCESSABLE_ENTITY:<field>:<code>`)."""
    return ApiError(
        "UNPROCESSABLE_ENTITY",
        suffix=f"{field}:{code}",
        info={"field": field, "code": code, "message": message},
    )


def _hero_validate(call: Call) -> None:
    """HeroSMS checks the form of a purchase's parameters before anything else; an unknown but
    well-formed service still gets the documented `BAD_SERVICE`."""
    if not call.hero:
        return
    service = (call.get("service") or "").strip()
    if not service:
        raise _invalid("service", "REQUIRED", "Param 'service' is required.")
    if not HERO_SERVICE_CODE.fullmatch(service):
        raise _invalid("service", "INVALID")
    country = (call.get("country") or "").strip()
    if country and not country.isdigit():
        raise _invalid("country", "INVALID", "Param 'country' must be a number")


def _buy(call: Call) -> Activation:
    _hero_validate(call)
    return services.activation_buy(
        account=call.account,
        service_code=call.get("service"),
        country_raw=call.get("country"),
        operators=call.operators(),
        forward=(call.get("forward") or "").strip() == "1",
        max_price=_max_price(call),
        phone_exception=call.get("phoneException"),
        verification=call.flag("verification"),
        now=call.now,
    )


def get_number(call: Call) -> Answer:
    try:
        activation = _buy(call)
    except ApiError as err:
        if call.hero and err.code == "UNPROCESSABLE_ENTITY":
            # HeroSMS's getNumber answers a validation failure as text, HTTP 200 (getNumberV2: 422 JSON).
            return token(True, answers.classic_error_text(err))
        raise
    return token(call.hero, f"ACCESS_NUMBER:{activation.id}:{activation.phone}")


def get_number_v2(call: Call) -> Answer:
    return as_json(call.hero, answers.number_v2(call.hero, _buy(call)))


def get_multi_service_number(call: Call) -> Answer:
    bought = services.activation_buy_multi(
        account=call.account,
        services_raw=call.get("multiService"),
        # smsactivate 1.5 sends the list as `forward`, the seed documents `multiForward`.
        forwards_raw=call.get("multiForward", "forward"),
        country_raw=call.get("country"),
        operators=call.operators(),
        now=call.now,
    )
    return as_json(
        call.hero, [{"phone": a.phone, "activation": a.id, "service": a.service_id} for a in bought]
    )


def set_status(call: Call) -> Answer:
    activation = selectors.activation_for(call.account, call.get("id"))
    reply = services.activation_set_status(
        account=call.account,
        activation=activation,
        status_raw=call.get("status"),
        forward_phone=call.get("forward"),
        now=call.now,
    )
    return token(call.hero, reply)


def finish_activation(call: Call) -> Answer:
    """HeroSMS finishActivation: setStatus 6, answered with HTTP 204 and no body."""
    activation = selectors.activation_for(call.account, call.get("id"))
    services.activation_set_status(account=call.account, activation=activation, status_raw="6", now=call.now)
    return no_content()


def cancel_activation(call: Call) -> Answer:
    """HeroSMS cancelActivation: setStatus 8, answered with HTTP 204 and no body."""
    activation = selectors.activation_for(call.account, call.get("id"))
    services.activation_set_status(account=call.account, activation=activation, status_raw="8", now=call.now)
    return no_content()


def get_status(call: Call) -> Answer:
    activation = selectors.activation_for(call.account, call.get("id"))
    return token(call.hero, services.status_token(activation))


def get_status_v2(call: Call) -> Answer:
    activation = selectors.activation_for(call.account, call.get("id"))
    if activation.status == ActivationStatus.CANCELLED:
        return token(call.hero, "STATUS_CANCEL")
    return as_json(call.hero, answers.status_v2(call.hero, activation))


def get_full_sms(call: Call) -> Answer:
    activation = selectors.activation_for(call.account, call.get("id"))
    if activation.status == ActivationStatus.CANCELLED:
        return token(call.hero, "STATUS_CANCEL")
    if not activation.sms:
        return token(call.hero, "STATUS_WAIT_CODE")
    return token(call.hero, f"FULL_SMS:{activation.sms[-1]['text']}")


def get_active_activations(call: Call) -> Answer:
    rows = selectors.active_activations(call.account)
    if call.hero:
        start = _int(call.get("start"), 0)
        limit = _int(call.get("limit"), 100, low=1, high=100)
        data = [answers.active_row(True, a) for a in rows[start : start + limit]]
        return as_json(True, {"status": "success", "data": data})
    listing = [answers.active_row(False, a) for a in rows]
    if not listing:
        raise ApiError("NO_ACTIVATIONS")
    return as_json(False, {"status": "success", "activeActivations": listing})


def _timestamp(raw: str | None) -> datetime | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 12:
        raise ApiError("WRONG_DATE")
    return datetime.fromtimestamp(int(raw), tz=UTC)


def get_history(call: Call) -> Answer:
    start, end = _timestamp(call.get("start")), _timestamp(call.get("end"))
    if start and end and (end < start or end - start > timedelta(days=HISTORY_MAX_DAYS)):
        raise ApiError("WRONG_DATE")
    rows = selectors.history(
        call.account,
        start=start,
        end=end,
        offset=_int(call.get("offset"), 0),
        size=_int(call.get("size", "limit"), 100, low=1, high=100),
    )
    return as_json(call.hero, [answers.history_row(call.hero, a) for a in rows])


def get_incoming_call_status(call: Call) -> Answer:
    activation = selectors.activation_for(
        call.account, call.get("activationId", "id"), missing="INVALID_ACTIVATION_ID"
    )
    if not activation.verification:
        raise ApiError("NOT_INCOMING")
    if activation.is_active:
        status = "2"
    elif activation.status == ActivationStatus.FINISHED:
        status = "3"
    else:
        status = "5" if activation.expired else "4"
    return as_json(call.hero, {"status": status, "phone": activation.call_from or False})


def get_additional_service(call: Call) -> Answer:
    parent = selectors.activation_for(
        call.account, call.get("id", "activationId"), missing="WRONG_ACTIVATION_ID"
    )
    child = services.activation_add_service(
        account=call.account, parent=parent, service_code=call.get("service"), now=call.now
    )
    return token(call.hero, f"ADDITIONAL:{child.id}:{child.phone}")


def get_extra_activation(call: Call) -> Answer:
    parent = selectors.activation_for(
        call.account, call.get("activationId", "id"), missing="WRONG_ACTIVATION_ID"
    )
    extra = services.activation_extra(account=call.account, parent=parent, now=call.now)
    return token(call.hero, f"ACCESS_NUMBER:{extra.id}:{extra.phone}")


def check_extra_activation(call: Call) -> Answer:
    parent = selectors.activation_for(
        call.account, call.get("activationId", "id"), missing="WRONG_ACTIVATION_ID"
    )
    cost = services.extra_activation_cost(account=call.account, parent=parent, now=call.now)
    return as_json(
        call.hero,
        {
            "status": "success",
            "cost": num(cost),
            "service": parent.service_id,
            "phone": int(parent.phone),
            "country": parent.country_id,
        },
    )


def create_task_for_call(call: Call) -> Answer:
    activation = selectors.activation_for(
        call.account, call.get("activationId", "id"), missing="WRONG_ACTIVATION_ID"
    )
    services.call_create(activation=activation, phone=call.get("phone"), now=call.now)
    return as_json(call.hero, {"status": "success", "msg": "Call request successfully created."})


CALL_SECONDS = 60


def get_outgoing_calls(call: Call) -> Answer:
    zone = UTC if call.hero else answers.MOSCOW
    raw_date = (call.get("date") or "").strip()
    try:
        day = datetime.strptime(raw_date, "%Y-%m-%d").date() if raw_date else call.now.astimezone(zone).date()
    except ValueError:
        raise ApiError("WRONG_DATE") from None
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    calls = OutgoingCall.objects.filter(
        activation__account=call.account, created_at__gte=start, created_at__lt=start + timedelta(days=1)
    ).select_related("activation")
    activation_id = selectors.parse_id(call.get("activationId"))
    if activation_id is not None:
        calls = calls.filter(activation_id=activation_id)
    listing = {
        str(c.id): {
            "date": answers.time_for(call.hero, c.created_at),
            "phoneFrom": c.activation.phone,
            "status": "IN_PROCESS"
            if call.now < c.created_at + timedelta(seconds=CALL_SECONDS)
            else "SUCCESS",
        }
        for c in calls.order_by("id")
    }
    return as_json(call.hero, listing)


# --- rent -------------------------------------------------------------------------------------

RENT_HOURS = ("rent_time", "time", "duration")


def _rent_phone(call: Call, rental: Any) -> dict[str, Any]:
    end = answers.iso_time(rental.ends_at) if call.hero else answers.classic_rent_time(rental.ends_at)
    return {"status": "success", "phone": {"id": rental.id, "endDate": end, "number": rental.phone}}


def get_rent_services_and_countries(call: Call) -> Answer:
    try:
        hours = services.parse_hours(call.get(*RENT_HOURS))
    except ApiError:
        hours = services.RENT_MIN_HOURS
    country = _country_or_none(call.get("country"))
    if country is False:
        country = Country.objects.filter(pk=0).first()
    if not country or not country.rent:
        return as_json(call.hero, {"countries": {}, "operators": {}, "services": {}})
    operators = sorted(op.name for op in country.operators.all())
    offered = [
        "full",
        *Price.objects.filter(country=country, forward=False).values_list("service_id", flat=True),
    ]
    table = {}
    for code in offered:
        service = Service.objects.get(code=code)
        cost = services.rent_cost(account=call.account, service=service, country=country, hours=hours)
        table[code] = {"cost": num(cost), "quant": catalog.rent_stock(code, country.id)}
    return as_json(
        call.hero,
        {
            "countries": {"0": country.id},
            "operators": {str(i): name for i, name in enumerate(operators)},
            "services": table,
        },
    )


def get_rent_number(call: Call) -> Answer:
    rental = services.rental_buy(
        account=call.account,
        service_code=call.get("service"),
        country_raw=call.get("country"),
        hours=services.parse_hours(call.get(*RENT_HOURS)),
        operators=call.operators(),
        url=(call.get("url") or "").strip(),
        now=call.now,
    )
    if call.hero:
        return as_json(True, answers.hero_rent(rental, call.account.rent_cancel_seconds))
    return as_json(False, _rent_phone(call, rental))


def get_rent_status(call: Call) -> Answer:
    rental = selectors.rental_for(call.account, call.get("id"))
    if rental.status == RentalStatus.FINISHED:
        raise ApiError("STATUS_FINISH")
    if rental.status == RentalStatus.CANCELLED:
        raise ApiError("STATUS_CANCEL")
    messages = list(rental.messages.all())
    if not messages and not call.hero:
        raise ApiError("STATUS_WAIT_CODE")
    size = _int(call.get("size"), len(messages) or 1, low=1)
    page = _int(call.get("page"), 0)
    shown = messages[page * size : (page + 1) * size]
    values = {
        str(i): {
            "phoneFrom": m.phone_from,
            "text": m.text,
            "service": m.service,
            "date": answers.time_for(call.hero, m.date),
        }
        for i, m in enumerate(shown)
    }
    return as_json(call.hero, {"status": "success", "quantity": str(len(messages)), "values": values})


def set_rent_status(call: Call) -> Answer:
    rental = selectors.rental_for(call.account, call.get("id"))
    services.rental_set_status(
        account=call.account, rental=rental, status_raw=call.get("status"), now=call.now
    )
    return as_json(call.hero, {"status": "success"})


def get_rent_list(call: Call) -> Answer:
    values = {
        str(i): {"id": str(r.id), "phone": r.phone}
        for i, r in enumerate(selectors.active_rentals(call.account))
    }
    if not values and not call.hero:
        raise ApiError("NO_NUMBERS")
    return as_json(call.hero, {"status": "success", "values": values})


def continue_rent_number(call: Call) -> Answer:
    rental = selectors.rental_for(call.account, call.get("id"))
    hours = services.parse_hours(call.get(*RENT_HOURS))
    renewed = services.rental_continue(account=call.account, rental=rental, hours=hours, now=call.now)
    return as_json(call.hero, _rent_phone(call, renewed))


def get_continue_rent_price_number(call: Call) -> Answer:
    rental = selectors.rental_for(call.account, call.get("id"))
    hours = services.parse_hours(call.get(*RENT_HOURS))
    price = services.rental_continue_price(account=call.account, rental=rental, hours=hours, now=call.now)
    return as_json(call.hero, {"status": "success", "price": num(price)})


@dataclass(frozen=True)
class Spec:
    func: Callable[[Call], Answer]
    kind: str = READ
    rent: bool = False


ACTIONS: dict[str, Spec] = {
    "getBalance": Spec(get_balance),
    "getBalanceAndCashBack": Spec(get_balance_and_cashback),
    "getNumbersStatus": Spec(get_numbers_status),
    "getTopCountriesByService": Spec(get_top_countries_by_service),
    "getTopCountriesByServiceRank": Spec(get_top_countries_by_service),
    "getListOfTopCountriesByService": Spec(get_list_of_top_countries_by_service),
    "getOperators": Spec(get_operators),
    "getCountries": Spec(get_countries),
    "getServicesList": Spec(get_services_list),
    "getPrices": Spec(get_prices),
    "getPricesExtended": Spec(get_prices),
    "getPricesVerification": Spec(get_prices_verification),
    "getActiveActivations": Spec(get_active_activations),
    "getHistory": Spec(get_history),
    "getNumber": Spec(get_number, SPEND),
    "getNumberV2": Spec(get_number_v2, SPEND),
    "getMultiServiceNumber": Spec(get_multi_service_number, SPEND),
    "setStatus": Spec(set_status, WRITE),
    "finishActivation": Spec(finish_activation, WRITE),
    "cancelActivation": Spec(cancel_activation, WRITE),
    "getStatus": Spec(get_status),
    "getStatusV2": Spec(get_status_v2),
    "getFullSms": Spec(get_full_sms),
    "getIncomingCallStatus": Spec(get_incoming_call_status),
    "getAdditionalService": Spec(get_additional_service, SPEND),
    "getExtraActivation": Spec(get_extra_activation, SPEND),
    "checkExtraActivation": Spec(check_extra_activation),
    "createTaskForCall": Spec(create_task_for_call, WRITE),
    "getOutgoingCalls": Spec(get_outgoing_calls),
    "getRentServicesAndCountries": Spec(get_rent_services_and_countries, rent=True),
    "getRentNumber": Spec(get_rent_number, SPEND, rent=True),
    "getRentStatus": Spec(get_rent_status, rent=True),
    "setRentStatus": Spec(set_rent_status, WRITE, rent=True),
    "getRentList": Spec(get_rent_list, rent=True),
    "continueRentNumber": Spec(continue_rent_number, SPEND, rent=True),
    "getContinueRentPriceNumber": Spec(get_continue_rent_price_number, rent=True),
}
