"""Price snapshots stored as changes, their scheduling per team, and alerts.

`snapshot_store` is the storage core (no HTTP): it diffs a price answer against `LatestPrice` and
writes a `Snapshot` header plus one `PricePoint` per changed series, so storage grows with price
changes, not with the number of snapshots. On PostgreSQL the change rows go in with COPY and
`LatestPrice` is upserted from a COPY-filled temporary table; elsewhere batched `executemany`.

`snapshot_team` reads the prices of every provider the team's keys use (HTTP first, outside any
transaction), stores them, and evaluates the team's alerts.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop, ngettext_lazy

from accounts.models import ApiKey, KeyStatus, Team
from accounts.services import audit_record
from activations.selectors import preset_targets
from kit.phrases import Money, phrase
from prices.models import LatestPrice, PriceAlert, PriceKind, PricePoint, Snapshot, TeamPriceSettings
from providers import errors
from providers.catalog import catalog_sync
from providers.keys import client_for_key, profile_for_key, provider_endpoint, provider_of
from providers.models import Provider
from providers.services import api_key_mark_health

logger = logging.getLogger(__name__)

BATCH_SIZE = 5000
QUANT = Decimal("0.0001")
# Rent prices are snapshotted for this length (hours), the protocol's default.
RENT_HOURS = 4

Series = tuple[int, str]
Value = tuple[Decimal | None, int, Any]


@dataclass(frozen=True, slots=True)
class Offer:
    """One (country, service) value of a price answer; `cost` None means "not on offer"."""

    country: int
    service: str
    cost: Decimal | None
    count: int
    detail: dict[str, int] | None = None


# What a price point's columns hold: cost 14 digits (4 after the point), count and country 32-bit.
_MAX_COST = Decimal("1e10")
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


def _storable(offers: Iterable[Offer]) -> Iterator[Offer]:
    """The offers a price point can hold; an absurd one (a cost or stock no column holds) is skipped and
    logged, so one odd row never fails a whole snapshot."""
    for offer in offers:
        cost_ok = offer.cost is None or (Decimal(offer.cost).is_finite() and abs(offer.cost) < _MAX_COST)
        ints_ok = _INT_MIN <= offer.count <= _INT_MAX and _INT_MIN <= offer.country <= _INT_MAX
        if cost_ok and ints_ok and len(offer.service) <= 32:
            yield offer
        else:
            logger.warning(
                "price offer skipped, out of range: country %.20s service %.40s", offer.country, offer.service
            )


def _norm_cost(cost: Decimal | None) -> Decimal | None:
    return None if cost is None else Decimal(cost).quantize(QUANT)


# --- providers ------------------------------------------------------------------------------


def providers_of_team(team: Team) -> list[tuple[Provider, ApiKey]]:
    """Each provider the team's active keys use, with one key (the oldest healthy one) to read it with."""
    chosen: dict[tuple[str, str], ApiKey] = {}
    keys = ApiKey.objects.filter(team=team, status=KeyStatus.ACTIVE).order_by("created_at", "pk")
    for api_key in keys:
        endpoint = provider_endpoint(api_key)
        current = chosen.get(endpoint)
        if current is None or (current.health != "ok" and api_key.health == "ok"):
            chosen[endpoint] = api_key
    return [(provider_of(api_key, create=True), api_key) for api_key in chosen.values()]


# --- the storage core -----------------------------------------------------------------------


def _load_latest(provider: Provider, kind: str) -> dict[Series, Value]:
    rows = LatestPrice.objects.filter(provider=provider, kind=kind).values_list(
        "country", "service", "cost", "count", "detail"
    )
    return {(country, service): (cost, count, detail) for country, service, cost, count, detail in rows}


def _diff(
    latest: dict[Series, Value], offers: Iterable[Offer], *, complete: bool
) -> tuple[int, list[tuple[Series, Value]]]:
    """(entries seen, changed series with their new value); a complete answer retires missing offers."""
    changed: list[tuple[Series, Value]] = []
    seen: set[Series] = set()
    for offer in offers:
        series = (offer.country, offer.service)
        if series in seen:
            continue  # a provider listing one offer twice: the first one wins
        seen.add(series)
        value: Value = (_norm_cost(offer.cost), int(offer.count), offer.detail or None)
        old = latest.get(series)
        if old is None or old[0] != value[0] or old[1] != value[1] or (old[2] or None) != value[2]:
            if old is None and value[0] is None:
                continue  # never offered and still not offered
            changed.append((series, value))
    if complete:
        gone: Value = (None, 0, None)
        for series, old in latest.items():
            if series not in seen and old[0] is not None:
                changed.append((series, gone))
    return len(seen), changed


def _batches(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write_points_copy(snapshot: Snapshot, changed: list[tuple[Series, Value]], *, first_load: bool) -> None:
    """PostgreSQL: COPY the change rows, then upsert LatestPrice from a COPY-filled temporary table."""
    point_table = PricePoint._meta.db_table
    latest_table = LatestPrice._meta.db_table
    at, provider_id, kind = snapshot.taken_at, snapshot.provider_id, snapshot.kind
    rows = [
        (
            provider_id,
            snapshot.pk,
            kind,
            country,
            service,
            at,
            cost,
            count,
            None if d is None else json.dumps(d),
        )
        for (country, service), (cost, count, d) in changed
    ]
    with connection.cursor() as cursor:
        with cursor.copy(
            f"COPY {point_table} (provider_id, snapshot_id, kind, country, service, at, cost, count, detail) "
            "FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS simdesk_latest_in "
            "(country integer, service varchar(32), cost numeric(14,4), count integer, detail jsonb) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute("TRUNCATE simdesk_latest_in")
        with cursor.copy("COPY simdesk_latest_in (country, service, cost, count, detail) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row[3:5] + row[6:])
        # Table names come from the models' Meta, never from input. A first load needs no conflict check.
        sql = (
            f"INSERT INTO {latest_table} (provider_id, kind, country, service, cost, count, detail, changed_at) "  # noqa: S608
            "SELECT %s, %s, country, service, cost, count, detail, %s FROM simdesk_latest_in"
        )
        if not first_load:
            sql += (
                " ON CONFLICT (provider_id, kind, country, service) DO UPDATE SET "
                "cost = EXCLUDED.cost, count = EXCLUDED.count, detail = EXCLUDED.detail, "
                "changed_at = EXCLUDED.changed_at"
            )
        cursor.execute(sql, [provider_id, kind, at])


def _write_points_bulk(snapshot: Snapshot, changed: list[tuple[Series, Value]], *, first_load: bool) -> None:
    """Any database: batched multi-row inserts of the change rows and an upsert of LatestPrice.

    Plain `executemany` on the connection's cursor rather than model instances: at 200,000 rows the
    ORM's per-field preparation costs ten times the insert itself.
    """
    ops = connection.ops
    at = ops.adapt_datetimefield_value(snapshot.taken_at)
    provider_id, kind = snapshot.provider_id, snapshot.kind
    rows = [
        (
            provider_id,
            kind,
            country,
            service,
            ops.adapt_decimalfield_value(cost, 14, 4),
            count,
            None if detail is None else json.dumps(detail),
            at,
        )
        for (country, service), (cost, count, detail) in changed
    ]
    # Table names come from the models' Meta, never from input.
    insert_point = (
        f"INSERT INTO {PricePoint._meta.db_table} "  # noqa: S608
        "(provider_id, kind, country, service, cost, count, detail, at, snapshot_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    upsert_latest = (
        f"INSERT INTO {LatestPrice._meta.db_table} "  # noqa: S608
        "(provider_id, kind, country, service, cost, count, detail, changed_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (provider_id, kind, country, service) DO UPDATE SET "
        "cost = excluded.cost, count = excluded.count, detail = excluded.detail, changed_at = excluded.changed_at"
    )
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            cursor.executemany(insert_point, [row + (snapshot.pk,) for row in batch])
            cursor.executemany(upsert_latest, batch)


def snapshot_store(
    *,
    provider: Provider,
    offers: Iterable[Offer],
    kind: str = PriceKind.ACTIVATION,
    complete: bool = True,
    taken_at: datetime | None = None,
    use_copy: bool | None = None,
) -> Snapshot:
    """Store one price answer: a `Snapshot` header and a `PricePoint` per series that changed.

    `complete` means the answer lists every offer of the provider (getPrices without filters): a
    series missing from it is recorded as gone. `use_copy` forces the COPY path on or off (default:
    on for PostgreSQL). Runs in one transaction; makes no HTTP call.
    """
    started = time.monotonic()
    taken_at = taken_at or timezone.now()
    if use_copy is None:
        use_copy = connection.vendor == "postgresql"
    with transaction.atomic():
        # Serialise snapshots of one provider, so two teams' runs cannot diff against the same state.
        Provider.objects.select_for_update().filter(pk=provider.pk).first()
        latest = _load_latest(provider, kind)
        entries, changed = _diff(latest, _storable(offers), complete=complete)
        snapshot = Snapshot.objects.create(
            provider=provider, kind=kind, taken_at=taken_at, complete=complete, entries=entries, changes=0
        )
        if changed:
            write = _write_points_copy if use_copy else _write_points_bulk
            write(snapshot, changed, first_load=not latest)
        snapshot.changes = len(changed)
        snapshot.elapsed_ms = int((time.monotonic() - started) * 1000)
        Snapshot.objects.filter(pk=snapshot.pk).update(
            changes=snapshot.changes, elapsed_ms=snapshot.elapsed_ms
        )
    return snapshot


# --- reading a provider's prices (HTTP) -----------------------------------------------------


def _offers_from_prices(entries: Iterable[Any]) -> Iterator[Offer]:
    for entry in entries:
        # HeroSMS' `count` may exceed what can be bought; `physicalCount` is the real stock.
        count = entry.physical_count if entry.physical_count is not None else entry.count
        yield Offer(country=entry.country, service=entry.service, cost=entry.cost, count=count)


def _offers_from_top(rows: Iterable[Any], service: str) -> list[Offer]:
    """One offer per country of a getTopCountriesByService answer: a classic row with its Free Price map as
    the detail; SMSBower's rows, one per partner, folded into the cheapest price, the total count and a
    price -> count detail. Rows of a country slug the provider's own list does not name are left out."""
    offers: dict[tuple[int, str], Offer] = {}
    unplaced = 0
    for row in rows:
        if row.country is None:
            unplaced += 1
            continue
        key = (row.country, row.service or service)
        count = row.physical_count if row.physical_count is not None else row.count
        if row.provider_id is None:
            detail = {f"{price:.4f}": n for price, n in sorted(row.free_price_map.items())}
            offers.setdefault(
                key, Offer(country=key[0], service=key[1], cost=row.price, count=count, detail=detail or None)
            )
            continue
        folded = offers.get(key)
        detail = dict(folded.detail or {}) if folded is not None else {}
        if row.price is not None:
            label = f"{row.price:.4f}"
            detail[label] = detail.get(label, 0) + count
        prices = [price for price in (folded.cost if folded else None, row.price) if price is not None]
        offers[key] = Offer(
            country=key[0],
            service=key[1],
            cost=min(prices) if prices else None,
            count=(folded.count if folded else 0) + count,
            detail=dict(sorted(detail.items(), key=lambda item: Decimal(item[0]))) or None,
        )
    if unplaced:
        logger.info("top countries of %s: %d rows of a country the provider does not list", service, unplaced)
    return list(offers.values())


def snapshot_provider(
    *,
    provider: Provider,
    api_key: ApiKey,
    favourite_services: Iterable[str] = (),
    favourite_countries: Iterable[int] = (),
) -> list[Snapshot]:
    """Read and store getPrices (all countries x services), top countries and rent prices of favourites.

    The optional reads are skipped where the profile lacks the action; an upstream error in one of them
    is logged and the others go on. An error in getPrices itself is raised.
    """
    profile = profile_for_key(api_key)
    client = client_for_key(api_key)
    snapshots: list[Snapshot] = []
    prices = client.get_prices()
    snapshots.append(snapshot_store(provider=provider, offers=_offers_from_prices(prices)))

    services = sorted(set(favourite_services))
    if services and profile.supports_action("getTopCountriesByService"):
        offers: list[Offer] = []
        for service in services:
            try:
                rows = client.get_top_countries_by_service(service=service, free_price=True)
            except errors.ProviderError as exc:
                logger.info("top countries of %s failed: %s", service, exc.code)
                continue
            offers.extend(_offers_from_top(rows, service))
        snapshots.append(snapshot_store(provider=provider, offers=offers, kind=PriceKind.TOP, complete=False))

    countries = sorted(set(favourite_countries))
    if countries and profile.supports_action("getRentServicesAndCountries"):
        rent_offers: list[Offer] = []
        for country in countries:
            try:
                catalog = client.get_rent_services_and_countries(rent_time=RENT_HOURS, country=country)
            except errors.ProviderError as exc:
                logger.info("rent prices of country %s failed: %s", country, exc.code)
                continue
            rent_offers.extend(
                Offer(country=country, service=o.service, cost=o.cost, count=o.quant)
                for o in catalog.services
            )
        snapshots.append(
            snapshot_store(provider=provider, offers=rent_offers, kind=PriceKind.RENT, complete=False)
        )
    return snapshots


def team_price_settings(team: Team) -> TeamPriceSettings:
    """The team's snapshot settings, created with the defaults (`PRICE_SNAPSHOT_MINUTES`) on first use."""
    settings_row, _created = TeamPriceSettings.objects.get_or_create(
        team=team, defaults={"interval_minutes": settings.PRICE_SNAPSHOT_MINUTES}
    )
    return settings_row


def _ensure_catalog(api_key: ApiKey) -> None:
    """Sync a provider's catalog the first time it is snapshotted, so charts show names at once."""
    try:
        catalog_sync(api_key=api_key)
    except errors.ProviderError as exc:
        logger.info("first catalog sync failed: %s", exc.code)


def snapshot_team(*, team: Team) -> list[Snapshot]:
    """Snapshot every provider the team's active keys use, then evaluate the team's alerts.

    A provider that fails is recorded in `TeamPriceSettings.last_error` (and the key's health) and
    does not stop the others.
    """
    favourites = preset_targets(team)
    snapshots: list[Snapshot] = []
    problems: list[str] = []
    for provider, api_key in providers_of_team(team):
        if provider.catalog_synced_at is None:
            _ensure_catalog(api_key)
        key_ids = {
            k.pk
            for k in ApiKey.objects.filter(team=team)
            if provider_endpoint(k) == provider_endpoint(api_key)
        }
        mine = [(service, country) for key_id, service, country in favourites if key_id in key_ids]
        try:
            snapshots.extend(
                snapshot_provider(
                    provider=provider,
                    api_key=api_key,
                    favourite_services=[service for service, _c in mine],
                    favourite_countries=[country for _s, country in mine],
                )
            )
        except errors.ProviderError as exc:
            api_key_mark_health(api_key=api_key, exc=exc)
            problems.append(f"{provider.name}: {exc.code}")
            logger.info("snapshot of %s for team %s failed: %s", provider, team.pk, exc.code)
    settings_row = team_price_settings(team)
    TeamPriceSettings.objects.filter(pk=settings_row.pk).update(
        last_snapshot_at=timezone.now(), last_error="; ".join(problems)[:300]
    )
    alerts_evaluate(team=team)
    return snapshots


def snapshot_claim_due(*, now: datetime | None = None) -> list[int]:
    """Ids of teams whose snapshot is due, each claimed by a conditional UPDATE (safe to run twice).

    Teams with active keys get their settings row (every `PRICE_SNAPSHOT_MINUTES`) on first sight.
    """
    now = now or timezone.now()
    missing = Team.objects.filter(api_keys__status=KeyStatus.ACTIVE, price_settings__isnull=True).distinct()
    TeamPriceSettings.objects.bulk_create(
        [
            TeamPriceSettings(team=team, next_due_at=now, interval_minutes=settings.PRICE_SNAPSHOT_MINUTES)
            for team in missing
        ],
        ignore_conflicts=True,
    )
    claimed: list[int] = []
    due = TeamPriceSettings.objects.filter(enabled=True, next_due_at__lte=now).values_list(
        "pk", "team_id", "interval_minutes", "next_due_at"
    )
    for pk, team_id, interval, due_at in due:
        next_due = now + timedelta(minutes=max(interval, 1))
        if TeamPriceSettings.objects.filter(pk=pk, next_due_at=due_at).update(next_due_at=next_due) == 1:
            claimed.append(team_id)
    return claimed


def price_settings_update(
    *, team: Team, enabled: bool, interval_minutes: int, actor: Any = None
) -> TeamPriceSettings:
    """Change how often the team's prices are snapshotted; the next run moves accordingly."""
    settings_row = team_price_settings(team)
    settings_row.enabled = enabled
    settings_row.interval_minutes = max(int(interval_minutes), 5)
    base = settings_row.last_snapshot_at or timezone.now()
    settings_row.next_due_at = base + timedelta(minutes=settings_row.interval_minutes)
    settings_row.save(update_fields=["enabled", "interval_minutes", "next_due_at"])
    audit_record(
        team=team,
        actor=actor,
        action="prices.settings",
        summary=phrase(
            ngettext_lazy(
                "Price snapshots on, every %(minutes)s minute",
                "Price snapshots on, every %(minutes)s minutes",
                "minutes",
            )
            if enabled
            else ngettext_lazy(
                "Price snapshots off (every %(minutes)s minute when on)",
                "Price snapshots off (every %(minutes)s minutes when on)",
                "minutes",
            ),
            minutes=settings_row.interval_minutes,
        ),
    )
    return settings_row


# --- alerts ---------------------------------------------------------------------------------


def alert_create(
    *,
    team: Team,
    actor: Any,
    api_key: ApiKey,
    service: str,
    country: int,
    price_below: Decimal | None,
    stock_above: int | None,
) -> PriceAlert:
    """Add a price/stock alert on one of the team's keys, evaluated now against the latest prices."""
    if api_key.team_id != team.pk:
        raise ValueError("foreign key")
    alert = PriceAlert.objects.create(
        team=team,
        api_key=api_key,
        service=service.strip(),
        country=country,
        price_below=price_below,
        stock_above=stock_above,
        created_by=actor,
    )
    audit_record(
        team=team,
        actor=actor,
        action="prices.alert_add",
        api_key=api_key,
        summary=phrase(
            gettext_noop("Price alert added: %(service)s in country %(country)s"),
            service=alert.service,
            country=country,
        ),
    )
    alerts_evaluate(team=team, alerts=[alert])
    return alert


def alert_delete(*, team: Team, actor: Any, alert: PriceAlert) -> None:
    """Remove one of the team's alerts."""
    if alert.team_id != team.pk:
        raise ValueError("foreign alert")
    audit_record(
        team=team,
        actor=actor,
        action="prices.alert_delete",
        api_key=alert.api_key,
        summary=phrase(
            gettext_noop("Price alert removed: %(service)s in country %(country)s"),
            service=alert.service,
            country=alert.country,
        ),
    )
    alert.delete()


def _condition_holds(alert: PriceAlert, cost: Decimal | None, count: int | None) -> bool:
    if alert.price_below is None and alert.stock_above is None:
        return False
    if cost is None:
        return False  # nothing on offer: neither cheap nor in stock
    if alert.price_below is not None and not cost < alert.price_below:
        return False
    return not (alert.stock_above is not None and not (count or 0) > alert.stock_above)


def alerts_evaluate(*, team: Team, alerts: Iterable[PriceAlert] | None = None) -> list[PriceAlert]:
    """Check the team's alerts against the latest prices; returns the alerts that fired just now.

    An alert fires when its condition starts holding and re-arms once it stops; each firing is
    recorded on the alert (`fired_at`, `fired_count`) and once in the audit log.
    """
    if alerts is None:
        alerts = PriceAlert.objects.filter(team=team).select_related("api_key")
    fired: list[PriceAlert] = []
    now = timezone.now()
    providers: dict[int, Provider] = {}
    for alert in alerts:
        api_key = alert.api_key
        if api_key.pk not in providers:
            providers[api_key.pk] = provider_of(api_key, create=True)
        latest = LatestPrice.objects.filter(
            provider=providers[api_key.pk],
            kind=PriceKind.ACTIVATION,
            service=alert.service,
            country=alert.country,
        ).first()
        cost, count = (latest.cost, latest.count) if latest else (None, None)
        holds = _condition_holds(alert, cost, count)
        rows = PriceAlert.objects.filter(pk=alert.pk)
        rows.update(last_cost=cost, last_count=count, checked_at=now)
        alert.last_cost, alert.last_count, alert.checked_at = cost, count, now
        if not holds:
            rows.filter(firing=True).update(firing=False)
            alert.firing = False
            continue
        # Claim the transition with a conditional UPDATE: two evaluations at once fire it only once.
        if rows.filter(firing=False).update(firing=True, fired_at=now, fired_count=F("fired_count") + 1) != 1:
            continue
        alert.refresh_from_db(fields=["firing", "fired_at", "fired_count"])
        audit_record(
            team=team,
            actor=None,
            action="prices.alert",
            api_key=api_key,
            amount=cost,
            currency=api_key.currency,
            summary=phrase(
                gettext_noop(
                    "Price alert: %(service)s in country %(country)s costs %(cost)s, in stock: %(count)s"
                ),
                service=alert.service,
                country=alert.country,
                cost=Money(cost, api_key.currency),
                count=count,
            ),
            details={"service": alert.service, "country": alert.country, "count": count},
        )
        fired.append(alert)
    return fired
