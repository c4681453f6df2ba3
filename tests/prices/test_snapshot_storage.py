"""Change-only storage: a header per snapshot, a price point only where a series changed."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from prices.models import LatestPrice, PriceKind, PricePoint, Snapshot
from prices.services import Offer, snapshot_store
from tests.prices.conftest import synthetic_offers

pytestmark = pytest.mark.django_db


def _offers(**costs: str) -> list[Offer]:
    return [Offer(country=0, service=code, cost=Decimal(cost), count=10) for code, cost in costs.items()]


def test_it_stores_every_series_the_first_time(provider):
    snapshot = snapshot_store(provider=provider, offers=_offers(tg="10", wa="12.5"))

    assert snapshot.entries == 2 and snapshot.changes == 2
    assert PricePoint.objects.count() == 2
    assert set(LatestPrice.objects.values_list("service", "cost")) == {
        ("tg", Decimal("10")),
        ("wa", Decimal("12.5")),
    }


def test_it_stores_only_a_header_when_nothing_changed(provider):
    snapshot_store(provider=provider, offers=_offers(tg="10", wa="12.5"))

    second = snapshot_store(provider=provider, offers=_offers(tg="10.0000", wa="12.50"))

    assert second.changes == 0
    assert Snapshot.objects.count() == 2
    assert PricePoint.objects.count() == 2


def test_one_change_writes_one_row(provider):
    first = timezone.now() - timedelta(hours=1)
    snapshot_store(provider=provider, offers=_offers(tg="10", wa="12.5"), taken_at=first)

    second = snapshot_store(provider=provider, offers=_offers(tg="10", wa="11"))

    assert second.changes == 1
    point = PricePoint.objects.get(snapshot=second)
    assert (point.service, point.cost, point.at) == ("wa", Decimal("11"), second.taken_at)
    latest = LatestPrice.objects.get(service="wa")
    assert latest.cost == Decimal("11") and latest.changed_at == second.taken_at
    assert LatestPrice.objects.get(service="tg").changed_at == first


def test_a_stock_change_alone_is_a_change(provider):
    snapshot_store(provider=provider, offers=_offers(tg="10"))

    second = snapshot_store(
        provider=provider, offers=[Offer(country=0, service="tg", cost=Decimal("10"), count=11)]
    )

    assert second.changes == 1


def test_an_offer_missing_from_a_complete_answer_is_recorded_as_gone_once(provider):
    snapshot_store(provider=provider, offers=_offers(tg="10", wa="12"))

    gone = snapshot_store(provider=provider, offers=_offers(tg="10"))
    again = snapshot_store(provider=provider, offers=_offers(tg="10"))

    assert gone.changes == 1 and again.changes == 0
    assert PricePoint.objects.get(snapshot=gone).cost is None
    assert LatestPrice.objects.get(service="wa").count == 0


def test_a_partial_answer_leaves_other_series_alone(provider):
    snapshot_store(provider=provider, offers=_offers(tg="10", wa="12"), kind=PriceKind.TOP, complete=False)

    partial = snapshot_store(provider=provider, offers=_offers(tg="9"), kind=PriceKind.TOP, complete=False)

    assert partial.changes == 1
    assert LatestPrice.objects.get(service="wa", kind=PriceKind.TOP).cost == Decimal("12")


def test_free_price_maps_are_part_of_the_value(provider):
    def top(detail):
        return [Offer(country=0, service="tg", cost=Decimal("10"), count=5, detail=detail)]

    snapshot_store(provider=provider, offers=top({"10.0000": 5}), kind=PriceKind.TOP, complete=False)
    same = snapshot_store(provider=provider, offers=top({"10.0000": 5}), kind=PriceKind.TOP, complete=False)
    moved = snapshot_store(
        provider=provider, offers=top({"10.0000": 4, "12.0000": 1}), kind=PriceKind.TOP, complete=False
    )

    assert (same.changes, moved.changes) == (0, 1)
    assert PricePoint.objects.get(snapshot=moved).detail == {"10.0000": 4, "12.0000": 1}


def test_kinds_are_separate_series(provider):
    snapshot_store(provider=provider, offers=_offers(tg="10"))
    rent = snapshot_store(provider=provider, offers=_offers(tg="30"), kind=PriceKind.RENT, complete=False)

    assert rent.changes == 1
    assert LatestPrice.objects.filter(service="tg").count() == 2


@pytest.mark.parametrize("use_copy", [False, True] if connection.vendor == "postgresql" else [False])
def test_a_full_catalog_is_stored_then_costs_a_header_then_only_its_changes(provider, use_copy):
    """Both write paths (COPY and batched inserts) across several batches; the full-size run (200 countries
    x 1,000 services) and its timing are bench/bench_snapshots.py's."""
    full = synthetic_offers(40, 150)

    first = snapshot_store(provider=provider, offers=full, use_copy=use_copy)
    second = snapshot_store(provider=provider, offers=full, use_copy=use_copy)
    third = snapshot_store(
        provider=provider,
        offers=synthetic_offers(40, 150, changed_every=20),
        use_copy=use_copy,
    )

    assert (first.entries, first.changes) == (6_000, 6_000)
    assert second.changes == 0
    assert third.changes == 300
    assert PricePoint.objects.count() == 6_300
    assert LatestPrice.objects.count() == 6_000
    assert LatestPrice.objects.get(country=0, service="s0").cost == Decimal("10.75")
