"""Team-scoped reads behind the price, catalog, balance and spend pages, their charts and CSV files.

Every chart selector returns a `ChartData`: the datasets Chart.js draws and the table (columns and
rows) the page shows under the chart and the CSV download repeats. Nothing here writes, and nothing
here calls a provider: pages read what the snapshot and catalog tasks stored.

Success rates and times to the first code come from the team's own activations, read through
`activations.selectors` (that app's public reads).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts import selectors as accounts_selectors
from accounts.models import ApiKey, KeyStatus, LedgerEntry, Membership, Team
from accounts.permissions import get_owned, visible_keys
from accounts.selectors import team_keys
from activations.selectors import team_outcomes
from kit.formats import iso_time, money_number, money_plain
from prices.models import LatestPrice, PriceAlert, PriceKind, PricePoint, Snapshot, TeamPriceSettings
from providers.keys import provider_endpoint, provider_of
from providers.models import BalanceSample, CatalogCountry, CatalogOperator, CatalogService, Provider
from providers.selectors import Names, Option

# Dataset colours, in order; the same key/country keeps its colour within one chart.
PALETTE = ("#2f6fed", "#e8590c", "#2b8a3e", "#ae3ec9", "#f59f00", "#0c8599", "#c2255c", "#5c940d", "#495057")


@dataclass
class ChartData:
    """What one chart draws (`datasets`) and the table behind it (`columns`, `rows`).

    `x` is "time" (points are `{"x": epoch ms, "y": value}`) or "category" (`labels` and plain values).
    Datasets name their axis: "price" (left) or "stock" (right).
    """

    type: str
    x: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    datasets: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    currency: str = ""
    title: str = ""

    def as_json(self) -> dict[str, Any]:
        """The JSON the chart endpoint answers (the table included, as plain strings and numbers)."""
        return {
            "type": self.type,
            "x": self.x,
            "title": self.title,
            "currency": self.currency,
            "labels": self.labels,
            "datasets": self.datasets,
            "columns": self.columns,
            "rows": [[plain(value) for value in row] for row in self.rows],
        }


def plain(value: Any) -> Any:
    """A table cell as the JSON carries it: amounts and times as the CSV writes them (kit.formats)."""
    if isinstance(value, Decimal):
        return money_plain(value)
    if isinstance(value, datetime):
        return iso_time(value)
    return value


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _num(value: Decimal | None) -> float | None:
    # Chart.js wants numbers; the table and CSV keep the exact Decimal.
    return money_number(value)


# --- keys, providers and names --------------------------------------------------------------


def member_keys(membership: Membership) -> list[ApiKey]:
    """The keys the price pages offer the member (`accounts.selectors.member_keys`), by label."""
    return list(accounts_selectors.member_keys(membership).order_by("label", "pk"))


def member_providers(membership: Membership) -> list[Provider]:
    """The distinct providers of the member's keys that have stored data."""
    seen: dict[int, Provider] = {}
    for api_key in member_keys(membership):
        provider = provider_of(api_key)
        if provider is not None:
            seen.setdefault(provider.pk, provider)
    return list(seen.values())


def _choices(membership: Membership, api_key: ApiKey | None, field: str) -> list[tuple[Any, str]]:
    """(code, name) of the `field` ("service" or "country") values in the catalogue or the stored prices
    of the key's (or the member's) providers, by name."""
    providers = [
        p for p in ([provider_of(api_key)] if api_key else member_providers(membership)) if p is not None
    ]
    names: dict[Any, str] = {}
    for provider in providers:
        catalog = Names(provider)
        known = catalog.services if field == "service" else catalog.countries
        name_of = catalog.service if field == "service" else catalog.country
        stored = LatestPrice.objects.filter(provider=provider, kind=PriceKind.ACTIVATION).values_list(
            field, flat=True
        )
        for code in set(known) | set(stored.distinct()):
            names.setdefault(code, name_of(code))
    return sorted(names.items(), key=lambda item: item[1].lower())


def service_choices(membership: Membership, api_key: ApiKey | None = None) -> list[tuple[str, str]]:
    """(code, name) of services with stored prices or catalog entries at the key's (or member's) providers."""
    return _choices(membership, api_key, "service")


def country_choices(membership: Membership, api_key: ApiKey | None = None) -> list[tuple[int, str]]:
    """(code, name) of countries of the key's (or member's) providers, by name."""
    return _choices(membership, api_key, "country")


def picker_options(
    membership: Membership, api_key: ApiKey | None = None
) -> tuple[list[Option], list[Option]]:
    """(services, countries) of the key's (or the member's) providers for the pickers: the stored
    catalogue's entries with their names in every language, and the codes with stored prices."""
    providers = [
        p for p in ([provider_of(api_key)] if api_key else member_providers(membership)) if p is not None
    ]
    names = Names(providers)
    services = {o.code: o for o in names.service_options()}
    countries = {o.code: o for o in names.country_options()}
    stored = LatestPrice.objects.filter(provider__in=providers, kind=PriceKind.ACTIVATION)
    for code in stored.values_list("service", flat=True).distinct():
        services.setdefault(code, Option(code=code, name=code))
    for number in stored.values_list("country", flat=True).distinct():
        countries.setdefault(str(number), Option(code=str(number), name=names.country(number)))
    by_name = sorted(services.values(), key=lambda o: o.name.lower())
    return by_name, sorted(countries.values(), key=lambda o: o.name.lower())


# --- catalog --------------------------------------------------------------------------------


@dataclass
class CatalogView:
    """One provider's catalog for the catalog page."""

    provider: Provider | None
    countries: list[dict[str, Any]]
    services: list[dict[str, Any]]
    synced_at: datetime | None


def catalog_for(api_key: ApiKey, *, language: str | None = None) -> CatalogView:
    """Countries (with operators and the number of services on sale) and services of the key's provider."""
    provider = provider_of(api_key)
    if provider is None:
        return CatalogView(provider=None, countries=[], services=[], synced_at=None)
    language = language or get_language()
    operators: dict[int, list[str]] = defaultdict(list)
    for country, name in CatalogOperator.objects.filter(provider=provider).values_list("country", "name"):
        operators[country].append(name)
    on_sale = dict(
        LatestPrice.objects.filter(provider=provider, kind=PriceKind.ACTIVATION, cost__isnull=False)
        .values_list("country")
        .annotate(n=Count("id"))
        .values_list("country", "n")
    )
    countries = [
        {
            "code": c.code,
            "name": c.name_in(language),
            "visible": c.visible,
            "rent": c.rent,
            "operators": operators.get(c.code, []),
            "services_on_sale": on_sale.get(c.code, 0),
        }
        for c in CatalogCountry.objects.filter(provider=provider)
    ]
    countries.sort(key=lambda row: row["name"].lower())
    services = [
        {"code": s.code, "name": s.name_in(language)}
        for s in CatalogService.objects.filter(provider=provider)
    ]
    services.sort(key=lambda row: row["name"].lower())
    return CatalogView(
        provider=provider, countries=countries, services=services, synced_at=provider.catalog_synced_at
    )


# --- snapshots status -----------------------------------------------------------------------


def snapshot_status(membership: Membership) -> dict[str, Any]:
    """The team's snapshot settings and the latest snapshot of each provider of the member's keys."""
    settings_row = TeamPriceSettings.objects.filter(team=membership.team).first()
    latest = []
    for provider in member_providers(membership):
        snapshot = Snapshot.objects.filter(provider=provider, kind=PriceKind.ACTIVATION).first()
        stored = Snapshot.objects.filter(provider=provider).aggregate(n=Count("id"), changes=Sum("changes"))
        latest.append(
            {
                "provider": provider,
                "snapshot": snapshot,
                "count": stored["n"],
                "changes": stored["changes"] or 0,
            }
        )
    return {"settings": settings_row, "providers": latest}


# --- price and stock over time --------------------------------------------------------------


def price_history(
    *,
    team: Team,
    keys: Sequence[ApiKey],
    service: str,
    countries: Sequence[int],
    since: datetime,
    kind: str = PriceKind.ACTIVATION,
    until: datetime | None = None,
) -> ChartData:
    """Price (left axis) and stock (right axis) of `service` in each country at each key's provider.

    Stored points are changes, so each series starts with the value in force at `since` and is drawn
    as steps; the last value is carried to `until` (now) so a flat price still shows as a line.
    """
    until = until or timezone.now()
    chart = ChartData(
        type="line",
        x="time",
        columns=[
            _("Time"),
            _("Key"),
            _("Country"),
            _("Service"),
            _("Price"),
            _("Currency"),
            _("Stock"),
        ],
    )
    currencies = set()
    colour = 0
    seen_providers: set[int] = set()
    service_label = service
    for api_key in keys:
        if api_key.team_id != team.pk:
            continue
        provider = provider_of(api_key)
        if provider is None or provider.pk in seen_providers:
            continue
        seen_providers.add(provider.pk)
        names = Names(provider)
        service_label = names.service(service)
        currencies.add(api_key.currency)
        for country in countries:
            series = PricePoint.objects.filter(provider=provider, kind=kind, service=service, country=country)
            before = series.filter(at__lt=since).order_by("-at", "-id").first()
            points = list(series.filter(at__gte=since, at__lte=until).order_by("at", "id"))
            if before is not None:
                points.insert(0, before)
            if not points:
                continue
            label = f"{api_key.label} · {names.country(country)}"
            price_data, stock_data = [], []
            for point in points:
                at = max(point.at, since)
                price_data.append({"x": _ms(at), "y": _num(point.cost)})
                stock_data.append({"x": _ms(at), "y": point.count})
                chart.rows.append(
                    [
                        at,
                        api_key.label,
                        names.country(country),
                        service,
                        point.cost,
                        api_key.currency,
                        point.count,
                    ]
                )
            price_data.append({"x": _ms(until), "y": price_data[-1]["y"]})
            stock_data.append({"x": _ms(until), "y": stock_data[-1]["y"]})
            tint = PALETTE[colour % len(PALETTE)]
            colour += 1
            chart.datasets.append(
                {
                    "label": _("%(series)s: price") % {"series": label},
                    "data": price_data,
                    "axis": "price",
                    "color": tint,
                }
            )
            chart.datasets.append(
                {
                    "label": _("%(series)s: stock") % {"series": label},
                    "data": stock_data,
                    "axis": "stock",
                    "color": tint,
                    "dashed": True,
                }
            )
    chart.rows.sort(key=lambda row: (row[0], row[1], row[2]))
    chart.currency = ", ".join(sorted(currencies))
    chart.title = _("Price and stock of %(service)s") % {"service": service_label}
    return chart


# --- cheapest now, with the team's own results ----------------------------------------------


def _same_provider_keys(team: Team, api_key: ApiKey) -> list[ApiKey]:
    endpoint = provider_endpoint(api_key)
    return [k for k in ApiKey.objects.filter(team=team) if provider_endpoint(k) == endpoint]


def cheapest_now(*, team: Team, api_key: ApiKey, service: str, limit: int = 20) -> ChartData:
    """The cheapest countries for `service` at the key's provider now (in stock only), with stock, the
    team's success rate and median time to the first code there."""
    chart = ChartData(
        type="bar",
        x="category",
        columns=[
            _("Country"),
            _("Country code"),
            _("Price"),
            _("Currency"),
            _("Stock"),
            _("Bought by the team"),
            _("Success rate"),
            _("Median time to first code (s)"),
            _("Price since"),
        ],
        currency=api_key.currency,
        title=_("Cheapest countries for %(service)s now") % {"service": service},
    )
    if api_key.team_id != team.pk:
        return chart
    provider = provider_of(api_key)
    if provider is None:
        return chart
    names = Names(provider)
    # The title names the service ("Telegram (tg)") once the catalogue does.
    chart.title = _("Cheapest countries for %(service)s now") % {"service": names.service(service)}
    latest = list(
        LatestPrice.objects.filter(
            provider=provider, kind=PriceKind.ACTIVATION, service=service, cost__isnull=False, count__gt=0
        ).order_by("cost", "-count", "country")[:limit]
    )
    outcomes = team_outcomes(team, service=service, keys=_same_provider_keys(team, api_key))
    prices, stock = [], []
    for row in latest:
        outcome = outcomes.get(row.country)
        rate = outcome.success_rate if outcome else None
        chart.labels.append(names.country(row.country))
        prices.append(_num(row.cost))
        stock.append(row.count)
        chart.rows.append(
            [
                names.country(row.country),
                row.country,
                row.cost,
                api_key.currency,
                row.count,
                outcome.bought if outcome else 0,
                None if rate is None else round(rate * 100, 1),
                None if not outcome or outcome.median_seconds is None else round(outcome.median_seconds),
                row.changed_at,
            ]
        )
    chart.datasets = [
        {
            "label": _("Price (%(currency)s)") % {"currency": api_key.currency},
            "data": prices,
            "axis": "price",
            "color": PALETTE[0],
        },
        {"label": _("Stock"), "data": stock, "axis": "stock", "color": PALETTE[1]},
    ]
    return chart


# --- compare across keys --------------------------------------------------------------------


def buy_url(team: Team, api_key: ApiKey, service: str, country: int) -> str:
    """The buy form, pre-filled with the key, service and country."""
    query = urlencode({"key": str(api_key.public_id), "service": service, "country": country})
    return reverse("activations:buy", args=[team.slug]) + "?" + query


def compare_keys(
    *, membership: Membership, service: str, country: int | None = None, limit: int = 200
) -> ChartData:
    """Price and stock of `service` per (key, country) over the member's active keys, best first.

    Amounts are never converted: rows sort by currency, then price, then stock (higher first).
    Each row carries the buy-form link for that key, service and country.
    """
    chart = ChartData(
        type="bar",
        x="category",
        columns=[
            _("Key"),
            _("Provider"),
            _("Country"),
            _("Country code"),
            _("Price"),
            _("Currency"),
            _("Stock"),
            _("Buy"),
        ],
        title=_("Where to buy %(service)s") % {"service": service},
    )
    rows: list[tuple[Any, ...]] = []
    team = membership.team
    for api_key in (k for k in member_keys(membership) if k.status == KeyStatus.ACTIVE):
        provider = provider_of(api_key)
        if provider is None:
            continue
        names = Names(provider)
        chart.title = _("Where to buy %(service)s") % {"service": names.service(service)}
        latest = LatestPrice.objects.filter(
            provider=provider, kind=PriceKind.ACTIVATION, service=service, cost__isnull=False, count__gt=0
        )
        if country is not None:
            latest = latest.filter(country=country)
        for row in latest.order_by("cost")[:limit]:
            rows.append(
                (api_key.currency, row.cost, -row.count, api_key, provider, names.country(row.country), row)
            )
    rows.sort(key=lambda item: (item[0], item[1], item[2], item[3].label))
    currencies: list[str] = []
    for currency, cost, _neg, api_key, provider, country_name, row in rows[:limit]:
        if currency not in currencies:
            currencies.append(currency)
        chart.rows.append(
            [
                api_key.label,
                provider.name,
                country_name,
                row.country,
                cost,
                currency,
                row.count,
                buy_url(team, api_key, service, row.country),
            ]
        )
    chart.currency = ", ".join(currencies)
    # The chart shows the best offers of the first currency only: bars of two currencies are not comparable.
    first = [r for r in chart.rows if currencies and r[5] == currencies[0]][:15]
    chart.labels = [f"{r[0]} · {r[2]}" for r in first]
    chart.datasets = [
        {
            "label": _("Price (%(currency)s)") % {"currency": currencies[0] if currencies else ""},
            "data": [_num(r[4]) for r in first],
            "axis": "price",
            "color": PALETTE[0],
        },
        {"label": _("Stock"), "data": [r[6] for r in first], "axis": "stock", "color": PALETTE[1]},
    ]
    return chart


# --- balances and spend ---------------------------------------------------------------------


def team_currencies(team: Team) -> list[str]:
    """Currencies of the team's keys and ledger, most common first."""
    counts: dict[str, int] = defaultdict(int)
    for currency in ApiKey.objects.filter(team=team).values_list("currency", flat=True):
        counts[currency] += 1
    for currency in LedgerEntry.objects.filter(team=team).values_list("currency", flat=True).distinct():
        counts[currency] += 0
    return sorted(counts, key=lambda c: (-counts[c], c))


def balance_history(
    *, team: Team, currency: str, since: datetime, until: datetime | None = None
) -> ChartData:
    """Balance of each key in `currency` over time, from the recorded samples (steps, carried to now)."""
    until = until or timezone.now()
    chart = ChartData(
        type="line",
        x="time",
        columns=[_("Time"), _("Key"), _("Balance"), _("Cashback"), _("Currency")],
        currency=currency,
        title=_("Balance per key (%(currency)s)") % {"currency": currency},
    )
    keys = team_keys(team).filter(currency=currency).order_by("label", "pk")
    for index, api_key in enumerate(keys):
        samples = BalanceSample.objects.filter(api_key=api_key, currency=currency)
        before = samples.filter(at__lt=since).order_by("-at", "-id").first()
        points = list(samples.filter(at__gte=since, at__lte=until).order_by("at", "id"))
        if before is not None:
            points.insert(0, before)
        if not points:
            continue
        data = []
        for sample in points:
            at = max(sample.at, since)
            data.append({"x": _ms(at), "y": _num(sample.balance)})
            chart.rows.append([at, api_key.label, sample.balance, sample.cashback, currency])
        data.append({"x": _ms(until), "y": data[-1]["y"]})
        chart.datasets.append(
            {"label": api_key.label, "data": data, "axis": "price", "color": PALETTE[index % len(PALETTE)]}
        )
    chart.rows.sort(key=lambda row: (row[0], row[1]))
    return chart


def spend_history(*, team: Team, currency: str, since: datetime, by: str = "key") -> ChartData:
    """Net spend per day (purchases and renewals minus refunds) in `currency`, per key or per member."""
    by_member = by == "member"
    chart = ChartData(
        type="bar",
        x="category",
        columns=[_("Day"), _("Member") if by_member else _("Key"), _("Spent"), _("Currency"), _("Entries")],
        currency=currency,
        title=(
            _("Spend per member per day (%(currency)s)")
            if by_member
            else _("Spend per key per day (%(currency)s)")
        )
        % {"currency": currency},
    )
    group = "member__username" if by_member else "api_key__label"
    rows = (
        LedgerEntry.objects.filter(team=team, currency=currency, created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", group)
        .annotate(total=Sum("amount"), n=Count("id"))
        .order_by("day", group)
    )
    days: list[str] = []
    totals: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for row in rows:
        day = row["day"].isoformat()
        who = row[group] or _("(nobody)")
        if day not in days:
            days.append(day)
        totals[who][day] = row["total"]
        chart.rows.append([day, who, row["total"], currency, row["n"]])
    chart.labels = days
    chart.datasets = [
        {
            "label": who,
            "data": [_num(per_day.get(day, Decimal("0"))) for day in days],
            "axis": "price",
            "color": PALETTE[index % len(PALETTE)],
            "stack": "spend",
        }
        for index, (who, per_day) in enumerate(sorted(totals.items()))
    ]
    return chart


# --- alerts ---------------------------------------------------------------------------------


def member_alerts(membership: Membership) -> list[PriceAlert]:
    """The team's alerts on keys the member sees, with their key, and `service_name` and `country_name` in
    the reader's language from the stored catalogue ("" where it names nothing)."""
    alerts = list(
        PriceAlert.objects.filter(team=membership.team, api_key__in=visible_keys(membership).values("pk"))
        .select_related("api_key")
        .order_by("service", "country")
    )
    names: dict[int | None, Names] = {}
    for alert in alerts:
        provider = provider_of(alert.api_key)
        key = provider.pk if provider is not None else None
        if key not in names:
            names[key] = Names(provider)
        alert.service_name = names[key].service_name(alert.service)
        alert.country_name = names[key].country_name(alert.country)
    return alerts


def get_alert(membership: Membership, public_id: Any, *, write: bool = False) -> PriceAlert:
    """One alert on a key the member sees: 404 otherwise; with `write`, 403 without a grant on its key."""
    alerts = PriceAlert.objects.filter(
        team=membership.team, api_key__in=visible_keys(membership).values("pk")
    )
    return get_owned(membership, alerts, public_id, write=write)


def default_since(days: int) -> datetime:
    """`days` ago from now (at least one day, at most a year)."""
    return timezone.now() - timedelta(days=min(max(days, 1), 366))


def alerts_firing(membership: Membership) -> list[PriceAlert]:
    """Alerts on the member's keys whose condition holds now (the team home page shows them)."""
    return sorted(
        (alert for alert in member_alerts(membership) if alert.firing), key=lambda a: a.fired_at, reverse=True
    )
