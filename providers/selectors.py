"""Reads of a provider's catalogue: countries, services and operators with names, prices and stock.

`Names` reads the catalogue the sweeper stored (`providers.catalog.catalog_sync`) in the active language.

Names change rarely and are cached for an hour; prices and stock move and are cached for 30 seconds.
The cache key is the provider's endpoint (not the team key): every key of one provider shares one
catalogue, and no secret ever reaches a cache key. A failed read is cached briefly too, so a provider
that is down is not asked again on every page view.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import ApiKey
from providers import errors
from providers.keys import client_for_key, profile_for_key, provider_cache_id, provider_of
from providers.models import CatalogCountry, CatalogService, Provider

logger = logging.getLogger(__name__)

NAMES_TTL = 60 * 60
PRICES_TTL = 30
FAILURE_TTL = 60
# Marks a cached failure.
_FAILED = "__catalog_failed__"

T = TypeVar("T")


@dataclass(frozen=True)
class Option:
    """One entry of a catalogue list: the protocol's code and a human name."""

    code: str
    name: str


@dataclass(frozen=True)
class Offer:
    """The current price and stock of one service in one country."""

    cost: Decimal
    count: int
    currency: str


class CatalogUnavailable(Exception):
    """The provider's catalogue could not be read (down, refused, or not supported)."""


class Names:
    """Country and service names of one provider's catalog in the active language, with code fallbacks."""

    def __init__(self, provider: Provider | None, language: str | None = None):
        self.language = language or get_language()
        self.countries: dict[int, str] = {}
        self.services: dict[str, str] = {}
        if provider is not None:
            self.countries = {
                c.code: c.name_in(self.language) for c in CatalogCountry.objects.filter(provider=provider)
            }
            self.services = {
                s.code: s.name_in(self.language) for s in CatalogService.objects.filter(provider=provider)
            }

    def country(self, code: int) -> str:
        return self.countries.get(code) or _("Country %(code)s") % {"code": code}

    def service(self, code: str) -> str:
        name = self.services.get(code)
        return f"{name} ({code})" if name and name != code else code


def _cached(api_key: ApiKey, name: str, ttl: int, fetch: Callable[[], T], *, allow_fetch: bool = True) -> T:
    """Read `name` from the cache or the provider; raises CatalogUnavailable on a (cached) failure."""
    key = f"catalog:{provider_cache_id(api_key)}:{name}"
    # Stored wrapped in a tuple, so a legitimate None ("no price") is a hit, not a miss.
    hit: Any = cache.get(key)
    if hit == _FAILED:
        raise CatalogUnavailable(name)
    if hit is not None:
        return hit[0]
    if not allow_fetch:
        raise CatalogUnavailable(name)
    try:
        value = fetch()
    except errors.ProviderError as exc:
        logger.info("catalogue read %s failed: %s", name, exc.code)
        cache.set(key, _FAILED, FAILURE_TTL)
        raise CatalogUnavailable(name) from None
    cache.set(key, (value,), ttl)
    return value


def _stored_names(api_key: ApiKey) -> Names | None:
    """The provider's catalogue as the sweeper stored it (names in the active language), once synced."""
    provider = provider_of(api_key)
    if provider is None or provider.catalog_synced_at is None:
        return None
    return Names(provider)


def _sorted_options(pairs: Iterable[tuple[Any, str]]) -> list[Option]:
    return sorted(
        (Option(code=str(code), name=name or str(code)) for code, name in pairs), key=lambda o: o.name.lower()
    )


def countries(api_key: ApiKey, *, allow_fetch: bool = True) -> list[Option]:
    """Every country of the provider: from the stored catalogue when synced, else getCountries (English)."""
    stored = _stored_names(api_key)
    if stored is not None and stored.countries:
        return _sorted_options(stored.countries.items())

    def fetch() -> list[Option]:
        rows = client_for_key(api_key).get_countries()
        return sorted(
            (
                Option(code=str(c.id), name=c.eng or c.rus or str(c.id))
                for c in rows
                if c.visible is not False
            ),
            key=lambda o: o.name.lower(),
        )

    return _cached(api_key, "countries", NAMES_TTL, fetch, allow_fetch=allow_fetch)


def services(api_key: ApiKey, *, allow_fetch: bool = True) -> list[Option]:
    """Every service of the provider: from the stored catalogue when synced, else getServicesList (English);
    empty where the provider lacks the action."""
    stored = _stored_names(api_key)
    if stored is not None and stored.services:
        return _sorted_options(stored.services.items())
    if not profile_for_key(api_key).supports_action("getServicesList"):
        return []

    def fetch() -> list[Option]:
        rows = client_for_key(api_key).get_services_list(lang="en")
        return sorted(
            (Option(code=s.code, name=s.name or s.code) for s in rows), key=lambda o: o.name.lower()
        )

    return _cached(api_key, "services", NAMES_TTL, fetch, allow_fetch=allow_fetch)


def operators(api_key: ApiKey, country: int) -> list[str]:
    """The operators of one country (getOperators); empty where the provider has none or lacks the action."""
    if not profile_for_key(api_key).supports_action("getOperators"):
        return []

    def fetch() -> list[str]:
        return list(client_for_key(api_key).get_operators(country=country).get(country, ()))

    return _cached(api_key, f"operators:{country}", NAMES_TTL, fetch)


def offer(api_key: ApiKey, *, service: str, country: int) -> Offer | None:
    """Price and stock of `service` in `country` now (getPrices); None when the provider sells none."""

    def fetch() -> Offer | None:
        for entry in client_for_key(api_key).get_prices(service=service, country=country):
            if entry.service == service and entry.country == country:
                count = entry.physical_count if entry.physical_count is not None else entry.count
                return Offer(cost=entry.cost, count=count, currency=api_key.currency)
        return None

    return _cached(api_key, f"price:{service}:{country}", PRICES_TTL, fetch)


def names(api_key: ApiKey, *, allow_fetch: bool = False) -> tuple[dict[str, str], dict[str, str]]:
    """(country id -> name, service code -> name) for labels; empty maps when the catalogue is not at hand.

    Live pages poll every few seconds, so by default they only read what is already cached.
    """
    try:
        country_map = {o.code: o.name for o in countries(api_key, allow_fetch=allow_fetch)}
    except CatalogUnavailable:
        country_map = {}
    try:
        service_map = {o.code: o.name for o in services(api_key, allow_fetch=allow_fetch)}
    except CatalogUnavailable:
        service_map = {}
    return country_map, service_map
