"""Reads of a provider's catalogue: countries, services and operators with names, prices and stock.

`Names` reads the catalogue the sweeper stored (`providers.catalog.catalog_sync`) in the active language.

Names change rarely and are cached for an hour; prices and stock move and are cached for 30 seconds.
The cache key is the provider's endpoint (not the team key): every key of one provider shares one
catalogue, and no secret ever reaches a cache key. A failed read is cached briefly too, so a provider
that is down is not asked again on every page view.
"""

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
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
    """One entry of a catalogue list: the protocol's code, its name in the reader's language, and its names
    in the provider's other languages (`aliases`), so a name typed in any of them is understood."""

    code: str
    name: str
    aliases: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        """Every lower-case spelling a member may type for this entry: the code and each name."""
        return tuple({text.strip().lower() for text in (self.code, self.name, *self.aliases) if text.strip()})


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

    def __init__(self, provider: Provider | Iterable[Provider] | None, language: str | None = None):
        self.language = language or get_language()
        self.countries: dict[int, str] = {}
        self.services: dict[str, str] = {}
        # Every name of each entry, in each of the provider's languages (what a member may type).
        self.country_aliases: dict[int, tuple[str, ...]] = {}
        self.service_aliases: dict[str, tuple[str, ...]] = {}
        providers = [provider] if isinstance(provider, Provider) else list(provider or ())
        # Several providers: the first one to name an entry names it (their catalogues mostly agree).
        for one in providers:
            for c in CatalogCountry.objects.filter(provider=one):
                self.countries.setdefault(c.code, c.name_in(self.language))
                self.country_aliases.setdefault(c.code, _names(c.name_eng, c.name_rus, c.name_chn))
            for s in CatalogService.objects.filter(provider=one):
                self.services.setdefault(s.code, s.name_in(self.language))
                self.service_aliases.setdefault(s.code, _names(s.name_en, s.name_ru))

    def country_options(self) -> list[Option]:
        """The countries as picker entries, by name."""
        return _sorted_options(
            (code, name, self.country_aliases.get(code, ())) for code, name in self.countries.items()
        )

    def service_options(self) -> list[Option]:
        """The services as picker entries, by name."""
        return _sorted_options(
            (code, name, self.service_aliases.get(code, ())) for code, name in self.services.items()
        )

    def country_name(self, code: int | str | None) -> str:
        """The country's name in the reader's language, or "" when the catalogue does not name it."""
        try:
            return self.countries.get(int(code), "") if code is not None else ""  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return ""

    def service_name(self, code: str | None) -> str:
        """The service's name as the provider gives it, or "" when the catalogue does not name it."""
        name = self.services.get(code or "", "")
        return "" if name == code else name

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


def _names(*names: str) -> tuple[str, ...]:
    return tuple(name for name in names if name)


def _stored_names(api_key: ApiKey) -> Names | None:
    """The provider's catalogue as the sweeper stored it (names in the active language), once synced."""
    provider = provider_of(api_key)
    if provider is None or provider.catalog_synced_at is None:
        return None
    return Names(provider)


def _sorted_options(entries: Iterable[tuple[Any, str, tuple[str, ...]]]) -> list[Option]:
    return sorted(
        (Option(code=str(code), name=name or str(code), aliases=aliases) for code, name, aliases in entries),
        key=lambda o: o.name.lower(),
    )


def countries(api_key: ApiKey, *, allow_fetch: bool = True) -> list[Option]:
    """Every country of the provider in the reader's language: from the stored catalogue when synced, else
    getCountries (cached with all its names, so the language is chosen per reader)."""
    stored = _stored_names(api_key)
    if stored is not None and stored.countries:
        return stored.country_options()

    def fetch() -> list[tuple[int, str, str, str]]:
        rows = client_for_key(api_key).get_countries()
        return [(c.id, c.eng, c.rus, c.chn) for c in rows if c.visible is not False]

    rows = _cached(api_key, "countries:names", NAMES_TTL, fetch, allow_fetch=allow_fetch)
    russian = (get_language() or "en").lower().startswith("ru")
    return _sorted_options(
        (code, (rus if russian else eng) or eng or rus, _names(eng, rus, chn)) for code, eng, rus, chn in rows
    )


def services(api_key: ApiKey, *, allow_fetch: bool = True) -> list[Option]:
    """Every service of the provider: from the stored catalogue when synced, else getServicesList (English);
    empty where the provider lacks the action."""
    stored = _stored_names(api_key)
    if stored is not None and stored.services:
        return stored.service_options()
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


def service_label(api_key: ApiKey, code: str) -> str:
    """A service's name for a sentence ("Bought +7... for Telegram."), its code when the catalogue lacks it."""
    return names(api_key)[1].get(code) or code


# --- names typed by a member: one lookup for every picker and filter ---------------------------------


def _typed(text: str) -> str:
    """What a member typed, as the lists compare it; "Name (code)", as a list may show, is its code."""
    text = " ".join(text.split()).lower()
    match = re.fullmatch(r".*\((?P<code>[^()]+)\)", text)
    return match.group("code").strip() if match else text


def resolve(text: str, options: Iterable[Option]) -> Option | None:
    """The entry whose code or name (in any of the provider's languages) is `text`, case-insensitive."""
    typed = _typed(text)
    if not typed:
        return None
    for option in options:
        if typed == option.code.lower():
            return option
    for option in options:
        if typed in option.spellings():
            return option
    return None


def matching(text: str, options: Iterable[Option]) -> list[Option]:
    """Entries a search for `text` finds: the one with that code, and every one with `text` in a name."""
    typed = _typed(text)
    if not typed:
        return []
    return [
        option
        for option in options
        if typed == option.code.lower()
        or any(typed in name.lower() for name in (option.name, *option.aliases))
    ]


@dataclass(frozen=True)
class Catalogue:
    """The countries and services of one or more keys' providers, for pickers and for naming codes in lists."""

    countries: list[Option]
    services: list[Option]

    @cached_property
    def _country_names(self) -> dict[str, str]:
        return {o.code: o.name for o in self.countries if o.name != o.code}

    @cached_property
    def _service_names(self) -> dict[str, str]:
        return {o.code: o.name for o in self.services if o.name != o.code}

    def country_name(self, code: int | str | None) -> str:
        """The country's name in the reader's language, or "" when no catalogue names it."""
        return self._country_names.get("" if code is None else str(code), "")

    def service_name(self, code: str | None) -> str:
        """The service's name, or "" when no catalogue names it (or its name is its code)."""
        return self._service_names.get(code or "", "")


def catalogue_for(api_keys: Iterable[ApiKey], *, allow_fetch: bool = False) -> Catalogue:
    """The merged catalogue of the keys' providers (each endpoint read once); what cannot be read is left
    out. Lists read what is stored or cached by default; forms that resolve a typed name may fetch."""
    seen: set[str] = set()
    country_rows: dict[str, Option] = {}
    service_rows: dict[str, Option] = {}
    for api_key in api_keys:
        endpoint = provider_cache_id(api_key)
        if endpoint in seen:
            continue
        seen.add(endpoint)
        for read, rows in ((countries, country_rows), (services, service_rows)):
            try:
                for option in read(api_key, allow_fetch=allow_fetch):
                    rows.setdefault(option.code, option)
            except CatalogUnavailable:
                pass
    return Catalogue(
        countries=sorted(country_rows.values(), key=lambda o: o.name.lower()),
        services=sorted(service_rows.values(), key=lambda o: o.name.lower()),
    )


# --- the same entry at another provider ----------------------------------------------------------------


def _entry_names(option: Option) -> set[str]:
    """An entry's names in every language the provider gives, without its code."""
    return {text.strip().lower() for text in (option.name, *option.aliases) if text.strip()} - {
        option.code.lower()
    }


def _equivalent(code: str, source: list[Option], target: list[Option]) -> str | None:
    """`code` of the source list as the target list codes the same entry: matched by name in any language,
    since providers number countries and name services their own way; the same code where either list does
    not name it. None: the target does not list it."""
    if not target:
        return code
    by_code = {option.code: option for option in target}
    named = next((option for option in source if option.code == code), None)
    names = _entry_names(named) if named is not None else set()
    if not names:
        return code if code in by_code else None
    same = by_code.get(code)
    if same is not None and (names & _entry_names(same) or not _entry_names(same)):
        return code
    return next((option.code for option in target if names & _entry_names(option)), None)


def equivalent_codes(source: ApiKey, target: ApiKey, *, service: str, country: int) -> tuple[str, int] | None:
    """`service` and `country` as coded at `source`'s provider, coded as `target`'s provider codes the same
    service and country (each provider's own lists, cached); None when `target` does not sell them. Keys of
    one provider share its codes."""
    if provider_cache_id(source) == provider_cache_id(target):
        return service, country
    try:
        mapped_country = _equivalent(str(country), countries(source), countries(target))
    except CatalogUnavailable:
        mapped_country = str(country)
    try:
        mapped_service = _equivalent(service, services(source), services(target))
    except CatalogUnavailable:
        mapped_service = service
    if mapped_country is None or mapped_service is None:
        return None
    return mapped_service, int(mapped_country)
