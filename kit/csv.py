"""One CSV writer for every export: a column spec, two flavours, one way to write each kind of value.

A column is a machine name, a translated label and a function that reads the value from one record. The
writer turns values into text by their Python type, so a column returns what it holds, not text it
formatted itself.

Every export comes in two flavours, chosen per download with `?format=` (`chosen_flavour`):

- **Excel** (the default, for people): UTF-8 with a byte-order mark (so a double-clicked file shows
  Cyrillic right), the separator and decimal mark of the reader's language (Russian: `;` and `12,5000`;
  English: `,` and `12.5000`, as each language's Excel expects), times as `2026-03-01 15:00:00` in the
  reader's time zone (`kit.formats.sheet_time`), headers as translated labels, and a code from a fixed
  set of choices (a status, a ledger kind) as its translated label (`Column.labels`).
- **Plain** (`?format=plain`, for scripts): RFC 4180 (Python's default dialect: comma, `"` quoting only
  where needed, CRLF line ends), UTF-8 without a BOM, `.` decimals, times in UTC ISO 8601
  (`kit.formats.iso_time`), headers as stable English names, codes as codes, names in English; the same bytes
  whoever downloads it.

PostgreSQL's COPY of the activation history writes either flavour in exactly these bytes
(`activations.export`).

In both:

- `Decimal` is money: `kit.formats.money_plain`, always four decimals (`12.5000`, `-3.5000`);
- `int` and `float` are written as numbers; `bool` as `1` / `0` (language-neutral, and a
  spreadsheet can add the column up); `date` as ISO 8601; `None` as an empty cell;
- `str` (and anything else, written as its `str()`) is text, and text a spreadsheet would run as a
  formula is neutralised (OWASP, "CSV Injection"): a cell starting with `=`, `+`, `-`, `@`, tab or
  carriage return gets a leading `'`. So `=HYPERLINK(...)` in a key label or an SMS text stays
  text, and so does a phone stored as `+7900...` (it is written `'+7900...`). Numbers are never
  prefixed: they come from numeric values, so a refund of `-5` is the number `-5.0000`.

The flavour holds the reader's language and time zone as they were when the view ran: the response
streams after the view returned, when the request's activations may already be undone.
"""

import csv
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from enum import Enum
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db.models import Choices
from django.http import QueryDict, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.http import content_disposition_header

from kit.formats import iso_time, money_plain, sheet_time

CONTENT_TYPE = "text/csv; charset=utf-8"
DIALECT = csv.excel  # comma, minimal quoting, doubled quotes, "\r\n"
BOM = "\ufeff"
# `?format=plain` picks the plain flavour; anything else (or nothing) the Excel one.
FORMAT_PARAM = "format"
EXCEL, PLAIN_NAME = "excel", "plain"  # every export link offers both: templates/includes/csv_links.html
LINE_END = DIALECT.lineterminator
TRUE, FALSE = "1", "0"
# Leading characters that make a spreadsheet evaluate a cell, and what neutralises them.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"

Record = TypeVar("Record")


@dataclass(frozen=True)
class Flavour:
    """How one download is written (see the module docstring): plain for scripts, Excel for people."""

    name: str
    delimiter: str = ","
    decimal_mark: str = "."
    bom: bool = False
    # None: UTC ISO 8601 (plain); a zone: `sheet_time` in it (Excel).
    time_zone: tzinfo | None = None
    # The language of headers (Excel) and of names read from the catalogue.
    language: str = "en"
    labelled: bool = False

    @property
    def is_plain(self) -> bool:
        return self.name == PLAIN_NAME


PLAIN = Flavour(PLAIN_NAME)


def excel_flavour(language: str | None = None, time_zone: tzinfo | None = None) -> Flavour:
    """The Excel flavour for a reader of `language` in `time_zone` (default: the active ones). A language
    whose decimal mark is a comma separates cells with `;`, as its spreadsheets expect."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    mark = str(get_format("DECIMAL_SEPARATOR", lang=language))
    return Flavour(
        EXCEL,
        delimiter=";" if mark == "," else ",",
        decimal_mark=mark,
        bom=True,
        time_zone=time_zone or timezone.get_current_timezone(),
        language=language,
        labelled=True,
    )


def chosen_flavour(query: QueryDict) -> Flavour:
    """The flavour a download asked for (`?format=plain`), else Excel for the active language and zone."""
    return PLAIN if query.get(FORMAT_PARAM) == PLAIN_NAME else excel_flavour()


@dataclass(frozen=True)
class Column(Generic[Record]):
    """One column of an export: its stable name (the plain header), how to read its value from one record,
    and its label (the Excel header, translated; the name when there is none).

    A column holding a code from a fixed set (a model's choices) names that set in `labels`: a Django
    choices class (`ActivationStatus`) or a mapping of code to translated label. The Excel flavour writes
    each code's label in the reader's language (`Завершён`), the plain one the code itself (`finished`,
    what scripts compare against); a code the set does not know is written as it is in both."""

    header: str
    value: Callable[[Record], Any]
    label: str | Promise | None = None
    labels: type[Choices] | Mapping[Any, str | Promise] | None = field(default=None, hash=False)

    def title(self, flavour: "Flavour") -> str:
        """The header cell in `flavour` (call under the flavour's language)."""
        return str(self.label) if flavour.labelled and self.label is not None else self.header

    def code_labels(self, flavour: "Flavour") -> dict[Any, str] | None:
        """Each code of the column's set with the text `flavour` writes for it (the label in the flavour's
        language), or None when the column's values are written as they are (no set, or the plain flavour).
        The PostgreSQL COPY of an export builds its CASE from these too, so both write the same text."""
        if not flavour.labelled or self.labels is None:
            return None
        pairs = self.labels.items() if isinstance(self.labels, Mapping) else self.labels.choices
        with translation.override(flavour.language):
            return {_code(code): str(label) for code, label in pairs}


def _code(value: Any) -> Any:
    """A choice's plain value: a member of a choices enum hashes by its name, not by its value."""
    return value.value if isinstance(value, Enum) else value


def _labelled(get: Callable[[Any], Any], labels: dict[Any, str]) -> Callable[[Any], Any]:
    """`get`, with a code of the set read as its label (any other value as it is)."""

    def read(record: Any) -> Any:
        value = get(record)
        return labels.get(_code(value), value)

    return read


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


_SUBCLASS_ORDER = (bool, int, float, Decimal, datetime, date)


def _formats(flavour: Flavour) -> dict[type, Callable[[Any], str]]:
    """The writer of each type in `flavour`: the plain table, with numbers and times as the reader writes them."""
    if flavour.is_plain:
        return _FORMAT_BY_TYPE
    mark, zone = flavour.decimal_mark, flavour.time_zone

    def money(value: Decimal) -> str:
        return money_plain(value, mark)

    def number(value: float) -> str:
        return repr(value).replace(".", mark)

    def moment(value: datetime) -> str:
        return sheet_time(value, zone)

    return {**_FORMAT_BY_TYPE, float: number, Decimal: money, datetime: moment}


def _cell_writer(formats: dict[type, Callable[[Any], str]]) -> Callable[[Any], str]:
    def write(value: Any) -> str:
        format_value = formats.get(type(value))
        if format_value is not None:
            return format_value(value)
        # Subclasses: TextChoices are text, IntEnum a number, and so on; anything else is its text.
        for kind in _SUBCLASS_ORDER:
            if isinstance(value, kind):
                return formats[kind](value)
        return neutralise(str(value))

    return write


_plain_cell = _cell_writer(_FORMAT_BY_TYPE)


def cell(value: Any, flavour: Flavour = PLAIN) -> str:
    """The text of one value in an export (see the module docstring for each type)."""
    return _plain_cell(value) if flavour.is_plain else _cell_writer(_formats(flavour))(value)


class _Line:
    """A file whose write hands the line back, so csv.writer can feed a generator one line at a time."""

    def write(self, line: str) -> str:
        return line


def header_line(columns: Sequence[Column[Any]], flavour: Flavour) -> str:
    """The header line of `columns` in `flavour`: the BOM and translated labels (Excel) or the names (plain)."""
    writer = csv.writer(_Line(), dialect=DIALECT, delimiter=flavour.delimiter)
    with translation.override(flavour.language):
        header = writer.writerow([neutralise(column.title(flavour)) for column in columns])
    return (BOM + header) if flavour.bom else header


def csv_lines(
    columns: Sequence[Column[Record]], records: Iterable[Record], flavour: Flavour = PLAIN
) -> Iterator[str]:
    """The header line (after the BOM in the Excel flavour), then one line per record, each written when its
    record is read (constant memory)."""
    writer = csv.writer(_Line(), dialect=DIALECT, delimiter=flavour.delimiter)
    getters = []
    for column in columns:
        labels = column.code_labels(flavour)  # translated once per file, not once per row
        getters.append(column.value if labels is None else _labelled(column.value, labels))
    write = _cell_writer(_formats(flavour))
    # The rows too: a stored message in a cell (kit.phrases) is said in the flavour's language, whenever
    # the response streams (one activation for the whole file, not one per row).
    with translation.override(flavour.language):
        yield header_line(columns, flavour)
        for record in records:
            yield writer.writerow([write(get(record)) for get in getters])


def stream_download(filename: str, lines: Iterable[str | bytes]) -> StreamingHttpResponse:
    """A streamed CSV download of lines already written in one flavour (`csv_lines`, or a database's COPY)."""
    response = StreamingHttpResponse(lines, content_type=CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def csv_response(
    filename: str, columns: Sequence[Column[Record]], records: Iterable[Record], *, flavour: Flavour
) -> StreamingHttpResponse:
    """The export as a streamed download named `filename` in `flavour` (`chosen_flavour(request.GET)`):
    the header first, then a line per record."""
    return stream_download(filename, csv_lines(columns, records, flavour))
