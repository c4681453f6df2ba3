"""HTTP client for the SMS-Activate ``handler_api.php`` protocol and its compatible providers.

One keyword-only method per action, documented parameter names on the wire, typed results from
``providers.results`` and one exception per documented error from ``providers.errors``.

Safety rules kept here:

* the API key never leaves the query string: not in a message, a log line, a repr, nor chained
  into a traceback (transport and JSON exceptions are replaced, never wrapped);
* read-only actions retry temporary failures with a short backoff; actions that spend money or
  change state are sent exactly once, because nothing in the protocol de-duplicates them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from providers import parsing
from providers.errors import (
    NoActivations,
    NoNumbers,
    OperatorsNotFound,
    ProtocolError,
    ProviderError,
    RateLimited,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from providers.parsing import Answer, ShapeError
from providers.profiles import DEFAULT_PATH
from providers.results import (
    ActivationStatus,
    ActiveActivation,
    AdditionalNumber,
    Balance,
    ContinueRentPrice,
    Country,
    CountryShare,
    ExtraActivationPrice,
    HistoryEntry,
    IncomingCallStatus,
    MultiServiceNumber,
    NumberOrder,
    OutgoingCall,
    PriceEntry,
    RentCatalog,
    RentListEntry,
    RentOrder,
    RentStatus,
    Rows,
    Service,
    ServiceStock,
    SetStatusResult,
    TopCountry,
)

if TYPE_CHECKING:
    from providers.profiles import ProviderProfile

logger = logging.getLogger(__name__)

# Actions that buy something: sent once, never retried (protocol.md quirk 24).
SPENDING_ACTIONS: frozenset[str] = frozenset(
    {
        "getNumber",
        "getNumberV2",
        "getMultiServiceNumber",
        "getRentNumber",
        "continueRentNumber",
        "getExtraActivation",
        "getAdditionalService",
    }
)
# Actions that change state without buying: also sent once.
STATE_CHANGING_ACTIONS: frozenset[str] = frozenset({"setStatus", "setRentStatus", "createTaskForCall"})
# Only these may be repeated after a temporary failure.
READ_ACTIONS: frozenset[str] = frozenset(
    {
        "getBalance",
        "getBalanceAndCashBack",
        "getNumbersStatus",
        "getTopCountriesByService",
        "getTopCountriesByServiceRank",
        "getOperators",
        "getActiveActivations",
        "getStatus",
        "getHistory",
        "getListOfTopCountriesByService",
        "getIncomingCallStatus",
        "getPrices",
        "getPricesExtended",
        "getPricesVerification",
        "getCountries",
        "getServicesList",
        "checkExtraActivation",
        "getOutgoingCalls",
        "getRentServicesAndCountries",
        "getRentStatus",
        "getRentList",
        "getContinueRentPriceNumber",
    }
)

# Pauses before the 1st, 2nd, ... retry of a read; the last value repeats.
BACKOFF_SECONDS: tuple[float, ...] = (0.3, 1.0)
# A rate limit asking for a longer wait than this is handed to the caller instead of slept through.
MAX_RATE_LIMIT_WAIT = 5.0
USER_AGENT = "simdesk"

_sleep = time.sleep

ParamValue = str | int | Decimal | None


def _setting(name: str, default: Any) -> Any:
    """A Django setting, or ``default`` when Django is absent or not configured."""
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return default
    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default


def _join(values: str | Iterable[str] | None) -> str | None:
    """Comma list for parameters that accept several values (operators, prefixes, services)."""
    if values is None:
        return None
    if isinstance(values, str):
        return values or None
    joined = ",".join(str(value) for value in values)
    return joined or None


def _flag01(value: bool | None) -> str | None:
    return None if value is None else ("1" if value else "0")


def _flag_true(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _mask(secret: str) -> str:
    # Short keys would be fully revealed by their last four characters.
    return parsing.MASK + secret[-4:] if len(secret) >= 12 else parsing.MASK


class ProviderClient:
    """A client for one API key at one provider.

    ``dialect`` is ``"classic"`` (SMS-Activate) or ``"hero"`` (HeroSMS); the parser accepts both
    answer styles either way, the dialect only picks request parameters that differ (rent length).
    ``currency`` labels amounts whose answer carries none; ``provider_tz`` is the zone of naive
    upstream times. ``timeout`` is ``(connect, read)`` seconds and ``read_retries`` the number of
    extra attempts for read-only actions; both default from Django settings.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        dialect: Literal["classic", "hero"] | str = "classic",
        currency: str | None = None,
        provider_tz: str = "Europe/Moscow",
        session: requests.Session | None = None,
        timeout: tuple[float, float] | None = None,
        read_retries: int | None = None,
        path: str = DEFAULT_PATH,
        throttle: Callable[[], None] | None = None,
        guard: Callable[[str], None] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if dialect not in ("classic", "hero"):
            raise ValueError("dialect must be 'classic' or 'hero'")
        self.base_url = base_url.rstrip("/")
        self.endpoint = self.base_url + "/" + path.lstrip("/")
        self._api_key = api_key
        self.dialect = dialect
        self.currency = currency
        self.provider_tz: tzinfo = ZoneInfo(provider_tz)
        self._own_session = session is None
        self.session = session if session is not None else requests.Session()
        self.timeout: tuple[float, float] = timeout or (
            float(_setting("PROVIDER_CONNECT_TIMEOUT", 5.0)),
            float(_setting("PROVIDER_READ_TIMEOUT", 20.0)),
        )
        self.read_retries = int(
            read_retries if read_retries is not None else _setting("PROVIDER_READ_RETRIES", 2)
        )
        # Called before every request: waits for the key's shared request budget (providers/ratelimit.py).
        self.throttle = throttle
        # Called with the endpoint before every request: raises to refuse an address (providers/outbound.py).
        self.guard = guard
        # Country slug -> id from this provider's getCountries, read once when an answer names countries by slug.
        self._slug_ids: Mapping[str, int] | None = None

    @classmethod
    def for_profile(
        cls,
        profile: ProviderProfile,
        api_key: str,
        base_url: str | None = None,
        **options: Any,
    ) -> ProviderClient:
        """A client configured from a ``ProviderProfile``; ``base_url`` overrides the profile's (custom)."""
        url = base_url or profile.base_url
        if not url:
            raise ValueError(f"the {profile.name} profile needs a base URL")
        return cls(
            url,
            api_key,
            dialect=profile.dialect,
            currency=profile.currency,
            provider_tz=profile.timezone,
            path=profile.path,
            **options,
        )

    def __repr__(self) -> str:
        return f"ProviderClient(base_url={self.base_url!r}, api_key={_mask(self._api_key)!r})"

    def close(self) -> None:
        """Close the HTTP session if the client created it."""
        if self._own_session:
            self.session.close()

    def __enter__(self) -> ProviderClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transport ------------------------------------------------------------------------

    def _call(self, action: str, params: dict[str, ParamValue] | None = None) -> Answer:
        """Send ``action`` (retrying only reads) and return the decoded answer or raise its error."""
        attempts = 1 + max(self.read_retries, 0) if action in READ_ACTIONS else 1
        for attempt in range(attempts):
            try:
                return self._send(action, params or {})
            except ProviderError as error:
                if not error.temporary or attempt + 1 >= attempts:
                    raise
                delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS) - 1)]
                if isinstance(error, RateLimited) and error.retry_after is not None:
                    if error.retry_after > MAX_RATE_LIMIT_WAIT:
                        raise
                    delay = max(delay, error.retry_after)
                _sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, action: str, params: dict[str, ParamValue]) -> Answer:
        query: dict[str, str] = {"api_key": self._api_key, "action": action}
        query.update({key: str(value) for key, value in params.items() if value is not None})
        if self.guard is not None:
            self.guard(self.endpoint)
        if self.throttle is not None:
            self.throttle()
        started = time.monotonic()
        failure: ProviderError | None = None
        response: requests.Response | None = None
        try:
            response = self.session.get(
                self.endpoint,
                params=query,
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT, "Accept": "text/plain, application/json, */*"},
            )
            body = response.content
        except (requests.RequestException, OSError) as exc:
            failure = _transport_error(exc)
        elapsed_ms = int((time.monotonic() - started) * 1000)
        # Raised outside the except block so the original exception (whose text holds the full
        # URL with the key) is not even attached as __context__.
        if failure is not None or response is None:
            logger.debug("provider action=%s status=- elapsed_ms=%d", action, elapsed_ms)
            raise failure or UpstreamUnavailable()
        logger.debug("provider action=%s status=%d elapsed_ms=%d", action, response.status_code, elapsed_ms)
        return parsing.decode_answer(
            body,
            response.status_code,
            secret=self._api_key,
            provider_tz=self.provider_tz,
            retry_after=response.headers.get("Retry-After"),
        )

    def _parse(self, action: str, answer: Answer, parser: Any, *args: Any) -> Any:
        """Run ``parser``; a shape mismatch becomes a ``ProtocolError`` with a scrubbed excerpt."""
        failure: str | None = None
        try:
            result = parser(answer, *args)
        except ShapeError as exc:
            failure = str(exc)
        else:
            if isinstance(result, Rows) and result.damaged:
                # Once per answer; the problems name fields only, never a value of the answer.
                logger.warning(
                    "provider action=%s damaged_rows=%d skipped_rows=%d kept_rows=%d problems=%s",
                    action,
                    result.damaged,
                    result.skipped,
                    len(result),
                    "; ".join(result.problems[:5]),
                )
            return result
        raise ProtocolError(
            f"Unexpected answer to {action}: {failure}.",
            excerpt=parsing.make_excerpt(answer.text, self._api_key),
            http_status=answer.http_status,
        )

    # --- account and catalogue ------------------------------------------------------------

    def get_balance(self) -> Balance:
        """``getBalance``: the account balance."""
        return self._parse("getBalance", self._call("getBalance"), parsing.parse_balance, self.currency)

    def get_balance_and_cashback(self) -> Balance:
        """``getBalanceAndCashBack``: the balance including cashback (if spending cashback is enabled)."""
        answer = self._call("getBalanceAndCashBack")
        return self._parse("getBalanceAndCashBack", answer, parsing.parse_balance, self.currency)

    def get_numbers_status(
        self, *, country: int | None = None, operator: str | Sequence[str] | None = None
    ) -> list[ServiceStock]:
        """``getNumbersStatus``: numbers available per service (and forwarding flag)."""
        answer = self._call("getNumbersStatus", {"country": country, "operator": _join(operator)})
        return self._parse("getNumbersStatus", answer, parsing.parse_numbers_status)

    def get_top_countries_by_service(
        self, *, service: str | None = None, free_price: bool | None = None, by_rank: bool = False
    ) -> Rows[TopCountry]:
        """``getTopCountriesByService``: best countries for one service (or all), with Free Price maps;
        ``by_rank`` asks ``getTopCountriesByServiceRank`` (the account's rank prices, HeroSMS), same shape.

        Rows SMSBower keys by country slug get their id from the provider's own getCountries (read once
        per client); a slug it does not list keeps ``country`` ``None`` and its ``country_slug``.
        """
        action = "getTopCountriesByServiceRank" if by_rank else "getTopCountriesByService"
        answer = self._call(action, {"service": service, "freePrice": _flag_true(free_price)})
        rows: Rows[TopCountry] = self._parse(action, answer, parsing.parse_top_countries, service)
        if any(row.country is None and row.country_slug for row in rows):
            rows = parsing.with_country_ids(rows, self._country_slug_ids())
        return rows

    def _country_slug_ids(self) -> Mapping[str, int]:
        if self._slug_ids is None:
            try:
                countries = self.get_countries()
            except ProviderError as exc:
                # The rows stay readable by slug; the next answer tries the country list again.
                logger.info("provider action=getCountries for country slugs failed: %s", exc.code)
                return {}
            self._slug_ids = parsing.country_slug_ids(countries)
        return self._slug_ids

    def get_operators(self, *, country: int | None = None) -> dict[int, tuple[str, ...]]:
        """``getOperators``: operators per country; ``{}`` when the provider has none (``OPERATORS_NOT_FOUND``)."""
        try:
            answer = self._call("getOperators", {"country": country})
        except OperatorsNotFound:
            return {}
        return self._parse("getOperators", answer, parsing.parse_operators)

    def get_countries(self) -> list[Country]:
        """``getCountries``: every country, sorted by id."""
        return self._parse("getCountries", self._call("getCountries"), parsing.parse_countries)

    def get_services_list(self, *, country: int | None = None, lang: str | None = None) -> list[Service]:
        """``getServicesList``: service codes and names (``lang`` e.g. ``en``, ``ru``)."""
        answer = self._call("getServicesList", {"country": country, "lang": lang})
        return self._parse("getServicesList", answer, parsing.parse_services_list)

    def get_prices(self, *, service: str | None = None, country: int | None = None) -> Rows[PriceEntry]:
        """``getPrices``: cost and stock per country and service (``[]`` when nothing matches)."""
        answer = self._call("getPrices", {"service": service, "country": country})
        return self._parse("getPrices", answer, parsing.parse_prices)

    def get_prices_extended(
        self, *, service: str | None = None, country: int | None = None
    ) -> Rows[PriceEntry]:
        """``getPricesExtended``: ``getPrices`` with the real stock (``physicalCount``) in every cell."""
        answer = self._call("getPricesExtended", {"service": service, "country": country})
        return self._parse("getPricesExtended", answer, parsing.parse_prices)

    def get_prices_verification(self, *, service: str | None = None) -> Rows[PriceEntry]:
        """``getPricesVerification``: prices of numbers able to receive a verification call."""
        answer = self._call("getPricesVerification", {"service": service})
        return self._parse("getPricesVerification", answer, parsing.parse_prices_verification)

    def get_list_of_top_countries_by_service(self, *, service: str) -> list[CountryShare]:
        """``getListOfTopCountriesByService``: share of purchases and success rate per country."""
        answer = self._call("getListOfTopCountriesByService", {"service": service})
        return self._parse("getListOfTopCountriesByService", answer, parsing.parse_list_of_top_countries)

    # --- activations ----------------------------------------------------------------------

    def _number_params(
        self,
        *,
        service: str,
        country: int | None,
        operator: str | Sequence[str] | None,
        forward: bool | None,
        max_price: Decimal | str | None,
        phone_exception: str | Sequence[str] | None,
        ref: str | None,
        verification: bool | None,
    ) -> dict[str, ParamValue]:
        return {
            "service": service,
            "forward": _flag01(forward),
            "operator": _join(operator),
            "ref": ref,
            "country": country,
            "phoneException": _join(phone_exception),
            "maxPrice": str(max_price) if max_price is not None else None,
            "verification": "true" if verification else None,
        }

    def get_number(
        self,
        *,
        service: str,
        country: int | None = None,
        operator: str | Sequence[str] | None = None,
        forward: bool | None = None,
        max_price: Decimal | str | None = None,
        phone_exception: str | Sequence[str] | None = None,
        ref: str | None = None,
        verification: bool | None = None,
    ) -> NumberOrder:
        """``getNumber``: buy a number (id and phone only). Spends money; never retried."""
        params = self._number_params(
            service=service,
            country=country,
            operator=operator,
            forward=forward,
            max_price=max_price,
            phone_exception=phone_exception,
            ref=ref,
            verification=verification,
        )
        answer = self._call("getNumber", params)
        return self._parse("getNumber", answer, parsing.parse_number_token, self.provider_tz, self.currency)

    def get_number_v2(
        self,
        *,
        service: str,
        country: int | None = None,
        operator: str | Sequence[str] | None = None,
        forward: bool | None = None,
        max_price: Decimal | str | None = None,
        phone_exception: str | Sequence[str] | None = None,
        ref: str | None = None,
        verification: bool | None = None,
    ) -> NumberOrder:
        """``getNumberV2``: buy a number with cost, times and operator. Spends money; never retried."""
        params = self._number_params(
            service=service,
            country=country,
            operator=operator,
            forward=forward,
            max_price=max_price,
            phone_exception=phone_exception,
            ref=ref,
            verification=verification,
        )
        answer = self._call("getNumberV2", params)
        return self._parse("getNumberV2", answer, parsing.parse_number_v2, self.provider_tz, self.currency)

    def get_multi_service_number(
        self,
        *,
        multi_service: str | Sequence[str],
        multi_forward: Sequence[bool] | str | None = None,
        operator: str | Sequence[str] | None = None,
        ref: str | None = None,
        country: int | None = None,
    ) -> list[MultiServiceNumber]:
        """``getMultiServiceNumber``: one number for several services (``multiService``/``multiForward``).

        ``multi_forward`` has one flag per service, at most one true. Spends money; never retried.
        """
        if multi_forward is None or isinstance(multi_forward, str):
            forwards = multi_forward or None
        else:
            forwards = ",".join("1" if flag else "0" for flag in multi_forward)
        params: dict[str, ParamValue] = {
            "multiService": _join(multi_service),
            "multiForward": forwards,
            "operator": _join(operator),
            "ref": ref,
            "country": country,
        }
        answer = self._call("getMultiServiceNumber", params)
        return self._parse("getMultiServiceNumber", answer, parsing.parse_multi_service)

    def set_status(self, *, id: str | int, status: int, forward: str | None = None) -> SetStatusResult:
        """``setStatus``: 1 SMS sent, 3 ask for another code, 6 finish, 8 cancel. Never retried."""
        answer = self._call("setStatus", {"id": str(id), "status": status, "forward": forward})
        return self._parse("setStatus", answer, parsing.parse_set_status)

    def get_status(self, *, id: str | int) -> ActivationStatus:
        """``getStatus``: the activation state and its code, if any."""
        answer = self._call("getStatus", {"id": str(id)})
        return self._parse("getStatus", answer, parsing.parse_status)

    def get_active_activations(
        self, *, start: int | None = None, limit: int | None = None
    ) -> Rows[ActiveActivation]:
        """``getActiveActivations``: every live activation of the key; ``[]`` for ``NO_ACTIVATIONS``.

        ``start``/``limit`` page HeroSMS and Tiger; other providers ignore them. Read row by row: a row with
        a malformed field is kept with that field empty, ``.damaged`` counts such rows (see ``Rows``).
        """
        try:
            answer = self._call("getActiveActivations", {"start": start, "limit": limit})
        except NoActivations:
            return Rows()
        return self._parse(
            "getActiveActivations", answer, parsing.parse_active_activations, self.provider_tz, self.currency
        )

    def get_all_active_activations(self, *, page_size: int = 100) -> Rows[ActiveActivation]:
        """Every page of ``getActiveActivations``: HeroSMS and Tiger answer at most ``limit`` rows (100) per call.

        Providers that do not page ignore ``start`` and answer the whole list again: a page that adds
        no new id ends the walk, so they cost one extra call only when they hold a full page. ``.damaged``
        and ``.skipped`` add up the pages' counts.
        """
        rows: dict[str, ActiveActivation] = {}
        damaged = skipped = 0
        problems: list[str] = []
        start = 0
        while True:
            page = self.get_active_activations(start=start, limit=page_size)
            damaged += page.damaged
            skipped += page.skipped
            problems.extend(page.problems)
            before = len(rows)
            for row in page:
                rows.setdefault(row.activation_id, row)
            # A skipped row is part of the page the provider sent: it counts towards a full page.
            sent = len(page) + page.skipped
            if sent < page_size or len(rows) == before:
                return Rows(
                    rows.values(), damaged=damaged, skipped=skipped, problems=tuple(dict.fromkeys(problems))
                )
            start += sent

    def get_history(
        self,
        *,
        start: int | datetime | None = None,
        end: int | datetime | None = None,
        offset: int | None = None,
        size: int | None = None,
    ) -> Rows[HistoryEntry]:
        """``getHistory``: past activations between ``start`` and ``end`` (Unix seconds or aware datetimes),
        read row by row (``.damaged``, see ``Rows``)."""
        params: dict[str, ParamValue] = {
            "start": _unix(start),
            "end": _unix(end),
            "offset": offset,
            "size": size,
        }
        answer = self._call("getHistory", params)
        return self._parse("getHistory", answer, parsing.parse_history, self.provider_tz, self.currency)

    def get_incoming_call_status(self, *, activation_id: str | int) -> IncomingCallStatus:
        """``getIncomingCallStatus``: state of a call-verification activation."""
        answer = self._call("getIncomingCallStatus", {"activationId": str(activation_id)})
        return self._parse("getIncomingCallStatus", answer, parsing.parse_incoming_call)

    def get_additional_service(self, *, service: str, id: str | int) -> AdditionalNumber:
        """``getAdditionalService``: add a service to a forwarding number. Spends money; never retried."""
        answer = self._call("getAdditionalService", {"service": service, "id": str(id)})
        return self._parse("getAdditionalService", answer, parsing.parse_additional)

    def get_extra_activation(self, *, activation_id: str | int) -> NumberOrder:
        """``getExtraActivation``: activate a used number again (new id). Spends money; never retried."""
        answer = self._call("getExtraActivation", {"activationId": str(activation_id)})
        return self._parse(
            "getExtraActivation", answer, parsing.parse_number_token, self.provider_tz, self.currency
        )

    def check_extra_activation(self, *, activation_id: str | int) -> ExtraActivationPrice:
        """``checkExtraActivation``: whether and for how much a number can be activated again."""
        answer = self._call("checkExtraActivation", {"activationId": str(activation_id)})
        return self._parse("checkExtraActivation", answer, parsing.parse_check_extra, self.currency)

    def create_task_for_call(self, *, activation_id: str | int, phone: str) -> str:
        """``createTaskForCall``: order an outgoing call; returns the provider's message. Never retried."""
        answer = self._call("createTaskForCall", {"activationId": str(activation_id), "phone": phone})
        return self._parse("createTaskForCall", answer, parsing.parse_call_task)

    def get_outgoing_calls(
        self, *, activation_id: str | int | None = None, date: date | str | None = None
    ) -> list[OutgoingCall]:
        """``getOutgoingCalls``: requested calls for a day (``YYYY-MM-DD``, default today upstream)."""
        params: dict[str, ParamValue] = {
            "activationId": str(activation_id) if activation_id is not None else None,
            "date": date.isoformat() if hasattr(date, "isoformat") else date,
        }
        answer = self._call("getOutgoingCalls", params)
        return self._parse("getOutgoingCalls", answer, parsing.parse_outgoing_calls, self.provider_tz)

    # --- rent -----------------------------------------------------------------------------

    def _rent_time(self, rent_time: int | None) -> dict[str, ParamValue]:
        # HeroSMS names the rent length ``duration``; classic providers ``rent_time``.
        if rent_time is None:
            return {}
        return {"duration": rent_time} if self.dialect == "hero" else {"rent_time": rent_time}

    def get_rent_services_and_countries(
        self,
        *,
        rent_time: int | None = None,
        operator: str | Sequence[str] | None = None,
        country: int | None = None,
    ) -> RentCatalog:
        """``getRentServicesAndCountries``: what can be rented for ``rent_time`` hours, with cost and stock."""
        params: dict[str, ParamValue] = {
            **self._rent_time(rent_time),
            "operator": _join(operator),
            "country": country,
        }
        answer = self._call("getRentServicesAndCountries", params)
        return self._parse("getRentServicesAndCountries", answer, parsing.parse_rent_catalog)

    def get_rent_number(
        self,
        *,
        service: str,
        rent_time: int | None = None,
        operator: str | Sequence[str] | None = None,
        country: int | None = None,
        url: str | None = None,
    ) -> RentOrder:
        """``getRentNumber``: rent a number for ``rent_time`` hours (webhook ``url`` optional). Never retried."""
        params: dict[str, ParamValue] = {
            "service": service,
            **self._rent_time(rent_time),
            "operator": _join(operator),
            "country": country,
            "url": url,
        }
        answer = self._call("getRentNumber", params)
        return self._parse("getRentNumber", answer, parsing.parse_rent_order, self.provider_tz, self.currency)

    def get_rent_status(self, *, id: str | int) -> RentStatus:
        """``getRentStatus``: the rent state and every SMS received so far."""
        answer = self._call("getRentStatus", {"id": str(id)})
        return self._parse("getRentStatus", answer, parsing.parse_rent_status, self.provider_tz)

    def set_rent_status(self, *, id: str | int, status: int) -> None:
        """``setRentStatus``: 1 finish, 2 cancel (only in the first 20 minutes). Never retried."""
        answer = self._call("setRentStatus", {"id": str(id), "status": status})
        self._parse("setRentStatus", answer, parsing.parse_success, "setRentStatus")

    def get_rent_list(self) -> Rows[RentListEntry]:
        """``getRentList``: the key's current rents, row by row (``.damaged``, see ``Rows``); ``[]`` when the
        provider answers ``NO_NUMBERS``."""
        try:
            answer = self._call("getRentList")
        except (NoNumbers, NoActivations):
            return Rows()
        return self._parse("getRentList", answer, parsing.parse_rent_list)

    def continue_rent_number(self, *, id: str | int, rent_time: int | None = None) -> RentOrder:
        """``continueRentNumber``: extend a rent (a finished one comes back with a new id). Never retried."""
        answer = self._call("continueRentNumber", {"id": str(id), **self._rent_time(rent_time)})
        return self._parse(
            "continueRentNumber", answer, parsing.parse_rent_order, self.provider_tz, self.currency
        )

    def get_continue_rent_price_number(
        self, *, id: str | int, rent_time: int | None = None
    ) -> ContinueRentPrice:
        """``getContinueRentPriceNumber``: the price of extending a rent."""
        answer = self._call("getContinueRentPriceNumber", {"id": str(id), **self._rent_time(rent_time)})
        return self._parse(
            "getContinueRentPriceNumber", answer, parsing.parse_continue_rent_price, self.currency
        )


def _unix(value: int | datetime | None) -> int | None:
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def _transport_error(exc: BaseException) -> UpstreamUnavailable:
    """Our error for a transport failure, built without the exception's text (it holds the URL)."""
    if isinstance(exc, requests.ConnectTimeout):
        return UpstreamUnreachable("The provider did not accept the connection in time.")
    if isinstance(exc, requests.exceptions.SSLError):
        return UpstreamUnreachable("The secure connection to the provider failed.")
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(reason, NewConnectionError | ConnectTimeoutError):
            return UpstreamUnreachable("The provider could not be reached.")
        return UpstreamUnavailable("The connection to the provider failed.")
    if isinstance(exc, requests.Timeout):
        return UpstreamUnavailable("The provider did not answer in time.")
    return UpstreamUnavailable("The request to the provider failed.")
