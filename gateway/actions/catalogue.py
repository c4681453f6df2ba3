"""Catalogue and account reads through the gateway: what the upstream key's provider answers, re-written in
its dialect from the client's typed results (`gateway.answers`), and cut to what the gateway key may see.

What a key may see: a gateway key with allowed services or countries sees only those in every list it
reads — prices (getPrices, getPricesVerification, getTopCountriesByService, getNumbersStatus, the rent
catalogue), and the name lists too (getCountries, getServicesList, getOperators). Asking about a country or
service outside its lists answers the provider's own "nothing here" (`{}`, an empty list,
`OPERATORS_NOT_FOUND`), never a refusal that would tell it what exists. A country left out of a request
counts as the protocol's default, Russia (0), where the protocol defaults it (getNumbersStatus, the rent
catalogue). getHistory is the upstream key's history (the team's record of that key, as the provider keeps
it); for a limited key, only the rows simdesk's own records place in its services and countries.

Names change rarely and are shared by every key of one provider: getCountries, getServicesList and
getOperators are cached per provider endpoint for an hour (only what was read whole; a failure is not
remembered, so one key's trouble does not answer for another's). Prices and stock move, so they are read
fresh, within the upstream key's request budget (`providers.keys.client_for_key`).

An upstream that cannot answer (its key refused, a timeout, a web page or broken JSON) is answered with the
dialect's server error (`answers.upstream_failed`); a refusal about the request itself (an unknown service
or country, a bad date) is answered with the provider's own token or envelope.
"""

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured

from activations.models import Activation
from gateway import answers
from gateway.answers import Answer
from gateway.registry import Call, action
from providers import errors
from providers.client import ProviderClient
from providers.keys import client_for_key, profile_for_key, provider_cache_id
from providers.results import HistoryEntry

logger = logging.getLogger(__name__)

NAMES_TTL = 60 * 60
# Language codes getServicesList takes (`en`, `ru`, `pt-br`): others are read, not cached.
LANG = re.compile(r"[a-z]{2}(-[a-z]{2})?")
# The protocol's default country where a parameter is left out (the seed: "Russia by default").
DEFAULT_COUNTRY = "0"
# Refusals about the request that the provider's own answer tells the script; anything else is ours.
# BAD_ACTION too: an action the upstream does not have, the gateway does not have for that key either.
REQUEST_REFUSALS = (errors.BadService, errors.BadCountry, errors.WrongDate, errors.BadAction)

T = TypeVar("T")


class _Refused(Exception):
    """Carries the finished answer out of a handler's body."""

    def __init__(self, answer: Answer) -> None:
        super().__init__()
        self.answer = answer


# --- what the key may see -----------------------------------------------------------------------------


def _allowed_countries(call: Call) -> set[str] | None:
    return {str(c).strip() for c in call.gateway_key.countries} or None


def _allowed_services(call: Call) -> set[str] | None:
    return {str(s).strip().lower() for s in call.gateway_key.services} or None


def _sees_country(call: Call, country: int | str | None) -> bool:
    allowed = _allowed_countries(call)
    return allowed is None or (country is not None and str(country).strip() in allowed)


def _sees_service(call: Call, service: str | None) -> bool:
    allowed = _allowed_services(call)
    return allowed is None or (service is not None and service.strip().lower() in allowed)


# --- parameters ----------------------------------------------------------------------------------------


def _param(call: Call, *names: str) -> str | None:
    """The first of `names` the script sent, stripped; None when absent or blank."""
    for name in names:
        value = call.params.get(name)
        if value is not None and value.strip():
            return value.strip()
    return None


def _country(call: Call) -> Any:
    # Digits go upstream as the number; anything else as sent, for the provider to answer as it does.
    raw = _param(call, "country")
    return int(raw) if raw is not None and raw.isdigit() and len(raw) < 6 else raw


def _as_sent(call: Call, name: str) -> Any:
    # Sent on as the script wrote it: the provider answers a malformed one (WRONG_DATE) as it does.
    return _param(call, name)


def _int(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and len(raw) < 10 else None


# --- the upstream ------------------------------------------------------------------------------------


def _read(call: Call, read: Callable[[ProviderClient], T]) -> T:
    """One read through the upstream key's client; its failures become the dialect's answers."""
    try:
        with client_for_key(call.api_key) as client:
            return read(client)
    except REQUEST_REFUSALS as exc:
        raise _Refused(_refusal(call, exc)) from None
    except errors.ProviderError as exc:
        # The code only: an error's text is already key-free, but the script needs none of it.
        logger.warning("gateway read failed upstream: %s (key %s)", exc.code, call.gateway_key.prefix)
        raise _Refused(answers.upstream_failed(call.hero)) from None
    except (ValueError, KeyError, ImproperlyConfigured):
        # A key whose profile, stored URL or secret no longer makes a client (removed profile, bad base
        # URL, an encryption key changed): the script gets the server error, the log says why.
        logger.warning("gateway read has no upstream client (key %s)", call.gateway_key.prefix)
        raise _Refused(answers.upstream_failed(call.hero)) from None


def _plain(country: Any, lang: str | None = None) -> bool:
    """Parameters fit for a cache key: a country number (or none) and a short language code (or none)."""
    return (country is None or isinstance(country, int)) and (
        lang is None or LANG.fullmatch(lang) is not None
    )


def _cached_names(call: Call, name: str | None, read: Callable[[ProviderClient], T]) -> T:
    """A name list shared by every key of the provider: from the cache, else read and kept for an hour.
    `name` None: parameters a cache key should not carry (as typed by the script), read without the cache."""
    if name is None:
        return _read(call, read)
    key = f"gateway:names:{provider_cache_id(call.api_key)}:{name}"
    hit = cache.get(key)
    if hit is not None:
        return hit[0]
    value = _read(call, read)
    cache.set(key, (value,), NAMES_TTL)
    return value


def _refusal(call: Call, exc: errors.ProviderError) -> Answer:
    action_name = call.params.get("action", "")
    if call.hero and action_name == "getPrices" and isinstance(exc, errors.BadService | errors.BadCountry):
        # HeroSMS answers getPrices' unknown service or country with this object, HTTP 200.
        what = "service" if isinstance(exc, errors.BadService) else "country"
        return answers.as_json(True, {"status": "false", "msg": f"{what} is incorrect"})
    return answers.error(call.hero, exc.code)


def _answering(handler: Callable[[Call], Answer]) -> Callable[[Call], Answer]:
    def run(call: Call) -> Answer:
        try:
            return handler(call)
        except _Refused as refused:
            return refused.answer

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


# --- the actions ---------------------------------------------------------------------------------------


@action("getNumbersStatus")
@_answering
def get_numbers_status(call: Call) -> Answer:
    """Numbers in stock per service (`<service>_<forward>`), in one country."""
    country = _country(call)
    stock = _read(call, lambda c: c.get_numbers_status(country=country, operator=_param(call, "operator")))
    if not _sees_country(call, DEFAULT_COUNTRY if country is None else country):
        stock = []
    stock = [row for row in stock if _sees_service(call, row.service)]
    return answers.as_json(call.hero, answers.numbers_status(stock))


@action("getPrices")
@action("getPricesExtended")
@_answering
def get_prices(call: Call) -> Answer:
    """Cost and stock per country and service (getPricesExtended: with the real stock in every cell)."""
    service, country = _param(call, "service"), _country(call)
    if call.params.get("action") == "getPricesExtended":
        entries = _read(call, lambda c: c.get_prices_extended(service=service, country=country))
    else:
        entries = _read(call, lambda c: c.get_prices(service=service, country=country))
    shown = [e for e in entries if _sees_country(call, e.country) and _sees_service(call, e.service)]
    return answers.as_json(call.hero, answers.prices(shown, physical=call.hero))


@action("getPricesVerification")
@_answering
def get_prices_verification(call: Call) -> Answer:
    """Prices of numbers that can take a verification call, service first."""
    service = _param(call, "service")
    entries = _read(call, lambda c: c.get_prices_verification(service=service))
    shown = [e for e in entries if _sees_country(call, e.country) and _sees_service(call, e.service)]
    return answers.as_json(call.hero, answers.prices_verification(shown, call.api_key.currency))


@action("getTopCountriesByService")
@action("getTopCountriesByServiceRank")
@_answering
def get_top_countries_by_service(call: Call) -> Answer:
    """The best countries for one service (or for each), with Free Price maps on request; the Rank action
    with the account's rank prices."""
    service = _param(call, "service")
    free = (_param(call, "freePrice") or "").lower() in {"1", "true"}
    by_rank = call.params.get("action") == "getTopCountriesByServiceRank"
    rows = _read(
        call,
        lambda c: c.get_top_countries_by_service(
            service=service, free_price=True if free else None, by_rank=by_rank
        ),
    )
    # A key limited to some countries also loses the rows whose country the provider names by slug only.
    shown = [
        row
        for row in rows
        if _sees_service(call, row.service or service) and _sees_country(call, row.country)
    ]
    return answers.as_json(
        call.hero, answers.top_countries(shown, service=service, currency=call.api_key.currency)
    )


@action("getListOfTopCountriesByService")
@_answering
def get_list_of_top_countries_by_service(call: Call) -> Answer:
    """Share of purchases and success rate per country for one service."""
    service = _param(call, "service") or ""
    if not _sees_service(call, service):
        # As the provider answers a service it does not sell.
        return answers.error(call.hero, "WRONG_SERVICE")
    rows = _read(call, lambda c: c.get_list_of_top_countries_by_service(service=service))
    shown = [row for row in rows if _sees_country(call, row.country)]
    return answers.as_json(call.hero, answers.country_shares(shown))


@action("getCountries")
@_answering
def get_countries(call: Call) -> Answer:
    """Every country with its names and flags."""
    rows = _cached_names(call, "countries", lambda c: c.get_countries())
    shown = [row for row in rows if _sees_country(call, row.id)]
    return answers.as_json(call.hero, answers.countries(shown))


@action("getServicesList")
@_answering
def get_services_list(call: Call) -> Answer:
    """Service codes and names (of one country, in one language, when asked)."""
    country, lang = _country(call), _param(call, "lang")
    rows = _cached_names(
        call,
        f"services:{country}:{lang}" if _plain(country, lang) else None,
        lambda c: c.get_services_list(country=country, lang=lang),
    )
    if country is not None and not _sees_country(call, country):
        rows = []
    shown = [row for row in rows if _sees_service(call, row.code)]
    return answers.as_json(call.hero, answers.services_list(shown))


@action("getOperators")
@_answering
def get_operators(call: Call) -> Answer:
    """Operators per country; `OPERATORS_NOT_FOUND` where there are none."""
    country = _country(call)
    by_country = _cached_names(
        call, f"operators:{country}" if _plain(country) else None, lambda c: c.get_operators(country=country)
    )
    shown = {code: names for code, names in by_country.items() if _sees_country(call, code)}
    if not any(shown.values()):
        return answers.error(call.hero, "OPERATORS_NOT_FOUND")
    return answers.as_json(call.hero, answers.operators(shown))


@action("getRentServicesAndCountries")
@_answering
def get_rent_services_and_countries(call: Call) -> Answer:
    """What can be rented in one country for a length of hours (a read: renting comes with the rent actions)."""
    country = _country(call)
    hours = _int(_param(call, "rent_time", "time", "duration"))
    catalog = _read(
        call,
        lambda c: c.get_rent_services_and_countries(
            rent_time=hours, operator=_param(call, "operator"), country=country
        ),
    )
    countries = tuple(c for c in catalog.countries if _sees_country(call, c))
    if not _sees_country(call, DEFAULT_COUNTRY if country is None else country) or (
        catalog.countries and not countries
    ):
        catalog = type(catalog)(countries=(), operators=(), services=())
    else:
        offers = tuple(o for o in catalog.services if _sees_service(call, o.service))
        catalog = type(catalog)(countries=countries, operators=catalog.operators, services=offers)
    return answers.as_json(call.hero, answers.rent_catalog(catalog))


def _visible_history(call: Call, rows: list[HistoryEntry]) -> list[HistoryEntry]:
    """A limited key sees the rows simdesk's records place in its services and countries (the protocol's
    history rows name neither reliably); a row simdesk does not know is left out for it."""
    if _allowed_services(call) is None and _allowed_countries(call) is None:
        return rows
    known = Activation.objects.filter(
        team=call.gateway_key.team,
        api_key=call.api_key,
        upstream_id__in=[row.activation_id for row in rows],
    ).values_list("upstream_id", "service", "country")
    recorded = {upstream_id: (service, country) for upstream_id, service, country in known}
    return [
        row
        for row in rows
        if row.activation_id in recorded
        and _sees_service(call, recorded[row.activation_id][0])
        and _sees_country(call, recorded[row.activation_id][1])
    ]


@action("getHistory")
@_answering
def get_history(call: Call) -> Answer:
    """The upstream key's past activations between two Unix times (the team's record of that key)."""
    rows = _read(
        call,
        lambda c: c.get_history(
            start=_as_sent(call, "start"),
            end=_as_sent(call, "end"),
            offset=_int(_param(call, "offset")),
            size=_int(_param(call, "size", "limit")),
        ),
    )
    shown = _visible_history(call, rows)
    profile = profile_for_key(call.api_key)
    return answers.as_json(
        call.hero,
        answers.history(shown, hero=call.hero, zone=profile.timezone, currency=call.api_key.currency),
    )
