"""How the gateway writes its answers, in the dialect of the upstream key's profile.

Written from the protocol's documentation (../shared/seed, protocol.md), not shared with the sandbox:
the sandbox is the independent judge the tests compare these bytes with.

* classic (SMS-Activate): every answer HTTP 200; tokens as `text/plain; charset=utf-8`, JSON as
  `application/json; charset=utf-8`.
* hero (HeroSMS): served as `text/html; charset=utf-8`; errors as `{"title","details"}` envelopes with
  real HTTP codes.

Bodies never end with whitespace: exact-match clients compare the whole body.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from providers.results import (
    Country,
    CountryShare,
    HistoryEntry,
    PriceEntry,
    RentCatalog,
    Service,
    ServiceStock,
    TopCountry,
)

TEXT = "text/plain; charset=utf-8"
JSON = "application/json; charset=utf-8"
HTML = "text/html; charset=utf-8"


@dataclass(frozen=True)
class Answer:
    """A finished answer: body, HTTP status, content type and extra headers."""

    body: str
    status: int = 200
    content_type: str = TEXT
    headers: dict[str, str] = field(default_factory=dict)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def token(hero: bool, text: str) -> Answer:
    """A bare protocol token (`ACCESS_BALANCE:12.50`, `STATUS_WAIT_CODE`)."""
    return Answer(text, 200, HTML if hero else TEXT)


def as_json(hero: bool, data: Any, status: int = 200) -> Answer:
    return Answer(dumps(data), status, HTML if hero else JSON)


# --- numbers, money and times as the dialects write them ---------------------------------------

# ISO 4217 numbers HeroSMS-style answers carry in `currency`.
CURRENCY_NUMBERS = {"RUB": 643, "USD": 840, "EUR": 978, "CNY": 156}


def id_value(upstream_id: str) -> int | str:
    """An upstream id as the classic dialect writes it in JSON: a number where it is all digits."""
    return int(upstream_id) if upstream_id.isdigit() else upstream_id


def num(amount: Decimal) -> int | float:
    """A JSON number as the providers' PHP writes one: whole amounts as ints (`"cost":9`), others as
    floats (`12.5`). Float only at the last step, for the text: the value itself stays Decimal."""
    if amount == amount.to_integral_value():
        return int(amount)
    return float(amount)


def money_text(amount: Decimal, currency: str | None) -> str:
    """Money written as text (`"price":"12.50"`, Free Price map keys): 2 decimals in RUB, 4 otherwise."""
    return f"{amount:.2f}" if (currency or "RUB") == "RUB" else f"{amount:.4f}"


def classic_time(moment: datetime | None, zone: str) -> str:
    """`2022-06-01 17:30:57`: the provider's local time without a zone; PHP's zero date for none."""
    if moment is None:
        return "0000-00-00 00:00:00"
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")


def iso_time(moment: datetime | None) -> str | None:
    """`2026-02-18T16:11:33+00:00`: HeroSMS times, UTC with an explicit offset."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


# --- errors -------------------------------------------------------------------------------------

# HeroSMS answers an error as `{"title","details"[,"info"]}` with a real HTTP status (protocol.md §1, quirk 5);
# title -> (status, details). A title not listed answers 400 with its words as details.
HERO_ERRORS: dict[str, tuple[int, str]] = {
    "BAD_KEY": (401, "Unauthorized"),
    "NO_BALANCE": (402, "Payment Required"),
    "NO_NUMBERS": (404, "Numbers Gone. Try Later"),
    "NOT_FOUND": (404, "Activation Not Found"),
    "BAD_ACTION": (404, "Method Not Found"),
    "WRONG_MAX_PRICE": (400, "The specified maximum price is less than the current minimum price"),
    "BAD_STATUS": (400, "Wrong status code"),
    "BAD_SERVICE": (400, "Wrong service"),
    "WRONG_SERVICE": (400, "Wrong service"),
    "BANNED": (403, "Account is temporarily banned"),
    "EARLY_CANCEL_DENIED": (
        409,
        "Activation cannot be cancelled at this time. Minimum activation period must pass.",
    ),
    "OTP_RECEIVED": (409, "Activation cannot be cancelled: the code has been received"),
    "ACTIVATION_NOT_ACTIVE": (409, "Activation is not active"),
    # Several services, additional services, re-activation and calls.
    "NO_BALANCE_FORWARD": (402, "Payment Required"),
    "NOT_AVAILABLE": (403, "Multi-service is not available for this country"),
    "WRONG_SECURITY": (403, "The activation has no forwarding or is not active"),
    "REPEAT_ADDITIONAL_SERVICE": (409, "The additional service has already been ordered"),
    "RENEW_ACTIVATION_NOT_AVAILABLE": (409, "The number is not available for another activation"),
    "NEW_ACTIVATION_IMPOSSIBLE": (409, "Another activation is impossible"),
    "CALL_TASK_ALREADY_EXIST": (409, "Call request has already been created"),
    # Rentals.
    "INVALID_PHONE": (404, "Rent Not Found"),
    "CANT_CANCEL": (409, "The rent cannot be cancelled after 20 minutes"),
    "ALREADY_FINISH": (409, "The rent has already been finished"),
    "ALREADY_CANCEL": (409, "The rent has already been cancelled"),
    "RENT_DIE": (409, "The number has expired and cannot be extended"),
    "STATUS_FINISH": (409, "The rent is finished"),
    "STATUS_CANCEL": (409, "The rent is cancelled"),
    "RATE_LIMIT": (429, ""),
    "SERVER_ERROR": (500, "Server Gone"),
}
# HeroSMS still answers these as bare tokens with HTTP 200 (protocol.md quirk 5).
HERO_PLAIN = frozenset({"NO_KEY", "OPERATORS_NOT_FOUND", "ERROR_SQL", "SQL_ERROR"})


def error(hero: bool, code: str, suffix: str | None = None, info: dict[str, Any] | None = None) -> Answer:
    """A refusal in the dialect: the classic bare token (`WRONG_MAX_PRICE:0.5`), or HeroSMS's envelope."""
    text = code if suffix is None else f"{code}:{suffix}"
    if not hero or code in HERO_PLAIN:
        return token(hero, text)
    status, details = HERO_ERRORS.get(code, (400, code.replace("_", " ").capitalize()))
    envelope: dict[str, Any] = {"title": code, "details": details}
    if info:
        envelope["info"] = info
    return as_json(True, envelope, status)


def rent_error(hero: bool, code: str, info: dict[str, Any] | None = None) -> Answer:
    """A refusal of a rent action: SMS-Activate's `{"status":"error","message":<code>}` object (HTTP 200),
    or HeroSMS's envelope, as for any action."""
    if hero:
        return error(True, code, None, info)
    body: dict[str, Any] = {"status": "error", "message": code}
    if info:
        body["info"] = info
    return as_json(False, body)


def upstream_failed(hero: bool) -> Answer:
    """The answer when the upstream could not give one (its key refused, timed out, sent a web page):
    the dialect's server error, `ERROR_SQL` or HeroSMS's 500 `SERVER_ERROR`. Nothing of the upstream's
    answer is passed on, so neither its key nor its wording reaches the script."""
    return error(True, "SERVER_ERROR") if hero else token(False, "ERROR_SQL")


# --- catalogue shapes (from the client's typed results, so a list merged or filtered here, or read from
# simdesk's own records, is written the same way) ------------------------------------------------


def numbers_status(stock: Iterable[ServiceStock]) -> dict[str, int]:
    """getNumbersStatus: `{"vk_0":76,"ok_1":139}`, `<service>_<forward 0/1>` -> count."""
    return {f"{row.service}_{int(row.forward)}": row.count for row in stock}


def prices(entries: Iterable[PriceEntry], *, physical: bool) -> dict[str, dict[str, Any]]:
    """getPrices: `{"<country>":{"<service>":{"cost","count"[,"physicalCount"]}}}`; `physical` where the
    dialect always writes the real stock (HeroSMS), otherwise only where the upstream gave it."""
    table: dict[str, dict[str, Any]] = {}
    for entry in entries:
        cell: dict[str, Any] = {"cost": num(entry.cost), "count": entry.count}
        if physical or entry.physical_count is not None:
            cell["physicalCount"] = entry.physical_count if entry.physical_count is not None else entry.count
        table.setdefault(str(entry.country), {})[entry.service] = cell
    return table


def prices_verification(entries: Iterable[PriceEntry], currency: str | None) -> dict[str, dict[str, Any]]:
    """getPricesVerification: service first, `{"<service>":{"<country>":{"count","price":"<text>"}}}`."""
    table: dict[str, dict[str, Any]] = {}
    for entry in entries:
        table.setdefault(entry.service, {})[str(entry.country)] = {
            "count": entry.count,
            "price": money_text(entry.cost, currency),
        }
    return table


def countries(rows: Iterable[Country]) -> dict[str, dict[str, Any]]:
    """getCountries: an object keyed by id; a flag the upstream did not send is left out."""
    listing: dict[str, dict[str, Any]] = {}
    for country in rows:
        row: dict[str, Any] = {"id": country.id, "rus": country.rus, "eng": country.eng, "chn": country.chn}
        for name, flag in (
            ("visible", country.visible),
            ("retry", country.retry),
            ("rent", country.rent),
            ("multiService", country.multi_service),
        ):
            if flag is not None:
                row[name] = int(flag)
        listing[str(country.id)] = row
    return listing


def services_list(rows: Iterable[Service]) -> dict[str, Any]:
    """getServicesList: `{"status":"success","services":[{"code","name"}]}`."""
    return {"status": "success", "services": [{"code": s.code, "name": s.name} for s in rows]}


def operators(by_country: dict[int, tuple[str, ...]]) -> dict[str, Any]:
    """getOperators: `{"status":"success","countryOperators":{"0":["beeline",…]}}`."""
    return {
        "status": "success",
        "countryOperators": {str(country): list(names) for country, names in by_country.items()},
    }


def _top_row(row: TopCountry, currency: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "country": row.country,
        "count": row.count,
        "price": num(row.price) if row.price is not None else None,
        "retail_price": num(row.retail_price) if row.retail_price is not None else None,
    }
    if row.physical_count is not None:
        entry["physicalTotalCount"] = row.physical_count
    if row.free_price_map:
        entry["freePriceMap"] = {
            money_text(price, currency): count for price, count in row.free_price_map.items()
        }
    return entry


def _top_block(rows: list[TopCountry], currency: str | None) -> dict[str, Any]:
    if rows and all(row.country_slug for row in rows):
        # SMSBower: {"<country-slug>": {"<partnerId>": {"price","count"}}} (protocol.md a.1).
        by_slug: dict[str, Any] = {}
        for row in rows:
            by_slug.setdefault(row.country_slug or "", {})[row.provider_id or ""] = {
                "price": num(row.price) if row.price is not None else None,
                "count": row.count,
            }
        return by_slug
    return {str(row.rank): _top_row(row, currency) for row in rows}


def top_countries(rows: Iterable[TopCountry], *, service: str | None, currency: str | None) -> dict[str, Any]:
    """getTopCountriesByService: one service's rows keyed by rank, or `{"<service>": rows}` without one."""
    rows = list(rows)
    if service:
        return _top_block(rows, currency)
    by_service: dict[str, list[TopCountry]] = {}
    for row in rows:
        by_service.setdefault(row.service or "", []).append(row)
    return {code: _top_block(block, currency) for code, block in by_service.items()}


def country_shares(rows: Iterable[CountryShare]) -> list[dict[str, Any]]:
    """getListOfTopCountriesByService: `[{"country":0,"share":50,"rate":50}]`."""
    return [
        {
            "country": row.country,
            "share": num(row.share) if row.share is not None else None,
            "rate": num(row.rate) if row.rate is not None else None,
        }
        for row in rows
    ]


def rent_catalog(catalog: RentCatalog) -> dict[str, Any]:
    """getRentServicesAndCountries: `{"countries":{"0":0},"operators":{"0":"any"},"services":{"full":
    {"cost","quant"}}}`; offers with a retail price (HeroSMS) as `{"quantity","price","retail_price"}`."""
    offers: dict[str, Any] = {}
    for offer in catalog.services:
        if offer.retail_cost is not None:
            offers[offer.service] = {
                "quantity": offer.quant,
                "price": num(offer.cost),
                "retail_price": num(offer.retail_cost),
            }
        else:
            offers[offer.service] = {"cost": num(offer.cost), "quant": offer.quant}
    return {
        "countries": {str(i): country for i, country in enumerate(catalog.countries)},
        "operators": {str(i): name for i, name in enumerate(catalog.operators)},
        "services": offers,
    }


def history(
    rows: Iterable[HistoryEntry], *, hero: bool, zone: str, currency: str | None
) -> list[dict[str, Any]]:
    """getHistory rows: classic ids as numbers, codes as a list, local times; HeroSMS ids as text, the last
    code, ISO times and the currency's number."""
    listing = []
    for row in rows:
        cost = num(row.cost) if row.cost is not None else 0
        if hero:
            listing.append(
                {
                    "id": row.activation_id,
                    "date": iso_time(row.date),
                    "phone": row.phone,
                    "sms": row.sms[-1] if row.sms else None,
                    "cost": cost,
                    "status": row.status,
                    "currency": CURRENCY_NUMBERS.get(row.currency or currency or "", 840),
                }
            )
            continue
        listing.append(
            {
                "id": int(row.activation_id) if row.activation_id.isdigit() else row.activation_id,
                "date": classic_time(row.date, zone),
                "phone": row.phone,
                "sms": list(row.sms) or None,
                "cost": cost,
                "status": row.status,
            }
        )
    return listing
