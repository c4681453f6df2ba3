"""The activation history and ledger CSVs: their column specs for `kit.csv`, and on PostgreSQL the history
written by the database itself with COPY, in exactly the bytes `kit.csv` writes, in either flavour.

The money columns are the ledger's (`purchases.selectors`): `cost` (everything booked on the purchase but
its refund), `refund` and `net` (what it really cost), empty for a purchase that was never made, so a
spreadsheet's sum of `net` is the ledger's. Service and country come as code and name (the key's catalogue
in the reader's language, English in the plain flavour; a code it does not name is its own name). The status
is its translated label in the Excel flavour and its code in the plain one, and so is the ledger's kind.

The COPY rows are the same queryset the history page filters (team, member's visibility, filters), used
as an id subquery; the names are passed in as arrays read from the same catalogue the Python writer reads,
and so are the statuses' labels in the Excel flavour (`kit.csv.Column.code_labels`, translated when the
statement is built; the plain flavour passes none and writes the code).
Each column repeats the writer's rule for its type, built from the same constants:
text neutralised against formulas (`kit.csv.FORMULA_STARTS`), money at `kit.formats.PLAIN_PLACES`
decimals, booleans as `kit.csv.TRUE`/`FALSE`, times as `datetime.isoformat()` in UTC (plain) or
`kit.formats.sheet_time` in the reader's zone with the reader's decimal mark and separator (Excel, whose
BOM and translated header come from `kit.csv` before the rows). Empty values are
NULL, which COPY writes as nothing, as Python's csv writes an empty string (COPY would quote one).
COPY ends rows with "\\n"; each row is one message of the COPY protocol, so its end is rewritten to
the dialect's "\\r\\n" without touching a newline inside a quoted value.
"""

import csv
import io
from collections.abc import Iterator
from datetime import UTC

from django.db import connection
from django.db.models import Choices
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from accounts.models import LedgerEntry, LedgerKind, Membership
from activations.filters import HistoryFilters
from activations.models import ActivationStatus
from activations.selectors import ExportRow, export_names, history
from kit.csv import (
    DIALECT,
    FALSE,
    FORMULA_STARTS,
    LINE_END,
    NEUTRALISER,
    PLAIN,
    TRUE,
    Column,
    Flavour,
    header_line,
    neutralise,
)
from kit.formats import PLAIN_PLACES
from kit.phrases import PHRASE_START, phrase_text
from purchases.selectors import NET, REFUNDED, SPENT


def _field(name: str, label: str, labels: type[Choices] | None = None) -> Column[ExportRow]:
    return Column(name, lambda row: row.values[name], label, labels)


HISTORY_COLUMNS: list[Column[ExportRow]] = [
    _field("created_at", _("Created")),
    _field("bought_at", _("Bought")),
    _field("closed_at", _("Closed")),
    _field("status", _("Status"), ActivationStatus),  # its label in the Excel flavour, its code in plain
    _field("service", _("Service code")),
    Column("service_name", lambda row: row.service_name, _("Service")),
    _field("country", _("Country code")),
    Column("country_name", lambda row: row.country_name, _("Country")),
    _field("operator", _("Operator")),
    _field("phone", _("Phone")),
    _field("cost", _("Cost")),  # the ledger's: `purchases.selectors.money_of`, set by history_for_export
    _field("refund", _("Refund")),
    _field("net", _("Net spent")),
    _field("currency", _("Currency")),
    Column("key", lambda row: row.key_label, _("Key")),
    Column("member", lambda row: row.member, _("Member")),
    _field("upstream_id", _("Activation id")),
    Column("codes", lambda row: " ".join(row.codes), _("Codes")),
    _field("forward", _("Forwarding")),
    _field("verification", _("Call verification")),
    # A stored phrase (kit.phrases), said in the flavour's language; COPY's rows are said again below.
    Column("error", lambda row: phrase_text(row.values["error_message"]), _("Error")),
]
HEADER = tuple(column.header for column in HISTORY_COLUMNS)

LEDGER_COLUMNS: list[Column[LedgerEntry]] = [
    Column("created_at", lambda entry: entry.created_at, _("Time")),
    Column("kind", lambda entry: entry.kind, _("Kind"), LedgerKind),
    Column("amount", lambda entry: entry.amount, _("Amount")),
    Column("currency", lambda entry: entry.currency, _("Currency")),
    Column("balance_after", lambda entry: entry.balance_after, _("Balance after")),
    Column("key", lambda entry: entry.api_key.label, _("Key")),
    Column("member", lambda entry: entry.member.username if entry.member else None, _("Member")),
    Column("reference", lambda entry: entry.reference, _("Reference")),
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


def _sheet_time(column: str, zone: str) -> str:
    """`kit.formats.sheet_time`: to the second in the reader's zone (an IANA name PostgreSQL knows too)."""
    return f"to_char({column} AT TIME ZONE {_literal(zone)}, 'YYYY-MM-DD HH24:MI:SS')"


def _money(column: str, mark: str = ".") -> str:
    """`kit.formats.money_plain`: a numeric rounded to its fixed places is written with all of them."""
    text = f"round({column}, {PLAIN_PLACES})::text"
    return text if mark == "." else f"replace({text}, '.', {_literal(mark)})"


def _flag(column: str) -> str:
    return f"CASE WHEN {column} THEN {_literal(TRUE)} WHEN NOT {column} THEN {_literal(FALSE)} END"


def _text(expression: str) -> str:
    """`kit.csv.neutralise` of a text value; an empty one becomes NULL (an unquoted empty cell)."""
    value = f"NULLIF({expression}, '')"
    return (
        f"CASE WHEN left({value}, 1) IN ({_FORMULA_STARTS_SQL}) "
        f"THEN {_literal(NEUTRALISER)} || {value} ELSE {value} END"
    )


def _ledger_part(column: str, mark: str, sign: str = "") -> str:
    """`purchases.selectors.money_of`: nothing when the ledger booked nothing, else the part or 0."""
    return f"CASE WHEN m.{NET} IS NOT NULL THEN {_money(f'{sign}COALESCE(m.{column}, 0)', mark)} END"


def copy_zone(flavour: Flavour) -> str | None:
    """The IANA name COPY writes the flavour's times in ("UTC" for plain); None when the zone has none
    (a fixed offset), and then only the Python writer can write this flavour."""
    if flavour.time_zone is None or flavour.time_zone is UTC:
        return "UTC"
    return getattr(flavour.time_zone, "key", None)


def _copy_columns(flavour: Flavour, zone: str) -> tuple[str, ...]:
    """One expression per column of HISTORY_COLUMNS, in its order, written as `flavour` writes it."""
    time = _iso if flavour.is_plain else lambda column: _sheet_time(column, zone)
    mark = flavour.decimal_mark
    return (
        time("a.created_at"),
        time("a.bought_at"),
        time("a.closed_at"),
        _text("COALESCE(st.label, a.status)"),
        _text("a.service"),
        _text("COALESCE(sn.name, a.service)"),
        "a.country::text",
        _text("COALESCE(cn.name, a.country::text)"),
        _text("a.operator"),
        _text("a.phone"),
        _ledger_part(SPENT, mark),
        _ledger_part(REFUNDED, mark, sign="-"),
        _ledger_part(NET, mark),
        _text("a.currency"),
        _text("k.label"),
        _text("u.username"),
        _text("a.upstream_id"),
        _text("c.codes"),
        _flag("a.forward"),
        _flag("a.verification"),
        _text("a.error_message"),
    )


def _name_arrays(
    membership: Membership, language: str
) -> tuple[list[int], list[str], list[str], list[int], list[int], list[str]]:
    """The names the Python writer would use (`export_names` in the flavour's language), as arrays:
    (key, service code, name) and (key, country code, name), only where the name differs from the code."""
    service_keys: list[int] = []
    service_codes: list[str] = []
    service_names: list[str] = []
    country_keys: list[int] = []
    country_codes: list[int] = []
    country_names: list[str] = []
    for key_id, (countries, services) in export_names(membership.team, language).items():
        for code, name in services.items():
            if name and name != code:
                service_keys.append(key_id)
                service_codes.append(code)
                service_names.append(name)
        for code, name in countries.items():
            # Country codes are whole numbers; anything else could never match an activation's.
            if name and code.isascii() and code.lstrip("-").isdigit() and name != code:
                country_keys.append(key_id)
                country_codes.append(int(code))
                country_names.append(name)
    return service_keys, service_codes, service_names, country_keys, country_codes, country_names


_STATUS = next(column for column in HISTORY_COLUMNS if column.header == "status")


def _status_arrays(flavour: Flavour) -> tuple[list[str], list[str]]:
    """The status labels the Python writer would write (`Column.code_labels`: translated in the Excel
    flavour, none in the plain one, where the code is written), as arrays of codes and labels."""
    labels = _STATUS.code_labels(flavour) or {}
    return list(labels), list(labels.values())


def copy_statement(
    membership: Membership, filters: HistoryFilters, flavour: Flavour = PLAIN
) -> tuple[str, tuple]:
    """COPY ... TO STDOUT for exactly the rows of the history filters, newest first, in `flavour` (the plain
    one with its header; the Excel one without: `kit.csv` writes its BOM and translated header)."""
    zone = copy_zone(flavour)
    if zone is None:
        raise ValueError("COPY writes times in named zones only")
    ids_sql, params = history(membership, filters).order_by().values("id").query.sql_with_params()
    columns = _copy_columns(flavour, zone)
    select = ", ".join(f'{expression} AS "{name}"' for expression, name in zip(columns, HEADER, strict=True))
    options = "HEADER" if flavour.is_plain else f"DELIMITER {_literal(flavour.delimiter)}"
    refund = _literal(LedgerKind.REFUND)
    # Only constants and Django's own SQL for the id subquery are pasted; every value is a bound parameter.
    sql = (
        f"COPY (SELECT {select} FROM activations_activation a "  # noqa: S608
        "JOIN accounts_apikey k ON k.id = a.api_key_id "
        "LEFT JOIN accounts_user u ON u.id = a.member_id "
        # A lateral join, so the neutralising CASE reads the codes without running their query again.
        "LEFT JOIN LATERAL (SELECT string_agg(s.code, ' ' ORDER BY s.received_at, s.id) AS codes "
        "FROM activations_sms s WHERE s.activation_id = a.id) c ON true "
        # The ledger's money of the purchase (`purchases.selectors.ledger_money`), by its indexed reference.
        f"LEFT JOIN LATERAL (SELECT sum(l.amount) FILTER (WHERE l.kind <> {refund}) AS {SPENT}, "
        f"sum(l.amount) FILTER (WHERE l.kind = {refund}) AS {REFUNDED}, sum(l.amount) AS {NET} "
        "FROM accounts_ledgerentry l WHERE l.purchase_ref = 'activation:' || a.id::text) m ON true "
        # A status's label in the Excel flavour (none in the plain one: the code stays).
        "LEFT JOIN unnest(%s::text[], %s::text[]) AS st(code, label) ON st.code = a.status "
        "LEFT JOIN unnest(%s::bigint[], %s::text[], %s::text[]) AS sn(key_id, code, name) "
        "ON sn.key_id = a.api_key_id AND sn.code = a.service "
        "LEFT JOIN unnest(%s::bigint[], %s::integer[], %s::text[]) AS cn(key_id, code, name) "
        "ON cn.key_id = a.api_key_id AND cn.code = a.country "
        f"WHERE a.id IN ({ids_sql}) ORDER BY a.created_at DESC, a.id DESC) "
        f"TO STDOUT WITH (FORMAT csv, {options})"
    )
    return sql, (*_status_arrays(flavour), *_name_arrays(membership, flavour.language), *params)


# A stored phrase as COPY writes it in a cell: quoted, its own quotes doubled.
_COPIED_PHRASE = ('"' + PHRASE_START.replace('"', '""')).encode()


def _said_error(row: bytes, flavour: Flavour = PLAIN) -> bytes:
    """A COPY row whose error (the last column) is a stored phrase, with the phrase said in the flavour's
    language as the Python writer says it; the database cannot translate. Only these rows are
    read again (a failed purchase's), every other row passes as PostgreSQL wrote it."""
    [cells] = csv.reader(io.StringIO(row.decode()), delimiter=flavour.delimiter)
    if not cells[-1].startswith(PHRASE_START):
        return row
    with translation.override(flavour.language):
        cells[-1] = neutralise(phrase_text(cells[-1]))
    # The other cells are written back as kit.csv writes them (COPY wrote them the same way); "\n" ends the
    # row as COPY ends it, for the caller to turn into the dialect's line end.
    out = io.StringIO()
    csv.writer(out, dialect=DIALECT, delimiter=flavour.delimiter).writerow(cells)
    return (out.getvalue().removesuffix(DIALECT.lineterminator) + "\n").encode()


def copy_history_csv(
    membership: Membership, filters: HistoryFilters, flavour: Flavour = PLAIN
) -> Iterator[bytes]:
    """Stream the CSV as PostgreSQL writes it, row by row, with the dialect's line ends (after the BOM and
    translated header in the Excel flavour)."""
    sql, params = copy_statement(membership, filters, flavour)
    line_end = LINE_END.encode()
    if not flavour.is_plain:
        yield header_line(HISTORY_COLUMNS, flavour).encode()
    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(sql, params) as copy:
        # The protocol sends one CopyData message per row, and psycopg reads one message at a time.
        for block in copy:
            row = bytes(block)
            if _COPIED_PHRASE in row:
                row = _said_error(row, flavour)
            yield row[:-1] + line_end if row.endswith(b"\n") else row
