"""Typed results of the provider client.

Conventions shared by every result: money is ``Decimal``; upstream ids are ``str`` (they exceed
2^31 and arrive as JSON ints or strings); phones are digit strings without ``+``; country ids are
SMS-Activate numbering ``int``; datetimes are timezone-aware UTC (``None`` when the provider sent
none or ``0000-00-00 00:00:00``); ``currency`` is an ISO 4217 letter code or ``None`` if unknown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Rows(list[T], Generic[T]):
    """A list answer read row by row: every row that could be read, and how many could not be read whole.

    One bad row never costs the others: a row whose optional fields are malformed or missing is kept with
    those fields empty (``None``, ``""``) and flagged ``damaged`` where its type has the flag; a row
    without its id is skipped. ``damaged`` counts both kinds, ``skipped`` the skipped ones alone, and
    ``problems`` names the fields that failed (never a value of the answer). A clean answer has 0 and 0.
    """

    def __init__(
        self, rows: Iterable[T] = (), *, damaged: int = 0, skipped: int = 0, problems: tuple[str, ...] = ()
    ) -> None:
        super().__init__(rows)
        self.damaged = damaged
        self.skipped = skipped
        self.problems = problems

    def __repr__(self) -> str:
        return f"Rows({list.__repr__(self)}, damaged={self.damaged}, skipped={self.skipped})"


class ActivationState(StrEnum):
    """The state named by a ``getStatus`` answer (``STATUS_<state>``)."""

    WAIT_CODE = "WAIT_CODE"
    WAIT_RETRY = "WAIT_RETRY"
    WAIT_RESEND = "WAIT_RESEND"
    CANCEL = "CANCEL"
    OK = "OK"


class SetStatusResult(StrEnum):
    """The answer to ``setStatus``."""

    READY = "ACCESS_READY"
    RETRY_GET = "ACCESS_RETRY_GET"
    ACTIVATION = "ACCESS_ACTIVATION"
    CANCEL = "ACCESS_CANCEL"
    SMS_ADDED = "SMS_ADDED"


class RentState(StrEnum):
    """The state of a rent as told by ``getRentStatus``."""

    WAIT_CODE = "WAIT_CODE"  # no SMS yet
    ACTIVE = "ACTIVE"  # at least one SMS received
    FINISH = "FINISH"
    CANCEL = "CANCEL"


@dataclass(frozen=True, slots=True)
class Balance:
    """``getBalance`` / ``getBalanceAndCashBack``."""

    amount: Decimal
    currency: str | None


@dataclass(frozen=True, slots=True)
class NumberOrder:
    """A bought number: ``getNumber`` (id and phone only), ``getNumberV2``, ``getExtraActivation``."""

    activation_id: str
    phone: str
    cost: Decimal | None = None
    currency: str | None = None
    country: int | None = None
    operator: str | None = None
    activation_time: datetime | None = None
    activation_end_time: datetime | None = None
    can_get_another_sms: bool | None = None
    service: str | None = None


@dataclass(frozen=True, slots=True)
class ActivationStatus:
    """``getStatus``: the state and, for ``OK``/``WAIT_RETRY``, the code (everything after the first ``:``)."""

    status: ActivationState
    code: str | None = None


@dataclass(frozen=True, slots=True)
class ActiveActivation:
    """One row of ``getActiveActivations``; ``status`` is the provider's numeric status as a string."""

    activation_id: str
    service: str | None
    phone: str
    cost: Decimal | None
    status: str | None
    sms_codes: tuple[str, ...]
    sms_text: str | None
    activation_time: datetime | None
    country: int | None
    can_get_another_sms: bool | None
    currency: str | None
    activation_end_time: datetime | None = None
    operator: str | None = None
    # Some field of the row could not be read (see ``Rows``); ``phone`` is then ``""`` if it was the one.
    damaged: bool = False


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One row of ``getHistory``; ``cost`` is 0 while an activation is not completed."""

    activation_id: str
    date: datetime | None
    phone: str
    sms: tuple[str, ...]
    cost: Decimal | None
    status: str | None
    currency: str | None
    service: str | None = None
    damaged: bool = False


@dataclass(frozen=True, slots=True)
class ServiceStock:
    """One entry of ``getNumbersStatus``: how many numbers for a service, with or without forwarding."""

    service: str
    forward: bool
    count: int


@dataclass(frozen=True, slots=True)
class TopCountry:
    """One ranked row of ``getTopCountriesByService``.

    SMSBower names countries by slug (``united-states``) and ranks offers per partner: such rows keep
    ``country_slug`` and ``provider_id``, and ``country`` is the id the provider's getCountries gives
    that slug, or ``None`` when none matches (the row stays visible, unpriced by country).
    """

    service: str | None
    rank: int
    country: int | None
    count: int
    price: Decimal | None
    retail_price: Decimal | None
    free_price_map: dict[Decimal, int] = field(default_factory=dict)
    physical_count: int | None = None
    country_slug: str | None = None
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class CountryShare:
    """One row of ``getListOfTopCountriesByService`` (percentages)."""

    country: int
    share: Decimal | None
    rate: Decimal | None


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """A price for one country and service (``getPrices``, ``getPricesVerification``).

    ``physical_count`` is HeroSMS' real stock; ``count`` may be larger than what can be bought.
    """

    country: int
    service: str
    cost: Decimal
    count: int
    physical_count: int | None = None


@dataclass(frozen=True, slots=True)
class Country:
    """One country of ``getCountries``; flags are ``None`` when the provider omits them."""

    id: int
    rus: str
    eng: str
    chn: str
    visible: bool | None
    retry: bool | None
    rent: bool | None
    multi_service: bool | None


@dataclass(frozen=True, slots=True)
class Service:
    """One service of ``getServicesList``."""

    code: str
    name: str


@dataclass(frozen=True, slots=True)
class MultiServiceNumber:
    """One element of ``getMultiServiceNumber``: the same phone, one activation per service."""

    activation_id: str
    phone: str
    service: str


@dataclass(frozen=True, slots=True)
class AdditionalNumber:
    """``getAdditionalService``: ``ADDITIONAL:<id>:<phone>``."""

    activation_id: str
    phone: str


@dataclass(frozen=True, slots=True)
class ExtraActivationPrice:
    """``checkExtraActivation``: the price of activating a used number again."""

    cost: Decimal
    currency: str | None
    service: str | None
    phone: str | None
    country: int | None


@dataclass(frozen=True, slots=True)
class IncomingCallStatus:
    """``getIncomingCallStatus``: status 2 new, 3 closed, 4 cancelled, 5 returned; ``phone`` once known."""

    status: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class OutgoingCall:
    """One requested outgoing call of ``getOutgoingCalls``, keyed upstream by activation id."""

    activation_id: str
    date: datetime | None
    phone_from: str | None
    status: str | None


@dataclass(frozen=True, slots=True)
class RentOffer:
    """One service offered for rent: price for the asked length and numbers in stock."""

    service: str
    cost: Decimal
    quant: int
    retail_cost: Decimal | None = None


@dataclass(frozen=True, slots=True)
class RentCatalog:
    """``getRentServicesAndCountries``: countries, operators and services with cost and stock."""

    countries: tuple[int, ...]
    operators: tuple[str, ...]
    services: tuple[RentOffer, ...]


@dataclass(frozen=True, slots=True)
class RentOrder:
    """``getRentNumber`` / ``continueRentNumber`` (a finished rent comes back with a new id)."""

    rent_id: str
    phone: str
    end_date: datetime | None
    cost: Decimal | None = None
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class RentMessage:
    """One SMS received by a rented number."""

    phone_from: str | None
    text: str
    service: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class RentStatus:
    """``getRentStatus``: the rent state and its messages (empty unless ``ACTIVE``)."""

    status: RentState
    messages: tuple[RentMessage, ...] = ()
    quantity: int = 0


@dataclass(frozen=True, slots=True)
class RentListEntry:
    """One row of ``getRentList``; ``phone`` is ``""`` in a damaged row that lacked it."""

    rent_id: str
    phone: str
    damaged: bool = False


@dataclass(frozen=True, slots=True)
class ContinueRentPrice:
    """``getContinueRentPriceNumber``."""

    price: Decimal
    currency: str | None
