"""The activation history and ledger CSVs: their column specs for `kit.csv`, and on PostgreSQL the history
written by the database itself with COPY, in exactly the bytes `kit.csv` writes.

The COPY rows are the same queryset the history page filters (team, member's visibility, filters), used
as an id subquery. Each column repeats the writer's rule for its type, built from the same constants:
text neutralised against formulas (`kit.csv.FORMULA_STARTS`), money at `kit.formats.PLAIN_PLACES`
decimals, booleans as `kit.csv.TRUE`/`FALSE`, times as `datetime.isoformat()` in UTC. Empty values are
NULL, which COPY writes as nothing, as Python's csv writes an empty string (COPY would quote one).
COPY ends rows with "\\n"; each row is one message of the COPY protocol, so its end is rewritten to
the dialect's "\\r\\n" without touching a newline inside a quoted value.
"""

from collections.abc import Iterator

from django.db import connection

from accounts.models import LedgerEntry, Membership
from activations.filters import HistoryFilters
from activations.selectors import ExportRow, history
from kit.csv import FALSE, FORMULA_STARTS, LINE_END, NEUTRALISER, TRUE, Column
from kit.formats import PLAIN_PLACES


def _field(name: str) -> Column[ExportRow]:
    return Column(name, lambda row: row.values[name])


HISTORY_COLUMNS: list[Column[ExportRow]] = [
    _field("created_at"),
    _field("bought_at"),
    _field("closed_at"),
    _field("status"),
    _field("service"),
    _field("country"),
    _field("operator"),
    _field("phone"),
    _field("cost"),
    _field("currency"),
    Column("key", lambda row: row.key_label),
    Column("member", lambda row: row.member),
    _field("upstream_id"),
    Column("codes", lambda row: " ".join(row.codes)),
    _field("forward"),
    _field("verification"),
    Column("error", lambda row: row.values["error_message"]),
]
HEADER = tuple(column.header for column in HISTORY_COLUMNS)

LEDGER_COLUMNS: list[Column[LedgerEntry]] = [
    Column("created_at", lambda entry: entry.created_at),
    Column("kind", lambda entry: entry.kind),
    Column("amount", lambda entry: entry.amount),
    Column("currency", lambda entry: entry.currency),
    Column("balance_after", lambda entry: entry.balance_after),
    Column("key", lambda entry: entry.api_key.label),
    Column("member", lambda entry: entry.member.username if entry.member else None),
    Column("reference", lambda entry: entry.reference),
]


# --- the same history, written by PostgreSQL --------------------------------------------------------


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_FORMULA_STARTS_SQL = ", ".join(f"chr({ord(char)})" for char in FORMULA_STARTS)


def _iso(column: str) -> str:
    """`datetime.isoformat()` of a UTC timestamp: microseconds only when there are any."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE '.' || to_char({utc}, 'US') END "
        f"|| '+00:00'"
    )


def _money(column: str) -> str:
    """`kit.formats.money_plain`: a numeric rounded to its fixed places is written with all of them."""
    return f"round({column}, {PLAIN_PLACES})::text"


def _flag(column: str) -> str:
    return f"CASE WHEN {column} THEN {_literal(TRUE)} WHEN NOT {column} THEN {_literal(FALSE)} END"


def _text(expression: str) -> str:
    """`kit.csv.neutralise` of a text value; an empty one becomes NULL (an unquoted empty cell)."""
    value = f"NULLIF({expression}, '')"
    return (
        f"CASE WHEN left({value}, 1) IN ({_FORMULA_STARTS_SQL}) "
        f"THEN {_literal(NEUTRALISER)} || {value} ELSE {value} END"
    )


# One expression per column of HISTORY_COLUMNS, in its order.
_COPY_COLUMNS = (
    _iso("a.created_at"),
    _iso("a.bought_at"),
    _iso("a.closed_at"),
    _text("a.status"),
    _text("a.service"),
    "a.country::text",
    _text("a.operator"),
    _text("a.phone"),
    _money("a.cost"),
    _text("a.currency"),
    _text("k.label"),
    _text("u.username"),
    _text("a.upstream_id"),
    _text("c.codes"),
    _flag("a.forward"),
    _flag("a.verification"),
    _text("a.error_message"),
)


def copy_statement(membership: Membership, filters: HistoryFilters) -> tuple[str, tuple]:
    """COPY ... TO STDOUT for exactly the rows of the history filters, newest first."""
    ids_sql, params = history(membership, filters).order_by().values("id").query.sql_with_params()
    select = ", ".join(
        f'{expression} AS "{name}"' for expression, name in zip(_COPY_COLUMNS, HEADER, strict=True)
    )
    # Only constants and Django's own SQL for the id subquery are pasted; its values stay bound parameters.
    sql = (
        f"COPY (SELECT {select} FROM activations_activation a "  # noqa: S608
        "JOIN accounts_apikey k ON k.id = a.api_key_id "
        "LEFT JOIN accounts_user u ON u.id = a.member_id "
        # A lateral join, so the neutralising CASE reads the codes without running their query again.
        "LEFT JOIN LATERAL (SELECT string_agg(s.code, ' ' ORDER BY s.received_at, s.id) AS codes "
        "FROM activations_sms s WHERE s.activation_id = a.id) c ON true "
        f"WHERE a.id IN ({ids_sql}) ORDER BY a.created_at DESC, a.id DESC) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    return sql, params


def copy_history_csv(membership: Membership, filters: HistoryFilters) -> Iterator[bytes]:
    """Stream the CSV as PostgreSQL writes it, row by row, with the dialect's line ends."""
    sql, params = copy_statement(membership, filters)
    line_end = LINE_END.encode()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(sql, params) as copy:
        # The protocol sends one CopyData message per row, and psycopg reads one message at a time.
        for block in copy:
            row = bytes(block)
            yield row[:-1] + line_end if row.endswith(b"\n") else row
