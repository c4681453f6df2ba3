"""kit.csv: two flavours (Excel for people, plain for scripts), values written by type, formula cells
neutralised in both, a streamed download."""

import csv
import io
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum
from zoneinfo import ZoneInfo

import pytest
from django.db import models
from django.http import QueryDict, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _lazy

from kit.csv import (
    CONTENT_TYPE,
    PLAIN,
    Column,
    cell,
    chosen_flavour,
    csv_lines,
    csv_response,
    excel_flavour,
    neutralise,
    stream_download,
)

HYPERLINK = '=HYPERLINK("http://x","y")'
MOSCOW = ZoneInfo("Europe/Moscow")


def _body(lines) -> str:
    return "".join(lines)


def _one_column(*values) -> list[str]:
    """The lines of a one-column export of `values` (header first)."""
    return list(csv_lines([Column("v", lambda value: value)], values))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_a_formula_gets_a_quote(start):
    assert neutralise(f"{start}1+2") == f"'{start}1+2"
    assert cell(f"{start}cmd") == f"'{start}cmd"


@pytest.mark.parametrize("text", ["plain", "1+2", "a=b", "user@example.com", " =1", "'=1", "", "12345"])
def test_other_text_is_left_alone(text):
    assert neutralise(text) == text


def test_a_hyperlink_formula_comes_out_as_text():
    header, line = _one_column(HYPERLINK)
    assert line == '"\'=HYPERLINK(""http://x"",""y"")"\r\n'
    assert next(csv.reader(io.StringIO(line))) == ["'" + HYPERLINK]


def test_a_phone_written_with_a_plus_is_text_not_a_formula():
    # OWASP's answer: "+79..." would be evaluated (as a number, or a formula with more after it), so it
    # is prefixed like any other text; our phones are stored without the plus and are unaffected.
    assert cell("+79001234567") == "'+79001234567"
    assert cell("79001234567") == "79001234567"


def test_numbers_stay_numbers_and_are_never_prefixed():
    assert cell(Decimal("-5.00")) == "-5.0000"
    assert cell(Decimal("12.5")) == "12.5000"
    assert cell(-3) == "-3"
    assert cell(0) == "0"
    assert cell(-1.5) == "-1.5"
    assert _one_column(Decimal("-5"))[1] == "-5.0000\r\n"


def test_booleans_are_one_and_zero():
    assert cell(True) == "1" and cell(False) == "0"


def test_times_dates_none_and_other_values():
    assert cell(datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) == "2026-03-01T12:00:00+00:00"
    assert cell(date(2026, 3, 1)) == "2026-03-01"
    assert cell(None) == ""
    identifier = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert cell(identifier) == str(identifier)


def test_subclasses_are_written_as_their_kind():
    class Mark(models.TextChoices):
        FORMULA = "=1+1", "formula"
        PLAIN = "active", "plain"

    class Level(IntEnum):
        HIGH = -3

    assert cell(Mark.PLAIN) == "active" and cell(Mark.FORMULA) == "'=1+1"
    assert cell(Level.HIGH) == "-3"


def test_the_header_row_then_crlf_lines():
    columns = [Column("name", lambda r: r["name"]), Column("amount", lambda r: r["amount"])]
    body = _body(csv_lines(columns, [{"name": "a", "amount": Decimal("1")}, {"name": "b", "amount": None}]))
    assert body == "name,amount\r\na,1.0000\r\nb,\r\n"


def test_quoting_is_minimal_and_newlines_inside_a_value_are_kept():
    header, line = _one_column('He said "no",\nthen left')
    assert line == '"He said ""no"",\nthen left"\r\n'
    assert _one_column("a,b")[1] == '"a,b"\r\n'


def test_an_empty_export_is_its_header():
    assert _body(csv_lines([Column("a", str), Column("b", str)], [])) == "a,b\r\n"


def test_the_response_is_a_named_csv_download():
    response = csv_response("rentals-acme-20260301.csv", [Column("n", lambda n: n)], [1, 2], flavour=PLAIN)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == CONTENT_TYPE == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rentals-acme-20260301.csv"'
    body = b"".join(response.streaming_content)
    assert body == b"n\r\n1\r\n2\r\n"  # UTF-8, no byte-order mark


def test_text_is_utf8_without_a_bom():
    response = csv_response("x.csv", [Column("текст", lambda t: t)], ["код 12345"], flavour=PLAIN)
    assert b"".join(response.streaming_content) == "текст\r\nкод 12345\r\n".encode()


def test_stream_download_passes_lines_through():
    response = stream_download("x.csv", iter([b"a\r\n", b"1\r\n"]))
    assert response.streaming and b"".join(response.streaming_content) == b"a\r\n1\r\n"
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'


def test_it_streams_a_line_per_record_as_records_are_read():
    read = []

    def records():
        for i in range(3):
            read.append(i)
            yield i

    lines = csv_response("x.csv", [Column("n", lambda n: n)], records(), flavour=PLAIN).streaming_content
    assert next(lines) == b"n\r\n" and read == []  # the header before any record is read
    assert next(lines) == b"0\r\n" and read == [0]
    assert list(lines) == [b"1\r\n", b"2\r\n"]


@pytest.mark.parametrize("flavour", [PLAIN, excel_flavour("ru", MOSCOW)], ids=["plain", "excel"])
def test_memory_does_not_grow_with_the_rows(flavour):
    columns = [Column("n", lambda n: n), Column("text", lambda n: f"row {n} " + "x" * 200)]

    def peak(rows: int) -> int:
        tracemalloc.start()
        for _ in csv_response("x.csv", columns, range(rows), flavour=flavour).streaming_content:
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(10)  # the first run loads the flavour's translations once, whatever the rows
    assert peak(20_000) < 2 * peak(1_000) + 64_000


# --- the Excel flavour ------------------------------------------------------------------------------

MOMENT = datetime(2026, 12, 1, 23, 16, 39, 651015, tzinfo=UTC)
LEDGER = [
    Column("created_at", lambda r: r[0], _lazy("Time")),
    Column("amount", lambda r: r[1], _lazy("Amount")),
    Column("text", lambda r: r[2], _lazy("Summary")),
    Column("flag", lambda r: r[3]),
]
RECORDS = [(MOMENT, Decimal("12.5"), "код; 1", True), (None, Decimal("-3"), HYPERLINK, False)]


def test_the_excel_flavour_for_russian_has_a_bom_semicolons_decimal_commas_and_local_times():
    with translation.override("ru"):
        flavour = excel_flavour(time_zone=MOSCOW)
    body = "".join(csv_lines(LEDGER, RECORDS, flavour))
    assert body.startswith("\ufeff") and body.count("\ufeff") == 1
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    with translation.override("ru"):
        labels = [str(column.label) for column in LEDGER[:3]]
    assert rows[0] == [*labels, "flag"]  # translated labels; a column without one keeps its name
    assert rows[1] == ["2026-12-02 02:16:39", "12,5000", "код; 1", "1"]  # 23:16 UTC is 02:16 in Moscow
    assert rows[2] == ["", "-3,0000", "'" + HYPERLINK, "0"]  # formulas still neutralised, numbers never
    assert (
        body.endswith("\r\n")
        and ";" in body.splitlines()[1]
        and "," not in body.splitlines()[1].split(";")[0]
    )


def test_the_excel_flavour_for_english_keeps_commas_and_dots():
    with translation.override("en"):
        flavour = excel_flavour(time_zone=UTC)
    body = "".join(csv_lines(LEDGER, RECORDS, flavour))
    assert body.startswith("\ufeffTime,Amount,Summary,flag\r\n")
    assert body.splitlines()[1] == "2026-12-01 23:16:39,12.5000,код; 1,1"


def test_the_excel_flavour_writes_times_in_the_active_zone_by_default():
    with timezone.override(MOSCOW), translation.override("en"):
        flavour = excel_flavour()
    assert cell(MOMENT, flavour) == "2026-12-02 02:16:39"
    assert cell(1.5, excel_flavour("ru", UTC)) == "1,5" and cell(7, excel_flavour("ru", UTC)) == "7"


def test_the_plain_flavour_is_unchanged_rfc_4180_utc_iso_and_no_bom():
    body = "".join(csv_lines(LEDGER, RECORDS, PLAIN))
    assert body == (
        "created_at,amount,text,flag\r\n"
        "2026-12-01T23:16:39.651015+00:00,12.5000,код; 1,1\r\n"
        ',-3.0000,"\'=HYPERLINK(""http://x"",""y"")",0\r\n'
    )


def test_the_flavour_is_chosen_by_the_query():
    with translation.override("ru"):
        assert chosen_flavour(QueryDict("format=plain")) is PLAIN
        excel = chosen_flavour(QueryDict(""))
    assert (excel.name, excel.delimiter, excel.decimal_mark, excel.bom) == ("excel", ";", ",", True)
    assert chosen_flavour(QueryDict("format=excel")).bom


def test_the_response_in_the_excel_flavour_starts_with_the_utf8_bom():
    response = csv_response("x.csv", [Column("n", lambda n: n)], [1], flavour=excel_flavour("en", UTC))
    assert b"".join(response.streaming_content) == b"\xef\xbb\xbfn\r\n1\r\n"


class _Outcome(models.TextChoices):
    # Labels the catalogue translates already (the model choices of activations and rentals use them).
    FINISHED = "finished", _lazy("Finished")
    CANCELLED = "cancelled", _lazy("Cancelled")


class _Level(models.IntegerChoices):
    LOW = 1, _lazy("Refund")


_CODED = [
    Column("status", lambda record: record[0], _lazy("Status"), _Outcome),
    Column("level", lambda record: record[1], labels=_Level),
    Column("kind", lambda record: record[2], labels={"w": "=wide", "n": "narrow"}),
]
_CODED_RECORDS = [
    ("finished", 1, "w"),
    (_Outcome.CANCELLED, _Level.LOW, "n"),  # members as well as plain values
    ("unknown-code", 2, None),  # outside the set: written as it is
]


def test_the_excel_flavour_writes_a_codes_translated_label():
    body = "".join(csv_lines(_CODED, _CODED_RECORDS, excel_flavour("ru", UTC)))
    assert body == (
        "\ufeffСтатус;level;kind\r\n"
        "Завершён;Возврат;'=wide\r\n"  # a label is text like any other: neutralised against formulas
        "Отменён;Возврат;narrow\r\n"
        "unknown-code;2;\r\n"
    )
    english = "".join(csv_lines(_CODED, _CODED_RECORDS, excel_flavour("en", UTC)))
    assert english.splitlines()[1:] == [
        "Finished,Refund,'=wide",
        "Cancelled,Refund,narrow",
        "unknown-code,2,",
    ]


def test_the_plain_flavour_keeps_the_codes():
    with translation.override("ru"):
        body = "".join(csv_lines(_CODED, _CODED_RECORDS, PLAIN))
    assert body == "status,level,kind\r\nfinished,1,w\r\ncancelled,1,n\r\nunknown-code,2,\r\n"


def test_code_labels_are_in_the_flavours_language_and_none_for_plain():
    status = _CODED[0]
    with translation.override("en"):
        assert status.code_labels(excel_flavour("ru", UTC)) == {
            "finished": "Завершён",
            "cancelled": "Отменён",
        }
    assert status.code_labels(PLAIN) is None
    assert Column("n", lambda n: n).code_labels(excel_flavour("ru", UTC)) is None
