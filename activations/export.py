"""The history CSV on PostgreSQL: the database writes it with COPY, in the exact format of the Python path.

The rows are the same queryset the history page filters (team, member's visibility, filters), used as
an id subquery; formatting matches `views._money` and `datetime.isoformat()` so both paths agree byte
for byte (empty values are NULL, which COPY writes as nothing, as Python's csv does).
"""

from collections.abc import Iterator

from django.db import connection

from accounts.models import Membership
from activations.selectors import HistoryFilters, history

HEADER = (
    "created_at", "bought_at", "closed_at", "status", "service", "country", "operator", "phone",
    "cost", "currency", "key", "member", "upstream_id", "codes", "forward", "verification", "error",
)  # fmt: skip


def _iso(column: str) -> str:
    """`datetime.isoformat()` of a UTC timestamp: microseconds only when there are any."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE '.' || to_char({utc}, 'US') END "
        f"|| '+00:00'"
    )


def _money(column: str) -> str:
    """`views._money`: four places at most, two at least, no exponent."""
    text = f"round({column}, 4)::text"
    fraction = f"rtrim(split_part({text}, '.', 2), '0')"
    return (
        f"split_part({text}, '.', 1) || '.' || "
        f"CASE WHEN length({fraction}) < 2 THEN rpad({fraction}, 2, '0') ELSE {fraction} END"
    )


def _text(expression: str) -> str:
    return f"NULLIF({expression}, '')"


def copy_statement(membership: Membership, filters: HistoryFilters) -> tuple[str, tuple]:
    """COPY ... TO STDOUT for exactly the rows of the history filters, newest first."""
    ids_sql, params = history(membership, filters).order_by().values("id").query.sql_with_params()
    columns = [
        _iso("a.created_at"),
        _iso("a.bought_at"),
        _iso("a.closed_at"),
        "a.status",
        "a.service",
        "a.country::text",
        _text("a.operator"),
        _text("a.phone"),
        _money("a.cost"),
        "a.currency",
        "k.label",
        "u.username",
        _text("a.upstream_id"),
        "(SELECT string_agg(s.code, ' ' ORDER BY s.received_at, s.id) FROM activations_sms s "
        "WHERE s.activation_id = a.id)",
        "CASE WHEN a.forward THEN '1' ELSE '0' END",
        "CASE WHEN a.verification THEN '1' ELSE '0' END",
        _text("a.error_message"),
    ]
    select = ", ".join(f'{expression} AS "{name}"' for expression, name in zip(columns, HEADER, strict=True))
    # Only constants and Django's own SQL for the id subquery are pasted; its values stay bound parameters.
    sql = (
        f"COPY (SELECT {select} FROM activations_activation a "  # noqa: S608
        "JOIN accounts_apikey k ON k.id = a.api_key_id "
        "LEFT JOIN accounts_user u ON u.id = a.member_id "
        f"WHERE a.id IN ({ids_sql}) ORDER BY a.created_at DESC, a.id DESC) TO STDOUT WITH (FORMAT csv, HEADER)"
    )
    return sql, params


def copy_history_csv(membership: Membership, filters: HistoryFilters) -> Iterator[bytes]:
    """Stream the CSV as PostgreSQL writes it, block by block."""
    sql, params = copy_statement(membership, filters)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(sql, params) as copy:
        for block in copy:
            yield bytes(block)
