"""Reading provider answers: error detection for both dialects, type coercion, one parser per action.

The order matters and follows what survives real providers (protocol.md §c):

1. strip whitespace; never trust Content-Type (JSON arrives as ``text/html``, tokens as anything);
2. JSON-looking bodies are parsed first and checked for error envelopes
   (HeroSMS ``{"title","details","info"}``, classic rent ``{"status":"error","message":…}``, and variants);
3. otherwise a leading SCREAMING_SNAKE token decides: ``ACCESS_``/``STATUS_``/… are answers, anything
   else is an error code, possibly with a ``:suffix`` (``BANNED:…``, ``WRONG_MAX_PRICE:…``);
4. HTML pages, empty bodies and broken JSON become ``ProtocolError`` (or ``UpstreamUnavailable`` on 5xx).

Parsers raise ``ShapeError`` (no text of the body in it); the client turns that into a ``ProtocolError``
with a scrubbed excerpt, so no parse failure can chain the raw body or the key into a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from providers.errors import (
    ERROR_CLASSES,
    BadAction,
    BadCountry,
    BadForward,
    BadKey,
    BadService,
    BadStatus,
    Banned,
    EarlyCancelDenied,
    InvalidTime,
    MaxHoursExceed,
    NoActivation,
    NoBalance,
    ProtocolError,
    ProviderError,
    RateLimited,
    UpstreamUnavailable,
    WrongDate,
    WrongExceptionPhone,
    WrongMaxPrice,
    WrongOperator,
)
from providers.results import (
    ActivationState,
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
    RentMessage,
    RentOffer,
    RentOrder,
    RentState,
    RentStatus,
    Rows,
    Service,
    ServiceStock,
    SetStatusResult,
    TopCountry,
)

EXCERPT_LENGTH = 120
# The bounds of what our columns hold: money has 14 digits, 4 after the point; counts are 32-bit.
MONEY_DIGITS = 10
INT_MIN = -(2**31)
INT_MAX = 2**31 - 1
_MAX_TIMESTAMP = 253402300799  # 9999-12-31 23:59:59 UTC
_TIMESTAMP_RE = re.compile(r"[0-9]{1,20}")
MASK = "••••"

_TOKEN_RE = re.compile(r"^[A-Z][A-Z0-9_]{0,38}[A-Z0-9]$")
# Heads that are answers, not errors; the action's parser checks which one it expects.
_ANSWER_PREFIXES = ("ACCESS_", "STATUS_", "FULL_SMS", "ADDITIONAL", "SMS_ADDED")
_ENVELOPE_KEYS = frozenset({"title", "details", "detail", "info", "status", "type", "instance", "message"})
_KEY_IN_URL_RE = re.compile(r"(api_key=)[^&\s\"'<>]+", re.IGNORECASE)
_BANNED_DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})[ T_](\d{1,2})[-:](\d{1,2})[-:](\d{1,2})")
# Provider prose that stands for a documented code (HeroSMS getPrices, SMSBower, edge proxies, Grizzly).
_PHRASES: tuple[tuple[str, str], ...] = (
    ("service is incorrect", "BAD_SERVICE"),
    ("bad service", "BAD_SERVICE"),
    ("country is incorrect", "BAD_COUNTRY"),
    ("bad country", "BAD_COUNTRY"),
    ("no access", "BAD_KEY"),
    ("unauthorized", "BAD_KEY"),
    ("unauthenticated", "BAD_KEY"),
    ("too many requests", "RATE_LIMIT"),
    ("prohibited for sale", "SERVICE_PROHIBITED"),
)
# ISO 4217 numeric codes HeroSMS-style answers carry.
_NUMERIC_CURRENCIES = {643: "RUB", 840: "USD", 978: "EUR", 156: "CNY"}
# HeroSMS validation errors name the request parameter they refuse, as text
# (``UNPROCESSABLE_ENTITY:service:INVALID``) or as JSON (HTTP 422 ``{"title":"UNPROCESSABLE_ENTITY",
# "details":"Validation failed","info":{"field":"service","code":"INVALID"}}``); a refused parameter means
# what the documented error for a bad value of it means. Keys are lower-cased parameter names.
_FIELD_ERRORS: dict[str, type[ProviderError]] = {
    "api_key": BadKey,
    "service": BadService,
    "multiservice": BadService,
    "country": BadCountry,
    "operator": WrongOperator,
    "maxprice": WrongMaxPrice,
    "max_price": WrongMaxPrice,
    "id": NoActivation,
    "activationid": NoActivation,
    "status": BadStatus,
    "forward": BadForward,
    "multiforward": BadForward,
    "phoneexception": WrongExceptionPhone,
    "duration": InvalidTime,
    "rent_time": InvalidTime,
    "start": WrongDate,
    "end": WrongDate,
    "action": BadAction,
}


class ShapeError(Exception):
    """An answer parsed but did not have the shape its action promises (message names the field only)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A successful answer: the stripped text, and the decoded JSON value when the body was JSON."""

    text: str
    http_status: int = 200
    data: Any = None
    is_json: bool = False

    @property
    def head(self) -> str:
        """The part of a token answer before the first ``:``."""
        return self.text.split(":", 1)[0].strip()

    @property
    def suffix(self) -> str | None:
        """Everything after the first ``:`` of a token answer, or ``None``."""
        parts = self.text.split(":", 1)
        return parts[1] if len(parts) == 2 else None


# --- scrubbing ------------------------------------------------------------------------------


def scrub(text: str, secret: str | None) -> str:
    """Remove the API key (verbatim or as an ``api_key=`` query value) from ``text``."""
    if secret:
        text = text.replace(secret, MASK)
    return _KEY_IN_URL_RE.sub(r"\1" + MASK, text)


def make_excerpt(text: str, secret: str | None = None) -> str:
    """A short, single-line, key-free start of ``text`` for error messages (≤120 characters)."""
    collapsed = " ".join(scrub(text, secret).split())
    if len(collapsed) > EXCERPT_LENGTH:
        return collapsed[: EXCERPT_LENGTH - 1] + "…"
    return collapsed


# --- decoding and error detection -----------------------------------------------------------


def decode_answer(
    body: bytes,
    http_status: int,
    *,
    secret: str | None,
    provider_tz: tzinfo,
    retry_after: str | None = None,
) -> Answer:
    """Turn a raw HTTP answer into an ``Answer`` or raise the matching ``ProviderError``."""
    # Bodies are UTF-8 whatever the header says (text/html without charset would be read as Latin-1).
    text = body.decode("utf-8", errors="replace").strip().lstrip("\ufeff").strip()
    retry_seconds = _retry_after_seconds(retry_after)

    if not text:
        if http_status >= 400:
            raise _error_for_status(http_status, text, secret, retry_seconds)
        raise ProtocolError("The provider sent an empty answer.", http_status=http_status)

    if text[0] in "{[":
        data, parsed = _loads(text)
        if not parsed:
            excerpt = make_excerpt(text, secret)
            if http_status >= 500:
                raise UpstreamUnavailable(
                    f"The provider failed with HTTP {http_status}.", excerpt=excerpt, http_status=http_status
                )
            if http_status == 429:
                raise RateLimited(retry_after=retry_seconds, http_status=http_status)
            raise ProtocolError(
                "The provider sent truncated or malformed JSON.", excerpt=excerpt, http_status=http_status
            )
        found = _json_error(data)
        if found is not None:
            code, suffix, info, details = found
            raise build_error(
                code,
                suffix,
                info=info,
                details=scrub(details, secret)[:EXCERPT_LENGTH],
                http_status=http_status,
                provider_tz=provider_tz,
                retry_after=retry_seconds,
            )
        if http_status >= 400:
            raise _error_for_status(http_status, text, secret, retry_seconds)
        return Answer(text=text, http_status=http_status, data=data, is_json=True)

    head, sep, rest = text.partition(":")
    head = head.strip()
    if _TOKEN_RE.match(head):
        if head.startswith(_ANSWER_PREFIXES) or head == "OK":
            return Answer(text=text, http_status=http_status)
        raise build_error(
            head,
            rest if sep else None,
            http_status=http_status,
            provider_tz=provider_tz,
            retry_after=retry_seconds,
        )

    # Short prose answers ("Too Many Requests", "service is incorrect"); never for web pages.
    phrase_code = _code_from_phrase(text) if len(text) <= 200 and not text.startswith("<") else None
    if phrase_code is not None:
        raise build_error(
            phrase_code,
            None,
            details=make_excerpt(text, secret),
            http_status=http_status,
            provider_tz=provider_tz,
            retry_after=retry_seconds,
        )
    if http_status >= 400:
        raise _error_for_status(http_status, text, secret, retry_seconds)
    if text.startswith("<"):
        raise ProtocolError(
            "The provider sent a web page instead of an API answer.",
            excerpt=make_excerpt(text, secret),
            http_status=http_status,
        )
    return Answer(text=text, http_status=http_status)


def _loads(text: str) -> tuple[Any, bool]:
    # Decimal for every JSON number with a fraction: money never passes through float.
    try:
        return json.loads(text, parse_float=Decimal), True
    except ValueError:
        return None, False


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # an HTTP-date; not worth honouring precisely
    return max(seconds, 0.0)


def _error_for_status(
    http_status: int, text: str, secret: str | None, retry_after: float | None
) -> ProviderError:
    """An error for an HTTP failure whose body names no known code."""
    excerpt = make_excerpt(text, secret)
    if http_status >= 500:
        return UpstreamUnavailable(
            f"The provider failed with HTTP {http_status}.", excerpt=excerpt, http_status=http_status
        )
    if http_status == 429:
        return RateLimited(retry_after=retry_after, http_status=http_status, details=excerpt)
    if http_status == 401:
        return BadKey(http_status=http_status, details=excerpt)
    if http_status == 402:
        return NoBalance(http_status=http_status, details=excerpt)
    if http_status == 404:
        return ProtocolError(
            "The provider's API address was not found (HTTP 404); check the base URL.",
            excerpt=excerpt,
            http_status=http_status,
        )
    return ProtocolError(
        f"The provider refused the request with HTTP {http_status}.", excerpt=excerpt, http_status=http_status
    )


def _json_error(data: Any) -> tuple[str, str | None, Any, str] | None:
    """Find an error in a decoded JSON answer: ``(code, suffix, info, details)`` or ``None``."""
    if not isinstance(data, dict):
        return None
    status = data.get("status")
    # HeroSMS / Tiger envelope: {"title": "NO_NUMBERS", "details": "...", "info": {...}}.
    title = data.get("title")
    if isinstance(title, str) and title and set(data) <= _ENVELOPE_KEYS:
        details = data.get("details") or data.get("detail") or ""
        code, suffix = _split_code(title)
        if code is None:
            code, suffix = _split_code(str(details)) if details else (None, None)
        return (code or "PROVIDER_ERROR", suffix, data.get("info"), str(details))
    # Classic rent API: {"status":"error","message":"NO_ID_RENT","info":...}; Grizzly uses "error".
    if status == "error":
        text = data.get("message") or data.get("error") or data.get("msg") or ""
        code, suffix = _split_code(str(text))
        if code is not None and code.startswith("STATUS_"):
            return None  # getRentStatus states (STATUS_WAIT_CODE, ...) are answers
        return (code or "PROVIDER_ERROR", suffix, data.get("info"), str(text))
    # HeroSMS getPrices {"status":"false","msg":"service is incorrect"}; SMSBower {"status":0,"message":...}.
    if status in ("false", False, 0, "0") and (data.get("msg") or data.get("message")):
        text = str(data.get("msg") or data.get("message"))
        code, suffix = _split_code(text)
        return (code or "PROVIDER_ERROR", suffix, data.get("info"), text)
    # SMSBower {"error":"Bad service"} / {"error":"BAD_SERVICE"}.
    if "error" in data and status != "success" and len(data) <= 3 and data.get("error"):
        text = str(data["error"])
        code, suffix = _split_code(text)
        return (code or "PROVIDER_ERROR", suffix, data.get("info"), text)
    return None


def _split_code(text: str) -> tuple[str | None, str | None]:
    """``"WRONG_MAX_PRICE:0.5"`` -> ``("WRONG_MAX_PRICE", "0.5")``; known prose -> its code."""
    stripped = text.strip()
    head, sep, rest = stripped.partition(":")
    if _TOKEN_RE.match(head.strip()):
        return head.strip(), (rest if sep else None)
    return _code_from_phrase(stripped), None


def _code_from_phrase(text: str) -> str | None:
    lowered = text.lower()
    for phrase, code in _PHRASES:
        if phrase in lowered:
            return code
    return None


def build_error(
    code: str,
    suffix: str | None,
    *,
    info: Any = None,
    details: str = "",
    http_status: int | None = None,
    provider_tz: tzinfo = UTC,
    retry_after: float | None = None,
) -> ProviderError:
    """Build the exception for an upstream error ``code`` with its ``:suffix`` and ``info`` block."""
    info_map: dict[str, Any] = (
        info if isinstance(info, dict) else ({"value": info} if info not in (None, "") else {})
    )
    common: dict[str, Any] = {"code": code, "http_status": http_status, "details": details, "info": info_map}

    cls = ERROR_CLASSES.get(code)
    if code == "UNPROCESSABLE_ENTITY":
        cls = _validation_error_class(suffix, info_map, details)
    if cls is None:
        return ProviderError(f"The provider answered {code}.", **common)
    if cls is Banned:
        return Banned(
            until=_ban_until(suffix, info_map, provider_tz), scope=_opt_str(info_map.get("scope")), **common
        )
    if cls is WrongMaxPrice:
        minimum = _opt_decimal_quiet(suffix.strip().strip("'\"") if suffix else None)
        if minimum is None:
            minimum = _opt_decimal_quiet(info_map.get("min"))
        return WrongMaxPrice(minimum=minimum, **common)
    if cls is RateLimited:
        hinted = _opt_decimal_quiet(info_map.get("retry_after_seconds"))
        wait = float(hinted) if hinted is not None else retry_after
        return RateLimited(retry_after=wait, **common)
    if cls is MaxHoursExceed:
        maximum = _opt_int_quiet(info_map.get("max", info_map.get("value")))
        if maximum is None and suffix:
            maximum = _opt_int_quiet(suffix.strip())
        return MaxHoursExceed(maximum=maximum, **common)
    if cls is EarlyCancelDenied:
        return EarlyCancelDenied(min_seconds=_opt_int_quiet(info_map.get("minActivationTime")), **common)
    return cls(**common)


def _validation_error_class(
    suffix: str | None, info: Mapping[str, Any], details: str
) -> type[ProviderError] | None:
    """The error a HeroSMS validation failure stands for: by its field (text ``:<field>:<reason>`` or JSON
    ``info.field``), else by a documented code in ``details`` (``{"details":"BAD_SERVICE"}``)."""
    field_name = suffix.split(":", 1)[0] if suffix else info.get("field")
    cls = _FIELD_ERRORS.get(str(field_name or "").strip().lower())
    if cls is None and details:
        cls = ERROR_CLASSES.get(_split_code(details)[0] or "")
    return cls


def _ban_until(suffix: str | None, info: Mapping[str, Any], provider_tz: tzinfo) -> datetime | None:
    if suffix:
        # Seed format BANNED:'YYYY-m-d H-i-s' (quotes optional), in the provider's local time.
        match = _BANNED_DATE_RE.search(suffix)
        if match:
            try:
                local = datetime(*(int(part) for part in match.groups()), tzinfo=provider_tz)
            except ValueError:
                local = None
            if local is not None:
                return local.astimezone(UTC)
    stamp = info.get("banned_until")
    if stamp not in (None, ""):
        try:
            return parse_time(stamp, provider_tz)
        except ShapeError:
            pass
    readable = info.get("readable_date")
    if readable:
        try:
            return parse_time(readable, provider_tz)
        except ShapeError:
            return None
    return None


# --- coercion -------------------------------------------------------------------------------


def as_decimal(value: Any, name: str) -> Decimal:
    """A money amount from int, Decimal, float (via ``str``) or string; never float arithmetic."""
    if isinstance(value, bool) or value is None:
        raise ShapeError(f"{name} is not a number")
    if isinstance(value, Decimal):
        result = value
    else:
        try:
            result = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise ShapeError(f"{name} is not a number") from None
    if not result.is_finite():
        raise ShapeError(f"{name} is not a finite number")
    if result and result.adjusted() >= MONEY_DIGITS:
        # No provider charges or holds this much: it cannot be stored (14 digits, 4 after the point).
        raise ShapeError(f"{name} is absurdly large")
    return result


def opt_decimal(value: Any, name: str) -> Decimal | None:
    """Like ``as_decimal`` but ``None``/empty gives ``None``."""
    if value is None or value == "":
        return None
    return as_decimal(value, name)


def _opt_decimal_quiet(value: Any) -> Decimal | None:
    try:
        return opt_decimal(value, "value")
    except ShapeError:
        return None


def as_int(value: Any, name: str) -> int:
    """An integer from int, integral Decimal or numeric string."""
    if isinstance(value, bool) or value is None:
        raise ShapeError(f"{name} is not an integer")
    if isinstance(value, int):
        number = Decimal(value)
    else:
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise ShapeError(f"{name} is not an integer") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise ShapeError(f"{name} is not an integer")
    # Counts and country ids go to integer columns; checked before int() so 1e999999999 costs nothing.
    if number and (number.adjusted() > 10 or not INT_MIN <= number <= INT_MAX):
        raise ShapeError(f"{name} is out of range")
    return int(number)


def opt_int(value: Any, name: str) -> int | None:
    """Like ``as_int`` but ``None``/empty gives ``None``."""
    if value is None or value == "":
        return None
    return as_int(value, name)


def _opt_int_quiet(value: Any) -> int | None:
    try:
        return opt_int(value, "value")
    except ShapeError:
        return None


def as_id(value: Any, name: str) -> str:
    """An upstream id as a string (JSON int or string; may exceed 2^31)."""
    if isinstance(value, bool) or value is None:
        raise ShapeError(f"{name} is missing")
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise ShapeError(f"{name} is not an id")
        return str(int(value))
    text = str(value).strip()
    if not text:
        raise ShapeError(f"{name} is missing")
    return text


def as_phone(value: Any, name: str = "phone") -> str:
    """A phone number as digits with country code, without ``+`` or separators."""
    if isinstance(value, bool) or value is None:
        raise ShapeError(f"{name} is missing")
    if isinstance(value, Decimal):
        value = int(value)
    text = re.sub(r"[\s+()\-]", "", str(value))
    if not text:
        raise ShapeError(f"{name} is missing")
    return text


def opt_phone(value: Any) -> str | None:
    """Like ``as_phone`` but ``None``/``false``/empty gives ``None``."""
    if value is None or value is False or value == "":
        return None
    return as_phone(value)


def opt_bool(value: Any) -> bool | None:
    """``true``/``"1"``/``1`` -> True, ``false``/``"0"``/``0`` -> False, missing -> None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    raise ShapeError("flag is not a boolean")


def opt_country(value: Any) -> int | None:
    """A country id (SMS-Activate numbering) or ``None``."""
    return opt_int(value, "country")


def _opt_str(value: Any) -> str | None:
    if value is None or value is False:
        return None
    text = str(value)
    return text if text != "" else None


def currency_code(value: Any, default: str | None) -> str | None:
    """ISO 4217 letters from a numeric code (643, ``"840"``) or letters; ``default`` when absent."""
    if value is None or value == "":
        return default
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _NUMERIC_CURRENCIES.get(int(value))
    text = str(value).strip()
    if text.isdigit():
        return _NUMERIC_CURRENCIES.get(int(text))
    if len(text) == 3 and text.isalpha():
        return text.upper()
    return None


def parse_time(value: Any, provider_tz: tzinfo) -> datetime | None:
    """An aware UTC datetime from an upstream time.

    Naive ``Y-m-d H:i:s`` is the provider's local time; ISO 8601 with offset is taken as is; a bare
    number is a Unix timestamp; empty and ``0000-00-00 00:00:00`` are ``None``.
    """
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _from_timestamp(value)
    text = str(value).strip()
    if not text or text.startswith("0000-00-00"):
        return None
    if _TIMESTAMP_RE.fullmatch(text):
        return _from_timestamp(Decimal(text))
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=provider_tz)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not a date, or one at the edge of the calendar
        raise ShapeError("time is not a date") from None


def _from_timestamp(value: int | Decimal) -> datetime | None:
    """A Unix timestamp; none before 1970 (0 means "none"), none beyond year 9999."""
    if not Decimal(value).is_finite() or value > _MAX_TIMESTAMP:
        raise ShapeError("time is out of range")
    return datetime.fromtimestamp(int(value), tz=UTC) if int(value) > 0 else None


def as_mapping(value: Any, name: str) -> dict[str, Any]:
    """A JSON object; PHP encodes an empty one as ``[]``, which is accepted as ``{}``."""
    if isinstance(value, dict):
        return value
    if value is None or value == []:
        return {}
    raise ShapeError(f"{name} is not an object")


def rows_of(value: Any, name: str) -> list[Any]:
    """The rows of a list, or of an object keyed by index (``{"0": {...}, "1": {...}}``)."""
    if value is None or value == [] or value == {}:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        keys = list(value)
        if all(str(key).isdigit() for key in keys):
            keys.sort(key=lambda key: int(key))
        return [value[key] for key in keys]
    raise ShapeError(f"{name} is not a list")


def _codes(value: Any) -> tuple[str, ...]:
    """SMS codes: a list (seed), a single string (HeroSMS) or nothing."""
    if value is None or value is False:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(str(item) for item in items if item is not None and str(item) != "")


def _first(row: Mapping[str, Any], *names: str) -> Any:
    for key in names:
        if key in row and row[key] is not None:
            return row[key]
    return None


def _json(answer: Answer, name: str) -> Any:
    if not answer.is_json:
        raise ShapeError(f"{name} expects JSON")
    return answer.data


# --- reading lists row by row ---------------------------------------------------------------

T = TypeVar("T")


class _Fields:
    """The optional fields of one row: a field that cannot be read is noted and given its fallback."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[str] = []

    def read(self, parse: Callable[[], T], fallback: T) -> T:
        try:
            return parse()
        except ShapeError as exc:
            self.problems.append(str(exc))
            return fallback


def _read_rows(raw_rows: Iterable[Any], read: Callable[[Any, _Fields], T], name: str) -> Rows[T]:
    """Read each row on its own: a row that fails only in optional fields is kept (flagged ``damaged``
    where its type has the flag), one whose required fields fail is skipped; the count goes on the result.

    An answer with rows none of which can be read is not a list of this action at all: ``ShapeError``.
    """
    kept: list[T] = []
    problems: list[str] = []
    damaged = skipped = total = 0
    for raw in raw_rows:
        total += 1
        fields = _Fields()
        try:
            item = read(raw, fields)
        except ShapeError as exc:
            skipped += 1
            problems.append(str(exc))
            continue
        if fields.problems:
            damaged += 1
            problems.extend(fields.problems)
            if "damaged" in getattr(item, "__dataclass_fields__", {}):
                item = dataclasses.replace(item, damaged=True)  # type: ignore[type-var]
        kept.append(item)
    if total and not kept:
        raise ShapeError(f"no row of {name} could be read")
    return Rows(kept, damaged=damaged + skipped, skipped=skipped, problems=tuple(dict.fromkeys(problems)))


def country_slug(name: str) -> str:
    """A country name as SMSBower writes it in keys: ``United States (virtual)`` -> ``united-states-virtual``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def country_slug_ids(countries: Iterable[Country]) -> dict[str, int]:
    """Slug -> id from a provider's own getCountries (English names, then Russian); first id wins."""
    ids: dict[str, int] = {}
    for country in countries:
        for name in (country.eng, country.rus):
            slug = country_slug(name) if name else ""
            if slug:
                ids.setdefault(slug, country.id)
    return ids


def with_country_ids(rows: Rows[TopCountry], slug_ids: Mapping[str, int]) -> Rows[TopCountry]:
    """Rows keyed by country slug get the id the provider's country list gives that slug; the others and
    slugs it does not know stay as they are (``country`` ``None``, the slug kept)."""
    mapped = [
        dataclasses.replace(row, country=slug_ids[row.country_slug])
        if row.country is None and row.country_slug in slug_ids
        else row
        for row in rows
    ]
    return Rows(mapped, damaged=rows.damaged, skipped=rows.skipped, problems=rows.problems)


# --- parsers, one per action ----------------------------------------------------------------


def parse_balance(answer: Answer, currency: str | None) -> Balance:
    """``ACCESS_BALANCE:<amount>``; also a bare number or ``{"balance"|"amount": …, "currency": 840}``."""
    if answer.is_json:
        data = as_mapping(answer.data, "balance")
        amount = _first(data, "balance", "amount")
        return Balance(as_decimal(amount, "balance"), currency_code(data.get("currency"), currency))
    if answer.head == "ACCESS_BALANCE" and answer.suffix is not None:
        return Balance(as_decimal(answer.suffix, "balance"), currency)
    if re.fullmatch(r"-?\d+(?:[.,]\d+)?", answer.text):
        return Balance(as_decimal(answer.text, "balance"), currency)
    raise ShapeError("unexpected balance answer")


def parse_number_token(answer: Answer, provider_tz: tzinfo, currency: str | None) -> NumberOrder:
    """``ACCESS_NUMBER:<id>:<phone>``; a getNumberV2-shaped JSON answer is accepted too."""
    if answer.is_json:
        return parse_number_v2(answer, provider_tz, currency)
    if answer.head != "ACCESS_NUMBER" or answer.suffix is None:
        raise ShapeError("unexpected number answer")
    activation_id, sep, phone = answer.suffix.partition(":")
    if not sep:
        raise ShapeError("number answer has no phone")
    return NumberOrder(
        activation_id=as_id(activation_id, "activation id"), phone=as_phone(phone), currency=currency
    )


def _number_from_row(row: Mapping[str, Any], provider_tz: tzinfo, currency: str | None) -> NumberOrder:
    return NumberOrder(
        activation_id=as_id(_first(row, "activationId", "id"), "activationId"),
        phone=as_phone(_first(row, "phoneNumber", "phone", "number")),
        cost=opt_decimal(_first(row, "activationCost", "cost", "price"), "activationCost"),
        currency=currency_code(row.get("currency"), currency),
        country=opt_country(_first(row, "countryCode", "country")),
        operator=_opt_str(_first(row, "activationOperator", "operator")),
        activation_time=parse_time(row.get("activationTime"), provider_tz),
        activation_end_time=parse_time(_first(row, "activationEndTime", "activationEnd"), provider_tz),
        can_get_another_sms=opt_bool(row.get("canGetAnotherSms")),
        service=_opt_str(_first(row, "serviceCode", "service")),
    )


def parse_number_v2(answer: Answer, provider_tz: tzinfo, currency: str | None) -> NumberOrder:
    """The getNumberV2 JSON (SMS-Activate strings or HeroSMS typed values); a plain token is accepted too."""
    if not answer.is_json:
        return parse_number_token(answer, provider_tz, currency)
    data = answer.data
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        data = data["data"]
    return _number_from_row(as_mapping(data, "number"), provider_tz, currency)


_STATES = {
    "STATUS_WAIT_CODE": ActivationState.WAIT_CODE,
    "STATUS_WAIT_RETRY": ActivationState.WAIT_RETRY,
    "STATUS_WAIT_RESEND": ActivationState.WAIT_RESEND,
    "STATUS_CANCEL": ActivationState.CANCEL,
    "STATUS_OK": ActivationState.OK,
    # Tiger answers getStatus of a cancelled activation with ACCESS_CANCEL.
    "ACCESS_CANCEL": ActivationState.CANCEL,
}


def parse_status(answer: Answer) -> ActivationStatus:
    """``STATUS_*[:code]``; the code is everything after the first colon (codes may contain ``:``)."""
    state = _STATES.get(answer.head)
    if state is None or answer.is_json:
        raise ShapeError("unexpected status answer")
    code = answer.suffix.strip() if answer.suffix is not None else None
    return ActivationStatus(status=state, code=code or None)


def parse_set_status(answer: Answer) -> SetStatusResult:
    """``ACCESS_READY`` / ``ACCESS_RETRY_GET`` / ``ACCESS_ACTIVATION`` / ``ACCESS_CANCEL`` (``SMS_ADDED``)."""
    try:
        return SetStatusResult(answer.head)
    except ValueError:
        raise ShapeError("unexpected setStatus answer") from None


def parse_active_activations(
    answer: Answer, provider_tz: tzinfo, currency: str | None
) -> Rows[ActiveActivation]:
    """Classic ``activeActivations`` list, HeroSMS/Tiger ``data`` list, or a bare array, read row by row."""
    data = _json(answer, "getActiveActivations")
    if isinstance(data, dict):
        if isinstance(data.get("data"), list):
            rows = data["data"]
        else:
            block = data.get("activeActivations")
            if isinstance(block, dict) and "rows" in block:
                block = block["rows"]
            rows = rows_of(block, "activeActivations")
    else:
        rows = rows_of(data, "activeActivations")

    def read(raw: Any, fields: _Fields) -> ActiveActivation:
        # The id and the codes are what the poll cycle cannot do without; everything else may be lost.
        row = as_mapping(raw, "activation")
        return ActiveActivation(
            activation_id=as_id(_first(row, "activationId", "id"), "activationId"),
            service=_opt_str(_first(row, "serviceCode", "service")),
            phone=fields.read(lambda: as_phone(_first(row, "phoneNumber", "phone")), ""),
            cost=fields.read(
                lambda: opt_decimal(_first(row, "activationCost", "cost"), "activationCost"), None
            ),
            status=_opt_str(_first(row, "activationStatus", "status")),
            sms_codes=_codes(row.get("smsCode")),
            sms_text=_opt_str(row.get("smsText")) or None,
            activation_time=fields.read(lambda: parse_time(row.get("activationTime"), provider_tz), None),
            country=fields.read(lambda: opt_country(_first(row, "countryCode", "country")), None),
            can_get_another_sms=fields.read(lambda: opt_bool(row.get("canGetAnotherSms")), None),
            currency=currency_code(row.get("currency"), currency),
            activation_end_time=fields.read(
                lambda: parse_time(row.get("activationEndTime"), provider_tz), None
            ),
            operator=_opt_str(_first(row, "activationOperator", "operator")),
        )

    return _read_rows(rows, read, "getActiveActivations")


def parse_history(answer: Answer, provider_tz: tzinfo, currency: str | None) -> Rows[HistoryEntry]:
    """getHistory: a list (or ``{"data": [...]}``) of ``{id, date, phone, sms, cost, status}``, row by row."""
    data = _json(answer, "getHistory")
    if isinstance(data, dict) and "data" in data:
        data = data["data"]

    def read(raw: Any, fields: _Fields) -> HistoryEntry:
        row = as_mapping(raw, "history entry")
        return HistoryEntry(
            activation_id=as_id(_first(row, "id", "activationId"), "id"),
            date=fields.read(lambda: parse_time(_first(row, "date", "activationTime"), provider_tz), None),
            phone=fields.read(lambda: as_phone(_first(row, "phone", "phoneNumber")), ""),
            sms=_codes(_first(row, "sms", "smsCode")),
            cost=fields.read(lambda: opt_decimal(row.get("cost"), "cost"), None),
            status=_opt_str(row.get("status")),
            currency=currency_code(row.get("currency"), currency),
            service=_opt_str(_first(row, "service", "serviceCode")),
        )

    return _read_rows(rows_of(data, "history"), read, "getHistory")


def parse_numbers_status(answer: Answer) -> list[ServiceStock]:
    """``{"vk_0": 76, "av_1": 211}``: key is ``<service>_<forward 0/1>``, count int or string."""
    data = as_mapping(_json(answer, "getNumbersStatus"), "getNumbersStatus")
    stock = []
    for key, count in data.items():
        service, sep, flag = str(key).rpartition("_")
        if not sep or flag not in ("0", "1"):
            service, flag = str(key), "0"
        stock.append(ServiceStock(service=service, forward=flag == "1", count=as_int(count, "count")))
    return stock


# One row of getTopCountriesByService before reading: (service, rank, row, country slug, partner id).
_TopItem = tuple[str | None, int, Any, str | None, str | None]


def _is_top_rows(block: Mapping[str, Any]) -> bool:
    """One service's rows keyed by rank: every key a rank (so a row that lost its country is still a row),
    or every row naming its country."""
    values = list(block.values())
    if not all(isinstance(value, dict) for value in values):
        return False
    return all(str(key).isdigit() for key in block) or all("country" in value for value in values)


def _is_slug_block(block: Mapping[str, Any]) -> bool:
    """SMSBower: ``{"<country-slug>": {"<partnerId>": {"price", "count"}}}``."""
    offers = [
        offer
        for partners in block.values()
        if isinstance(partners, dict)
        for offer in partners.values()
        if isinstance(offer, dict)
    ]
    return (
        bool(offers)
        and not any("country" in offer for offer in offers)
        and any("price" in offer or "count" in offer for offer in offers)
    )


def _ranked(rows: Mapping[Any, Any] | list[Any], service: str | None) -> Iterator[_TopItem]:
    """Classic rows keyed by rank (``{"0": {row}}``) or listed in rank order (HeroSMS)."""
    items = rows.items() if isinstance(rows, dict) else enumerate(rows)
    for position, (rank, row) in enumerate(items):
        number = _opt_int_quiet(rank)
        yield (service, number if number is not None else position, row, None, None)


def _by_slug(block: Mapping[str, Any], service: str | None) -> Iterator[_TopItem]:
    """SMSBower rows in the provider's order: countries by its priority, partners by sales within each."""
    rank = 0
    for slug, partners in block.items():
        if not isinstance(partners, dict):
            yield (service, rank, partners, str(slug), None)
            rank += 1
            continue
        for partner, offer in partners.items():
            yield (service, rank, offer, str(slug), str(partner))
            rank += 1


def _top_items(data: Any, service: str | None) -> Iterator[_TopItem]:
    blocks = data if isinstance(data, list) else [data]
    position = 0
    for block in blocks:
        if isinstance(block, dict) and "country" in block:
            # HeroSMS documents one service's rows as a bare array of rows.
            yield (service, position, block, None, None)
            position += 1
            continue
        block = as_mapping(block, "getTopCountriesByService")
        if _is_top_rows(block):
            yield from _ranked(block, service)
        elif _is_slug_block(block):
            yield from _by_slug(block, service)
        else:
            # Every service: {"<service>": rows}.
            for service_code, rows in block.items():
                if isinstance(rows, dict) and _is_slug_block(rows):
                    yield from _by_slug(rows, str(service_code))
                else:
                    yield from _ranked(
                        rows if isinstance(rows, dict) else rows_of(rows, "rows"), str(service_code)
                    )


def parse_top_countries(answer: Answer, service: str | None) -> Rows[TopCountry]:
    """``{"0": {row}}`` for one service, ``{"<service>": {"0": {row}}}`` for all; a wrapping array is unwrapped.

    SMSBower's ``{"<country-slug>": {"<partnerId>": {"price","count"}}}`` gives one row per partner with
    the slug kept and ``country`` ``None``: ``with_country_ids`` maps slugs through the provider's countries.
    """

    def read(item: _TopItem, fields: _Fields) -> TopCountry:
        row_service, rank, raw, slug, partner = item
        row = as_mapping(raw, "top country")
        return TopCountry(
            service=row_service,
            rank=rank,
            country=None if slug is not None else as_int(row.get("country"), "country"),
            count=fields.read(lambda: as_int(row.get("count", 0), "count"), 0),
            price=fields.read(lambda: opt_decimal(row.get("price"), "price"), None),
            retail_price=fields.read(lambda: opt_decimal(row.get("retail_price"), "retail_price"), None),
            free_price_map=fields.read(lambda: _free_price_map(row.get("freePriceMap")), {}),
            physical_count=fields.read(
                lambda: opt_int(row.get("physicalTotalCount"), "physicalTotalCount"), None
            ),
            country_slug=slug,
            provider_id=partner,
        )

    data = _json(answer, "getTopCountriesByService")
    return _read_rows(_top_items(data, service), read, "getTopCountriesByService")


def _free_price_map(value: Any) -> dict[Decimal, int]:
    return {
        as_decimal(price, "freePriceMap price"): as_int(count, "freePriceMap count")
        for price, count in as_mapping(value, "freePriceMap").items()
    }


def parse_list_of_top_countries(answer: Answer) -> list[CountryShare]:
    """getListOfTopCountriesByService: ``[{"country":0,"share":50,"rate":50}]``."""
    rows = rows_of(_json(answer, "getListOfTopCountriesByService"), "top countries")
    result = []
    for row in rows:
        row = as_mapping(row, "top country")
        result.append(
            CountryShare(
                country=as_int(row.get("country"), "country"),
                share=opt_decimal(row.get("share"), "share"),
                rate=opt_decimal(row.get("rate"), "rate"),
            )
        )
    return result


def parse_operators(answer: Answer) -> dict[int, tuple[str, ...]]:
    """``{"status":"success","countryOperators":{"0":["beeline",…]}}``; ``[]`` (PHP empty) gives ``{}``."""
    data = as_mapping(_json(answer, "getOperators"), "getOperators")
    block = as_mapping(data.get("countryOperators"), "countryOperators")
    return {
        as_int(country, "country"): tuple(str(name) for name in rows_of(names, "operators"))
        for country, names in block.items()
    }


def parse_countries(answer: Answer) -> list[Country]:
    """getCountries as an object keyed by id or as an array; rows without an id are skipped."""
    data = _json(answer, "getCountries")
    items: Iterable[tuple[Any, Any]] = (
        data.items() if isinstance(data, dict) else enumerate(rows_of(data, "countries"))
    )
    countries = []
    for key, row in items:
        row = as_mapping(row, "country")
        raw_id = row.get("id", key if isinstance(data, dict) else None)
        if raw_id is None or raw_id == "":
            continue  # SMSBower lists one country under "" with "id": null
        countries.append(
            Country(
                id=as_int(raw_id, "country id"),
                rus=str(row.get("rus") or ""),
                eng=str(row.get("eng") or ""),
                chn=str(row.get("chn") or ""),
                visible=opt_bool(row.get("visible")),
                retry=opt_bool(row.get("retry")),
                rent=opt_bool(row.get("rent")),
                multi_service=opt_bool(row.get("multiService")),
            )
        )
    countries.sort(key=lambda country: country.id)
    return countries


def parse_services_list(answer: Answer) -> list[Service]:
    """``{"status":"success","services":[{"code","name"}]}``, a bare list, or ``{code: name}``."""
    data = _json(answer, "getServicesList")
    if isinstance(data, dict) and "services" in data:
        data = data["services"]
    if isinstance(data, dict):
        return [
            Service(code=str(code), name=str(value.get("name", code) if isinstance(value, dict) else value))
            for code, value in data.items()
        ]
    services = []
    for row in rows_of(data, "services"):
        row = as_mapping(row, "service")
        services.append(Service(code=str(row.get("code") or ""), name=str(row.get("name") or "")))
    return [service for service in services if service.code]


def _cells(table: Mapping[str, Any]) -> Iterator[tuple[str, str | None, Any]]:
    """The cells of a two-level price map as ``(outer key, inner key, offer)``; an inner block that is not
    an object is one cell with the inner key ``None`` (a damaged row). Blank keys name nothing (SMSBower
    lists the Faroe Islands under ``""``, without an id) and are left out, as getCountries leaves them out."""
    for outer, block in table.items():
        if outer == "":
            continue
        if not isinstance(block, dict):
            if block not in (None, []):
                yield (outer, None, block)
            continue
        for inner, offer in block.items():
            if inner != "":
                yield (outer, inner, offer)


def _price_entry(country: Any, service: Any, raw: Any, fields: _Fields, *cost_names: str) -> PriceEntry:
    if service is None:
        raise ShapeError("price block is not an object")
    offer = as_mapping(raw, "price")
    return PriceEntry(
        country=as_int(country, "country"),
        service=str(service),
        cost=as_decimal(_first(offer, *cost_names), "cost"),
        count=fields.read(lambda: as_int(offer.get("count", 0), "count"), 0),
        physical_count=fields.read(lambda: opt_int(offer.get("physicalCount"), "physicalCount"), None),
    )


def parse_prices(answer: Answer) -> Rows[PriceEntry]:
    """``{"<country>":{"<service>":{"cost","count"[,"physicalCount"]}}}``, cell by cell; ``{}``/``[]`` give ``[]``."""
    data = as_mapping(_json(answer, "getPrices"), "getPrices")
    return _read_rows(
        _cells(data),
        lambda cell, fields: _price_entry(cell[0], cell[1], cell[2], fields, "cost", "price"),
        "getPrices",
    )


def parse_prices_verification(answer: Answer) -> Rows[PriceEntry]:
    """``{"<service>":{"<country>":{"count","price"}}}`` (note: service first), cell by cell."""
    data = as_mapping(_json(answer, "getPricesVerification"), "getPricesVerification")
    return _read_rows(
        _cells(data),
        lambda cell, fields: _price_entry(cell[1], cell[0], cell[2], fields, "price", "cost"),
        "getPricesVerification",
    )


def parse_multi_service(answer: Answer) -> list[MultiServiceNumber]:
    """``[{"phone":"7999…","activation":123,"service":"fb"}, …]`` (an index-keyed object is accepted)."""
    rows = rows_of(_json(answer, "getMultiServiceNumber"), "getMultiServiceNumber")
    result = []
    for row in rows:
        row = as_mapping(row, "number")
        result.append(
            MultiServiceNumber(
                activation_id=as_id(_first(row, "activation", "activationId", "id"), "activation"),
                phone=as_phone(_first(row, "phone", "phoneNumber")),
                service=str(row.get("service") or ""),
            )
        )
    if not result:
        raise ShapeError("getMultiServiceNumber returned no numbers")
    return result


def parse_additional(answer: Answer) -> AdditionalNumber:
    """``ADDITIONAL:<id>:<phone>``."""
    if answer.head != "ADDITIONAL" or answer.suffix is None:
        raise ShapeError("unexpected getAdditionalService answer")
    activation_id, sep, phone = answer.suffix.partition(":")
    if not sep:
        raise ShapeError("getAdditionalService answer has no phone")
    return AdditionalNumber(activation_id=as_id(activation_id, "id"), phone=as_phone(phone))


def parse_check_extra(answer: Answer, currency: str | None) -> ExtraActivationPrice:
    """``{"status":"success","cost":200,"service":"tw","phone":777777777,"country":14}``."""
    data = as_mapping(_json(answer, "checkExtraActivation"), "checkExtraActivation")
    return ExtraActivationPrice(
        cost=as_decimal(_first(data, "cost", "price"), "cost"),
        currency=currency_code(data.get("currency"), currency),
        service=_opt_str(data.get("service")),
        phone=opt_phone(data.get("phone")),
        country=opt_country(data.get("country")),
    )


def parse_incoming_call(answer: Answer) -> IncomingCallStatus:
    """``{"status":"2","phone":false}``."""
    data = as_mapping(_json(answer, "getIncomingCallStatus"), "getIncomingCallStatus")
    status = _opt_str(data.get("status"))
    if status is None:
        raise ShapeError("getIncomingCallStatus has no status")
    return IncomingCallStatus(status=status, phone=opt_phone(data.get("phone")))


def parse_call_task(answer: Answer) -> str:
    """``{"status":"success","msg":"Call request successfully created."}`` -> the message."""
    data = as_mapping(_json(answer, "createTaskForCall"), "createTaskForCall")
    if data.get("status") != "success":
        raise ShapeError("createTaskForCall did not succeed")
    return str(data.get("msg") or data.get("message") or "")


def parse_outgoing_calls(answer: Answer, provider_tz: tzinfo) -> list[OutgoingCall]:
    """``{"<activationId>":{"date","phoneFrom","status"}}``; ``[]`` gives ``[]``."""
    data = as_mapping(_json(answer, "getOutgoingCalls"), "getOutgoingCalls")
    calls = []
    for activation_id, row in data.items():
        row = as_mapping(row, "call")
        calls.append(
            OutgoingCall(
                activation_id=as_id(activation_id, "activation id"),
                date=parse_time(row.get("date"), provider_tz),
                phone_from=opt_phone(row.get("phoneFrom")),
                status=_opt_str(row.get("status")),
            )
        )
    return calls


def parse_rent_catalog(answer: Answer) -> RentCatalog:
    """Classic ``{countries, operators, services:{code:{cost,quant}}}`` or HeroSMS ``{quantity,price,retail_price}``."""
    data = as_mapping(_json(answer, "getRentServicesAndCountries"), "getRentServicesAndCountries")
    countries = tuple(as_int(value, "country") for value in rows_of(data.get("countries"), "countries"))
    operators = tuple(str(value) for value in rows_of(data.get("operators"), "operators"))
    offers = []
    for code, offer in as_mapping(data.get("services"), "services").items():
        offer = as_mapping(offer, "service")
        offers.append(
            RentOffer(
                service=str(code),
                cost=as_decimal(_first(offer, "cost", "price"), "cost"),
                quant=as_int(_first(offer, "quant", "quantity", "count") or 0, "quant"),
                retail_cost=opt_decimal(offer.get("retail_price"), "retail_price"),
            )
        )
    return RentCatalog(countries=countries, operators=operators, services=tuple(offers))


def parse_rent_order(answer: Answer, provider_tz: tzinfo, currency: str | None) -> RentOrder:
    """``{"status":"success","phone":{"id","endDate","number"}}`` or a getNumberV2-shaped answer (HeroSMS)."""
    data = as_mapping(_json(answer, "rent order"), "rent order")
    phone = data.get("phone")
    if isinstance(phone, dict):
        return RentOrder(
            rent_id=as_id(phone.get("id"), "rent id"),
            phone=as_phone(_first(phone, "number", "phone")),
            end_date=parse_time(phone.get("endDate"), provider_tz),
            cost=opt_decimal(_first(data, "cost", "price"), "cost"),
            currency=currency_code(data.get("currency"), currency),
        )
    if "activationId" in data or "phoneNumber" in data:
        # HeroSMS: getNumberV2-shaped ({"activationId","activationCost","activationEndTime",...}) or its
        # rent example {"id","phoneNumber","cost","currency","lockCancelTime","endDate","operator"}.
        return RentOrder(
            rent_id=as_id(_first(data, "activationId", "id"), "rent id"),
            phone=as_phone(_first(data, "phoneNumber", "phone")),
            end_date=parse_time(_first(data, "activationEndTime", "endDate"), provider_tz),
            cost=opt_decimal(_first(data, "activationCost", "cost"), "cost"),
            currency=currency_code(data.get("currency"), currency),
        )
    raise ShapeError("unexpected rent order answer")


_RENT_STATES = {
    "STATUS_WAIT_CODE": RentState.WAIT_CODE,
    "STATUS_FINISH": RentState.FINISH,
    "STATUS_CANCEL": RentState.CANCEL,
}


def parse_rent_status(answer: Answer, provider_tz: tzinfo) -> RentStatus:
    """Success with ``values`` -> ``ACTIVE``; ``{"status":"error","message":"STATUS_*"}`` -> that state."""
    if not answer.is_json:
        state = _RENT_STATES.get(answer.head)
        if state is None:
            raise ShapeError("unexpected getRentStatus answer")
        return RentStatus(status=state)
    data = as_mapping(answer.data, "getRentStatus")
    if data.get("status") == "error":
        code = str(data.get("message") or data.get("error") or "").split(":", 1)[0].strip()
        state = _RENT_STATES.get(code)
        if state is None:
            raise ShapeError("unexpected getRentStatus state")
        return RentStatus(status=state)
    messages = []
    for row in rows_of(data.get("values"), "values"):
        row = as_mapping(row, "message")
        messages.append(
            RentMessage(
                phone_from=_opt_str(row.get("phoneFrom")),
                text=str(row.get("text") or ""),
                service=_opt_str(row.get("service")),
                date=parse_time(row.get("date"), provider_tz),
            )
        )
    quantity = opt_int(data.get("quantity"), "quantity")
    return RentStatus(
        status=RentState.ACTIVE if messages else RentState.WAIT_CODE,
        messages=tuple(messages),
        quantity=quantity if quantity is not None else len(messages),
    )


def parse_success(answer: Answer, name: str) -> None:
    """``{"status":"success"}`` (setRentStatus)."""
    data = as_mapping(_json(answer, name), name)
    if data.get("status") != "success":
        raise ShapeError(f"{name} did not succeed")


def parse_rent_list(answer: Answer) -> Rows[RentListEntry]:
    """``{"status":"success","values":{"0":{"id","phone"}}}``, row by row; ``[]`` values give ``[]``."""
    data = _json(answer, "getRentList")
    values = data.get("values") if isinstance(data, dict) else data

    def read(raw: Any, fields: _Fields) -> RentListEntry:
        row = as_mapping(raw, "rent")
        return RentListEntry(
            rent_id=as_id(row.get("id"), "id"),
            phone=fields.read(lambda: as_phone(_first(row, "phone", "number")), ""),
        )

    return _read_rows(rows_of(values, "values"), read, "getRentList")


def parse_continue_rent_price(answer: Answer, currency: str | None) -> ContinueRentPrice:
    """``{"status":"success","price":6.33}``."""
    data = as_mapping(_json(answer, "getContinueRentPriceNumber"), "getContinueRentPriceNumber")
    return ContinueRentPrice(
        price=as_decimal(_first(data, "price", "cost"), "price"),
        currency=currency_code(data.get("currency"), currency),
    )
