"""Team-scoped reads for the rental pages: the access helper, the live board and its version token,
warnings, history, the records of the CSVs, and the provider's rent catalogue and renewal prices.

Every query starts from the member's team. Operators see the rentals of the keys they may use (and
their own); owners, admins and viewers see the whole team.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import Count, IntegerField, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import ApiKey, Membership, Team
from accounts.permissions import get_owned, visible_to
from kit import boards
from kit.cursor import Cursor, Page, keyset_page
from kit.phrases import Phrase, phrase_text
from providers import errors
from providers import selectors as catalog
from providers.keys import client_for_key, provider_cache_id
from providers.results import RentCatalog
from purchases.messages import refusal
from purchases.selectors import ledger_money
from rentals.filters import HistoryFilters
from rentals.models import BOARD_STATUSES, Rental, RentalRenewal, RentalSms, RentalStatus
from rentals.services import continue_price, describe_error

# Closed rentals stay visible under the board for this long.
RECENT_WINDOW = timedelta(hours=6)
# A rental ending this soon without a working auto-renew is a warning on the board and the team home.
RISK_WINDOW = timedelta(hours=2)
HISTORY_PAGE_SIZE = 50
# Messages shown per rental on the board (the history and the CSV have all of them).
BOARD_MESSAGES = 30
CATALOG_TTL = 30


def visible_rentals(membership: Membership) -> QuerySet[Rental]:
    """The team's rentals the member may see (and act on, if they may buy)."""
    return visible_to(membership, Rental.objects.all())


def get_rental(membership: Membership, public_id: Any, *, write: bool = False) -> Rental:
    """One rental the member sees: 404 otherwise; with `write`, 403 unless the member may act with its key
    or rented it."""
    return get_owned(membership, visible_rentals(membership), public_id, write=write)


# --- the live board ------------------------------------------------------------------------------


def _board_rows(membership: Membership, now: datetime) -> QuerySet[Rental]:
    return visible_rentals(membership).filter(
        Q(status__in=BOARD_STATUSES) | Q(closed_at__gte=now - RECENT_WINDOW)
    )


def _micros(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1_000_000) if moment else 0


def board_version(membership: Membership) -> str:
    """The board's version in ONE query: the rows' latest change, their count and the newest SMS id.

    The minute is part of it, so warnings of rentals entering the risk window appear without a change.
    """
    now = timezone.now()
    rows = _board_rows(membership, now).order_by().values("team")
    last_sms = (
        RentalSms.objects.filter(rental__in=_board_rows(membership, now).values("pk"))
        .order_by("-id")
        .values("id")[:1]
    )
    updated, count, sms_id = (
        Team.objects.filter(pk=membership.team_id)
        .annotate(
            v_updated=Subquery(rows.annotate(m=Max("updated_at")).values("m")),
            v_count=Coalesce(
                Subquery(rows.annotate(c=Count("pk")).values("c"), output_field=IntegerField()), Value(0)
            ),
            v_sms=Coalesce(Subquery(last_sms, output_field=IntegerField()), Value(0)),
        )
        .values_list("v_updated", "v_count", "v_sms")
        .get()
    )
    return boards.token(_micros(updated), count, sms_id, int(now.timestamp()) // 60)


def sms_id_of(version: str | None) -> int | None:
    """The newest SMS id a client's version token saw; None if the token is absent or malformed."""
    parts = boards.parse_token(version, 4)
    return None if parts is None else parts[2]


def new_messages(membership: Membership, since_id: int) -> list[RentalSms]:
    """Board messages received after the client's version (by id, which only grows), oldest first."""
    return list(
        RentalSms.objects.filter(
            rental__in=_board_rows(membership, timezone.now()).values("pk"), id__gt=since_id
        )
        .select_related("rental")
        .order_by("id")[:20]
    )


def risk_reason(rental: Rental, now: datetime | None = None) -> str:
    """Why this live rental may be lost soon, or "" when it is safe (far from its end or auto-renewing)."""
    now = now or timezone.now()
    if rental.status != RentalStatus.ACTIVE or rental.ends_at is None or rental.ends_at > now + RISK_WINDOW:
        return ""
    if not rental.auto_renew:
        return _("auto-renew is off")
    if rental.renew_error_code:
        return _("auto-renew is failing: %(reason)s") % {
            "reason": phrase_text(rental.renew_error_message) or rental.renew_error_code
        }
    if rental.renew_until is not None and rental.ends_at >= rental.renew_until:
        return _("auto-renew stops at its end date")
    if rental.renew_budget is not None and rental.renew_budget - rental.renew_spent <= 0:
        return _("the auto-renew budget is used up")
    return ""


def at_risk(membership: Membership) -> list[tuple[Rental, str]]:
    """Live rentals ending within the risk window whose auto-renew is off or failing, soonest first."""
    now = timezone.now()
    rows = (
        visible_rentals(membership)
        .filter(status=RentalStatus.ACTIVE, ends_at__lte=now + RISK_WINDOW)
        .order_by("ends_at")
    )
    return [(rental, reason) for rental in rows if (reason := risk_reason(rental, now))]


@dataclass
class BoardRow:
    """A rental with the countdowns, warnings and messages the board shows."""

    rental: Rental
    country_name: str
    seconds_left: int | None
    cancel_seconds_left: int | None
    risk: str
    messages: list[RentalSms] = field(default_factory=list)
    service_name: str = ""


@dataclass
class Board:
    live: list[BoardRow]
    recent: list[BoardRow]
    at_risk: list[BoardRow]
    version: str


def _row(rental: Rental, now: datetime, names: dict[int, str]) -> BoardRow:
    cancel_left = None
    if rental.can_cancel_now:
        cancel_left = max(0, int((rental.cancel_deadline - now).total_seconds()))
    return BoardRow(
        rental=rental,
        country_name=names.get(rental.country, str(rental.country)) if rental.country is not None else "",
        seconds_left=rental.seconds_left if rental.is_live else None,
        cancel_seconds_left=cancel_left,
        risk=risk_reason(rental, now),
        messages=list(rental.board_messages),
    )


def board(membership: Membership, *, version: str | None = None) -> Board:
    """Live and settling rentals (soonest end first), recent closings, and the at-risk warnings."""
    now = timezone.now()
    version = version or board_version(membership)
    messages = RentalSms.objects.order_by("-received_at", "-id")
    rentals = list(
        _board_rows(membership, now)
        .select_related("api_key", "member", "previous")
        .prefetch_related(Prefetch("messages", queryset=messages, to_attr="board_messages"))
        .order_by("-created_at", "-id")
    )
    names = country_names_for({rental.api_key for rental in rentals})
    live = [_row(r, now, names) for r in rentals if r.status in BOARD_STATUSES]
    live.sort(key=lambda row: (row.rental.ends_at is None, row.rental.ends_at or now))
    for row in live:
        row.messages = row.messages[:BOARD_MESSAGES]
    recent = [_row(r, now, names) for r in rentals if r.status not in BOARD_STATUSES]
    for row in recent:
        row.messages = row.messages[:5]
    services = rows_catalogue(rentals)
    for row in live + recent:
        row.service_name = services.service_name(row.rental.service)
    return Board(live=live, recent=recent, at_risk=[row for row in live if row.risk], version=version)


# --- the provider's catalogue --------------------------------------------------------------------


def country_names(api_key: ApiKey) -> dict[int, str]:
    """Country id -> name from the provider's cached catalogue; {} when the provider cannot say."""
    try:
        return {int(option.code): option.name for option in catalog.countries(api_key)}
    except catalog.CatalogUnavailable:
        return {}


def rows_catalogue(rentals: Iterable[Rental]) -> catalog.Catalogue:
    """The names of the rentals' services and countries, from their keys' stored or cached catalogues."""
    return catalog.catalogue_for({rental.api_key for rental in rentals})


def country_names_for(api_keys: set[ApiKey]) -> dict[int, str]:
    names: dict[int, str] = {}
    for api_key in sorted(api_keys, key=lambda k: k.pk):
        for country_id, name in country_names(api_key).items():
            names.setdefault(country_id, name)
    return names


def key_catalogue(api_key: ApiKey | None) -> catalog.Catalogue:
    """The names of the key's provider's countries and services (read from the provider if not at hand)."""
    return catalog.catalogue_for([api_key] if api_key is not None else [], allow_fetch=True)


def offers_by_name(result: "CatalogResult | None", names: catalog.Catalogue) -> list[Any]:
    """The services on offer, the full rental first, then by name in the reader's language."""
    if result is None or result.catalog is None:
        return []
    return sorted(
        result.catalog.services,
        key=lambda o: (o.service != "full", (names.service_name(o.service) or o.service).lower()),
    )


@dataclass(frozen=True)
class CatalogResult:
    """What can be rented for a country, operator and length; `error` in plain words when unavailable."""

    catalog: RentCatalog | None
    # A phrase (kit.phrases): the result is cached for every member, each reads it in their language.
    error: Phrase | str = ""


def rent_catalog(api_key: ApiKey, *, country: int | None, operator: str, hours: int) -> CatalogResult:
    """getRentServicesAndCountries for the choice, cached 30 s per provider endpoint and choice."""
    key = f"rentals:catalog:{provider_cache_id(api_key)}:{country}:{operator}:{hours}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    try:
        offers = client_for_key(api_key).get_rent_services_and_countries(
            rent_time=hours, operator=operator or None, country=country
        )
        result = CatalogResult(
            catalog=RentCatalog(
                countries=offers.countries,
                operators=offers.operators,
                services=tuple(sorted(offers.services, key=lambda o: (o.service != "full", o.service))),
            )
        )
    except errors.ProviderError as exc:
        result = CatalogResult(catalog=None, error=refusal(exc))
    cache.set(key, result, CATALOG_TTL)
    return result


@dataclass(frozen=True)
class Quote:
    """The price of extending a rental, or why it cannot be extended."""

    price: Decimal | None
    currency: str
    error: str = ""


def extend_quote(rental: Rental, hours: int) -> Quote:
    """What extending (or re-ordering) `rental` by `hours` would cost, where the provider tells."""
    if not rental.upstream_id:
        return Quote(price=None, currency=rental.currency, error=_("This rental has no number yet."))
    try:
        price = continue_price(rental, hours)
    except errors.ProviderError as exc:
        return Quote(price=None, currency=rental.currency, error=describe_error(exc))
    return Quote(price=price, currency=rental.currency)


# --- history and exports -------------------------------------------------------------------------


def filtered_rentals(membership: Membership, filters: HistoryFilters | None = None) -> QuerySet[Rental]:
    """The member's visible rentals narrowed by `filters` (`rentals.filters.HistoryFilters`)."""
    rentals = visible_rentals(membership)
    return rentals if filters is None else filters.apply(rentals)


def history(membership: Membership, filters: HistoryFilters, *, after: str | None = None) -> Page[Rental]:
    """One page of rentals, newest first, keyset-paginated on (created_at, id): no OFFSET scans."""
    rentals = filtered_rentals(membership, filters).select_related("api_key", "member", "previous")
    return keyset_page(
        rentals.order_by("-created_at", "-id"), after=Cursor.parse(after), size=HISTORY_PAGE_SIZE
    )


def export_names(team: Team, language: str) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    """Per key of the team: (country code -> name, service code -> name) in `language`, from each key's stored or
    cached catalogue (never fetched now)."""
    with translation.override(language):
        return {api_key.pk: catalog.names(api_key) for api_key in ApiKey.objects.filter(team=team)}


def _named(
    names: dict[int, tuple[dict[str, str], dict[str, str]]], key_id: int, service: str, country: int | None
) -> tuple[str, str]:
    """(service name, country name); a code the catalogue does not name is its own name."""
    countries, services = names.get(key_id, ({}, {}))
    country_code = "" if country is None else str(country)
    return services.get(service) or service, countries.get(country_code) or country_code


def rentals_for_export(membership: Membership, filters: HistoryFilters, *, language: str) -> Iterator[Rental]:
    """The filtered rentals for the CSV (`rentals.export.RENTAL_COLUMNS`), newest first, streamed from the
    database in chunks, each with its key, buyer, previous rent, `renewal_count`, the ledger's money
    (`purchases.selectors.ledger_money`) and `service_name` / `country_name` in `language` loaded."""
    renewals = (
        RentalRenewal.objects.filter(status="done")
        .order_by()
        .values("rental")
        .annotate(c=Count("pk"))
        .values("c")
    )
    rows = (
        filtered_rentals(membership, filters)
        .annotate(
            renewal_count=Coalesce(
                Subquery(renewals.filter(rental=OuterRef("pk")), output_field=IntegerField()),
                Value(0),
            ),
            **ledger_money("rental"),
        )
        .select_related("api_key", "member", "previous")
        .order_by("-created_at", "-id")
    )
    names = export_names(membership.team, language)
    for rental in rows.iterator(chunk_size=2000):
        rental.service_name, rental.country_name = _named(
            names, rental.api_key_id, rental.service, rental.country
        )
        yield rental


def messages_for_export(
    membership: Membership, filters: HistoryFilters, *, language: str
) -> Iterator[RentalSms]:
    """Every SMS of the filtered rentals for the CSV (`rentals.export.MESSAGE_COLUMNS`), newest first, each with
    `service_name` in `language`."""
    rentals = filtered_rentals(membership, filters).values("pk")
    rows = (
        RentalSms.objects.filter(rental__in=rentals).select_related("rental").order_by("-received_at", "-id")
    )
    names = export_names(membership.team, language)
    for sms in rows.iterator(chunk_size=2000):
        rental = sms.rental
        sms.service_name, _country = _named(names, rental.api_key_id, sms.service or rental.service, None)
        yield sms
