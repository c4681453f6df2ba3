"""Benchmark: storing full price snapshots (200 countries x 1,000 services) as changes.

Builds a synthetic getPrices answer, parses it with the real parser, stores it three times (new,
identical, 5% changed) and then N more 5%-changed snapshots, and prints timings next to ratios:
our offers/s against a raw bulk insert (COPY on PostgreSQL, executemany on SQLite) of the same rows,
and the rows stored after N snapshots against N full copies. It prints; it asserts nothing.

Runs in a throwaway test database:

    .venv/bin/python bench/bench_snapshots.py [--countries 200] [--services 1000] [--snapshots 10]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/simdesk .venv/bin/python bench/bench_snapshots.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from prices.services import Offer  # noqa: E402
from providers import parsing  # noqa: E402


def synthetic_answer(countries: int, services: int, *, generation: int = 0, share: float = 0.0) -> bytes:
    """A getPrices body; `share` of the offers (a different slice per generation) cost a little more."""
    step = int(1 / share) if share else 0
    body: dict[str, dict[str, dict[str, object]]] = {}
    index = 0
    for country in range(countries):
        row = body.setdefault(str(country), {})
        for service in range(services):
            cost = 10 + (country * 7 + service * 3) % 90 + 0.25
            if step and (index + generation) % step == 0:
                cost += 0.5 * generation
            row[f"s{service}"] = {"cost": round(cost, 2), "count": 100 + service}
            index += 1
    return json.dumps(body).encode()


def offers_of(body: bytes) -> list[Offer]:
    answer = parsing.decode_answer(body, 200, secret="bench-secret-key", provider_tz=None, retry_after=None)
    return [Offer(e.country, e.service, e.cost, e.count) for e in parsing.parse_prices(answer)]


def raw_insert_seconds(offers: list[Offer]) -> float:
    """The floor: the same rows into a bare table without indexes, diffing or bookkeeping."""
    rows = [(o.country, o.service, o.cost, o.count) for o in offers]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_raw (country integer, service varchar(32), cost numeric(14,4), count integer)"
        )
        started = time.perf_counter()
        if connection.vendor == "postgresql":
            with cursor.copy("COPY bench_raw (country, service, cost, count) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                "INSERT INTO bench_raw (country, service, cost, count) VALUES (%s, %s, %s, %s)",
                [(c, s, str(p), n) for c, s, p, n in rows],
            )
        elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_raw")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--countries", type=int, default=200)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--snapshots", type=int, default=10, help="total snapshots for the storage ratio")
    parser.add_argument("--change", type=float, default=0.05, help="share of offers changed per snapshot")
    args = parser.parse_args()

    setup_test_environment()
    if connection.vendor == "postgresql":
        # Our own scratch database, so a bench never meets a test run's.
        connection.settings_dict.setdefault("TEST", {})["NAME"] = (
            f"bench_{connection.settings_dict['NAME']}_{os.getpid()}"
        )
    old_name = connection.creation.create_test_db(
        verbosity=0, autoclobber=True, serialize=False, keepdb=False
    )
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:
    from prices.models import LatestPrice, PricePoint, Snapshot
    from prices.services import snapshot_store
    from providers.models import Provider

    size = args.countries * args.services
    provider = Provider.objects.create(profile="custom", base_url="http://bench.example", currency="RUB")
    print(
        f"database: {connection.vendor}; answer: {args.countries} countries x {args.services} services = {size:,} offers"
    )

    started = time.perf_counter()
    body = synthetic_answer(args.countries, args.services)
    offers = offers_of(body)
    parse_s = time.perf_counter() - started
    print(f"build + parse the answer ({len(body) / 1e6:.1f} MB): {parse_s:.2f} s")

    raw_s = raw_insert_seconds(offers)
    raw_label = "COPY" if connection.vendor == "postgresql" else "executemany INSERT"

    def timed(offers_: list[Offer]) -> tuple[float, int]:
        t0 = time.perf_counter()
        snapshot = snapshot_store(provider=provider, offers=offers_)
        return time.perf_counter() - t0, snapshot.changes

    first_s, first_rows = timed(offers)
    second_s, second_rows = timed(offers)
    changed = offers_of(synthetic_answer(args.countries, args.services, generation=1, share=args.change))
    third_s, third_rows = timed(changed)

    print()
    print(f"{'snapshot':<28}{'seconds':>9}{'rows written':>14}{'offers/s':>12}{'vs raw ' + raw_label:>28}")
    print(f"{'raw ' + raw_label + ' (floor)':<28}{raw_s:>9.2f}{size:>14,}{size / raw_s:>12,.0f}{'1.00x':>28}")
    for label, seconds, rows in (
        ("1st (all new)", first_s, first_rows),
        ("2nd (identical)", second_s, second_rows),
        (f"3rd ({args.change:.0%} changed)", third_s, third_rows),
    ):
        print(f"{label:<28}{seconds:>9.2f}{rows:>14,}{size / seconds:>12,.0f}{seconds / raw_s:>27.2f}x")

    for generation in range(2, args.snapshots - 1):
        snapshot_store(
            provider=provider,
            offers=offers_of(
                synthetic_answer(args.countries, args.services, generation=generation, share=args.change)
            ),
        )
    snapshots = Snapshot.objects.filter(provider=provider).count()
    points = PricePoint.objects.filter(provider=provider).count()
    latest = LatestPrice.objects.filter(provider=provider).count()
    naive = snapshots * size
    print()
    print(f"after {snapshots} snapshots ({args.change:.0%} of offers changing each time after the 2nd):")
    print(
        f"  stored: {snapshots} headers + {points:,} price points + {latest:,} latest = {snapshots + points + latest:,} rows"
    )
    print(f"  naive (every offer every time): {naive:,} rows")
    print(
        f"  ratio stored / naive: {(snapshots + points + latest) / naive:.3f}  (points only: {points / naive:.3f})"
    )
    print(
        f"  identical snapshot cost: {second_rows} price points + 1 header; time vs 1st: {second_s / first_s:.2f}x"
    )


if __name__ == "__main__":
    main()
