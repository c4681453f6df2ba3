"""One CSV writer for every export: a column spec, one dialect, one way to write each kind of value.

A column is a header and a function that reads the value from one record. The writer turns values
into text by their Python type, so a column returns what it holds, not text it formatted itself:

- `Decimal` is money: `kit.formats.money_plain`, always four decimals (`12.5000`, `-3.5000`);
- `int` and `float` are written as numbers; `bool` as `1` / `0` (language-neutral, and a
  spreadsheet can add the column up); `datetime` as `kit.formats.iso_time` (UTC, ISO 8601);
  `date` as ISO 8601; `None` as an empty cell;
- `str` (and anything else, written as its `str()`) is text, and text a spreadsheet would run as a
  formula is neutralised (OWASP, "CSV Injection"): a cell starting with `=`, `+`, `-`, `@`, tab or
  carriage return gets a leading `'`. So `=HYPERLINK(...)` in a key label or an SMS text stays
  text, and so does a phone stored as `+7900...` (it is written `'+7900...`). Numbers are never
  prefixed: they come from numeric values, so a refund of `-5` is the number `-5.0000`.

The dialect is Python's default (RFC 4180): comma, `"` quoting only where needed, CRLF line ends;
UTF-8 without a byte-order mark, so scripts and databases read the file as is and every export
(including PostgreSQL's COPY of the activation history) gives the same bytes. (Excel opens it
through Data > From Text/CSV, which detects UTF-8; a double-clicked file may show Cyrillic wrong.)
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.http import StreamingHttpResponse
from django.utils.http import content_disposition_header

from kit.formats import iso_time, money_plain

CONTENT_TYPE = "text/csv; charset=utf-8"
DIALECT = csv.excel  # comma, minimal quoting, doubled quotes, "\r\n"
LINE_END = DIALECT.lineterminator
TRUE, FALSE = "1", "0"
# Leading characters that make a spreadsheet evaluate a cell, and what neutralises them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"

Record = TypeVar("Record")


@dataclass(frozen=True)
class Column(Generic[Record]):
    """One column of an export: its header and how to read its value from one record."""

    header: str
    value: Callable[[Record], Any]


_FORMULA_START_SET = frozenset(FORMULA_STARTS)


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made plain text with a leading `'`."""
    return NEUTRALISER + text if text[:1] in _FORMULA_START_SET else text


def _flag(value: bool) -> str:
    return TRUE if value else FALSE


# Exact types first (one dict lookup per cell: exports write millions of them); subclasses below.
_FORMAT_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: neutralise,
    type(None): lambda _value: "",
    bool: _flag,
    int: str,
    float: repr,
    Decimal: money_plain,
    datetime: iso_time,
    date: date.isoformat,
}


def cell(value: Any) -> str:
    """The text of one value in an export (see the module docstring for each type)."""
    format_value = _FORMAT_BY_TYPE.get(type(value))
    if format_value is not None:
        return format_value(value)
    # Subclasses: TextChoices are text, IntEnum a number, and so on; anything else is its text.
    for kind in (bool, int, float, Decimal, datetime, date):
        if isinstance(value, kind):
            return _FORMAT_BY_TYPE[kind](value)
    return neutralise(str(value))


class _Line:
    """A file whose write hands the line back, so csv.writer can feed a generator one line at a time."""

    def write(self, line: str) -> str:
        return line


def csv_lines(columns: Sequence[Column[Record]], records: Iterable[Record]) -> Iterator[str]:
    """The header line, then one line per record, each written when its record is read (constant memory)."""
    writer = csv.writer(_Line(), dialect=DIALECT)
    yield writer.writerow([neutralise(column.header) for column in columns])
    getters = [column.value for column in columns]
    for record in records:
        yield writer.writerow([cell(get(record)) for get in getters])


def stream_download(filename: str, lines: Iterable[str | bytes]) -> StreamingHttpResponse:
    """A streamed CSV download of lines already in this dialect (`csv_lines`, or a database's COPY)."""
    response = StreamingHttpResponse(lines, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def csv_response(
    filename: str, columns: Sequence[Column[Record]], records: Iterable[Record]
) -> StreamingHttpResponse:
    """The export as a streamed download named `filename`: the header first, then a line per record."""
    return stream_download(filename, csv_lines(columns, records))
