"""History pages and CSV export on a large table, measured side by side with the raw SQL for the same rows.

Run against PostgreSQL (1,000,000 rows by default; the database named in the URL is recreated):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/simdesk_bench .venv/bin/python bench/bench_history.py
or with nothing set on SQLite (200,000 rows). BENCH_ROWS overrides the row count. Prints ratios; asserts nothing.
"""

import os
import statistics
import time
import tracemalloc

from _harness import ratio, setup_django

POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
ROWS = int(os.environ.get("BENCH_ROWS", 1_000_000 if POSTGRES else 200_000))


def recreate_postgres_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


if POSTGRES:
    recreate_postgres_database()
setup_django(keep_database_url=POSTGRES)

from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402

from accounts.models import ApiKey, Membership, Role, Team, User  # noqa: E402
from activations import selectors, views  # noqa: E402
from activations.filters import HistoryFilters  # noqa: E402
from kit.cursor import Cursor  # noqa: E402

SERVICES = ["tg", "wa", "vk", "go", "fb", "ig", "tw", "ot"]
STATUSES = ["finished", "cancelled", "expired", "finished", "finished"]


def fill(team: Team, api_key: ApiKey, user: User) -> None:
    """ROWS activations spread over a year, inserted by the database itself."""
    services = "ARRAY[" + ",".join(f"'{s}'" for s in SERVICES) + "]"
    statuses = "ARRAY[" + ",".join(f"'{s}'" for s in STATUSES) + "]"
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute(
                f"""
                INSERT INTO activations_activation (
                    public_id, team_id, api_key_id, member_id, upstream_id, phone, service, country, operator,
                    forward, verification, cost, currency, status, ready_reported, can_get_another_sms,
                    created_at, bought_at, closed_at, error_code, error_message, last_code, sms_count, updated_at,
                    price_confirmed, candidates)
                SELECT gen_random_uuid(), %s, %s, %s, (2640086027 + g)::text, (79000000000 + g)::text,
                    ({services})[1 + g %% 8], g %% 30, 'any', false, false, 10 + (g %% 700) / 100.0, 'RUB',
                    ({statuses})[1 + g %% 5], false, true,
                    now() - (g * interval '31 seconds'), now() - (g * interval '31 seconds'),
                    now() - (g * interval '31 seconds') + interval '5 minutes', '', '', (g %% 900000)::text, 1, now(),
                    true, '[]'
                FROM generate_series(1, %s) AS g
                """,
                [team.pk, api_key.pk, user.pk, ROWS],
            )
            cursor.execute("ANALYZE activations_activation")
        else:
            cursor.execute(
                """
                WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < %s)
                INSERT INTO activations_activation (
                    public_id, team_id, api_key_id, member_id, upstream_id, phone, service, country, operator,
                    forward, verification, cost, currency, status, ready_reported, can_get_another_sms,
                    created_at, bought_at, closed_at, error_code, error_message, last_code, sms_count, updated_at,
                    price_confirmed, candidates)
                SELECT lower(hex(randomblob(16))), %s, %s, %s, CAST(2640086027 + n AS TEXT),
                    CAST(79000000000 + n AS TEXT),
                    CASE n %% 8 WHEN 0 THEN 'tg' WHEN 1 THEN 'wa' WHEN 2 THEN 'vk' WHEN 3 THEN 'go'
                        WHEN 4 THEN 'fb' WHEN 5 THEN 'ig' WHEN 6 THEN 'tw' ELSE 'ot' END,
                    n %% 30, 'any', 0, 0, 10 + (n %% 700) / 100.0, 'RUB',
                    CASE n %% 5 WHEN 1 THEN 'cancelled' WHEN 2 THEN 'expired' ELSE 'finished' END, 0, 1,
                    datetime('now', '-' || (n * 31) || ' seconds'), datetime('now', '-' || (n * 31) || ' seconds'),
                    datetime('now', '-' || (n * 31 - 300) || ' seconds'), '', '', CAST(n %% 900000 AS TEXT), 1,
                    datetime('now'), 1, '[]'
                FROM g
                """,
                [ROWS, team.pk, api_key.pk, user.pk],
            )
            cursor.execute("ANALYZE")
        # Every number's purchase in the ledger (the exports read cost, refund and net from it), and the
        # refund of every cancelled one.
        for kind, sign, where in (("purchase", "", ""), ("refund", "-", "AND status = 'cancelled'")):
            cursor.execute(
                f"""
                INSERT INTO accounts_ledgerentry (team_id, api_key_id, member_id, kind, amount, currency,
                    reference, purchase_ref, event_key, created_at)
                SELECT team_id, api_key_id, member_id, '{kind}', {sign}cost, currency, upstream_id,
                    'activation:' || id, 'activation:' || id || ':{kind}', created_at
                FROM activations_activation WHERE team_id = %s {where}
                """,  # noqa: S608 - constants only
                [team.pk],
            )
        cursor.execute("ANALYZE")


def median_ms(action, repeat: int = 7) -> float:
    action()  # warm the caches and the plan
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


RAW_KEYSET = "SELECT * FROM activations_activation WHERE team_id = %s {extra} ORDER BY created_at DESC, id DESC LIMIT 51"


def raw(sql: str, params: list) -> None:
    """The same page in raw SQL: its rows, then its keys, buyers and codes by id, as the page shows them."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        if not rows:
            return
        for table, column, ids in (
            ("accounts_apikey", "id", {r["api_key_id"] for r in rows}),
            ("accounts_user", "id", {r["member_id"] for r in rows if r["member_id"]}),
            ("activations_sms", "activation_id", {r["id"] for r in rows}),
        ):
            if ids:
                marks = ",".join(["%s"] * len(ids))
                cursor.execute(f"SELECT * FROM {table} WHERE {column} IN ({marks})", list(ids))
                cursor.fetchall()


def main() -> None:
    user = User.objects.create_user("bench", password="bench-password-1")
    team = Team.objects.create(name="Bench", slug="bench")
    membership = Membership.objects.create(team=team, user=user, role=Role.OWNER)
    api_key = ApiKey.objects.create(
        team=team, label="k", profile="sandbox", secret_encrypted="x", secret_last4="0000"
    )
    started = time.perf_counter()
    fill(team, api_key, user)
    print(f"{connection.vendor}: {ROWS:,} activations inserted in {time.perf_counter() - started:.1f} s\n")

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT created_at, id FROM activations_activation WHERE team_id = %s "
            "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET %s",
            [team.pk, int(ROWS * 0.9)],
        )
        deep_at, deep_id = cursor.fetchone()
    if connection.vendor == "sqlite" and isinstance(deep_at, str):
        from django.utils.dateparse import parse_datetime

        deep_at = parse_datetime(deep_at)
    deep = Cursor(deep_at if deep_at.tzinfo else deep_at.replace(tzinfo=__import__("datetime").UTC), deep_id)
    everything = HistoryFilters(membership=membership)
    telegram = HistoryFilters({"service": "tg"}, membership=membership)
    keyset_after = "AND created_at <= %s AND (created_at < %s OR (created_at = %s AND id < %s))"
    cases = [
        (
            "first page",
            lambda: selectors.history_page(membership, everything, after=None),
            lambda: raw(RAW_KEYSET.format(extra=""), [team.pk]),
        ),
        (
            "page at 90% depth",
            lambda: selectors.history_page(membership, everything, after=deep),
            lambda: raw(
                RAW_KEYSET.format(extra=keyset_after),
                [team.pk, deep.created_at, deep.created_at, deep.created_at, deep.id],
            ),
        ),
        (
            "service filter, 90% depth",
            lambda: selectors.history_page(membership, telegram, after=deep),
            lambda: raw(
                RAW_KEYSET.format(extra="AND service = %s " + keyset_after),
                [team.pk, "tg", deep.created_at, deep.created_at, deep.created_at, deep.id],
            ),
        ),
    ]
    print(f"{'history page (50 rows)':<28} {'simdesk ms':>11} {'raw SQL ms':>11} {'ratio':>7}")
    for name, ours, theirs in cases:
        a, b = median_ms(ours), median_ms(theirs)
        print(f"{name:<28} {a:>11.2f} {b:>11.2f} {ratio(a, b):>7}")
    offset_ms = median_ms(
        lambda: raw(
            "SELECT * FROM activations_activation WHERE team_id = %s ORDER BY created_at DESC, id DESC "
            "LIMIT 51 OFFSET %s",
            [team.pk, int(ROWS * 0.9)],
        ),
        repeat=3,
    )
    print(f"{'(OFFSET pagination, same depth)':<28} {'':>11} {offset_ms:>11.2f}\n")

    # The plain flavour (written by COPY on PostgreSQL) and the Excel one (always the Python writer).
    export_csv(membership, user, "format=plain", "plain")
    export_csv(membership, user, "format=excel", "Excel")


def _stream_csv(user: User, query: str, *, trace: bool) -> tuple[int, int, float, int]:
    """Consume the CSV view's stream; returns (rows, bytes, seconds, peak traced memory if `trace`)."""
    request = RequestFactory().get(f"/t/bench/activations/history.csv{query}")
    request.user = user
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    response = views.history_csv(request, team_slug="bench")
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += 1
    seconds = time.perf_counter() - started
    peak = 0
    if trace:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return lines - 1, size, seconds, peak


def export_csv(membership: Membership, user: User, flavour: str, name: str) -> None:
    # Memory (traced, which is slow) for an eighth and for the whole export: it must not grow with the rows.
    small_rows, _, _, small_peak = _stream_csv(user, f"?service=tg&{flavour}", trace=True)
    _, _, _, peak = _stream_csv(user, f"?{flavour}", trace=True)
    rows, size, seconds, _ = _stream_csv(user, f"?{flavour}", trace=False)
    started = time.perf_counter()
    if POSTGRES:
        with (
            connection.cursor() as cursor,
            cursor.connection.cursor().copy(
                "COPY (SELECT created_at, bought_at, closed_at, status, service, country, operator, phone, cost, "
                f"currency, upstream_id FROM activations_activation WHERE team_id = {membership.team_id} "
                "ORDER BY created_at DESC, id DESC) TO STDOUT WITH CSV HEADER"
            ) as copy,
        ):
            copied = sum(len(block) for block in copy)
        baseline = "PostgreSQL COPY"
    else:
        import csv
        import io

        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT created_at, bought_at, closed_at, status, service, country, operator, phone, cost, currency, "
                "upstream_id FROM activations_activation WHERE team_id = %s ORDER BY created_at DESC, id DESC",
                [membership.team_id],
            )
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            copied = 0
            while batch := cursor.fetchmany(5000):
                writer.writerows(batch)
                copied += buffer.tell()
                buffer.seek(0)
                buffer.truncate()
        baseline = "raw cursor + csv"
    raw_seconds = time.perf_counter() - started
    print(
        f"CSV export ({name}) of {rows:,} rows ({size / 1e6:.0f} MB): {rows / seconds:,.0f} rows/s; "
        f"{baseline}: {ROWS / raw_seconds:,.0f} rows/s ({copied / 1e6:.0f} MB); "
        f"ratio {ratio(ROWS / raw_seconds, rows / seconds)} slower"
    )
    print(
        f"peak memory while streaming: {small_peak / 1e6:.1f} MB for {small_rows:,} rows, "
        f"{peak / 1e6:.1f} MB for {rows:,} rows; ratio {ratio(peak, small_peak)} for "
        f"{ratio(rows, small_rows)} the rows"
    )


if __name__ == "__main__":
    main()
