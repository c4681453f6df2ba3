"""kit.csv: one dialect, values written by type, formula cells neutralised, a streamed download."""

import csv
import io
import tracemalloc
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum

import pytest
from django.db import models
from django.http import StreamingHttpResponse

from kit.csv import CONTENT_TYPE, Column, cell, csv_lines, csv_response, neutralise, stream_download

HYPERLINK = '=HYPERLINK("http://x","y")'


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
    response = csv_response("rentals-acme-20260301.csv", [Column("n", lambda n: n)], [1, 2])
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == CONTENT_TYPE == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="rentals-acme-20260301.csv"'
    body = b"".join(response.streaming_content)
    assert body == b"n\r\n1\r\n2\r\n"  # UTF-8, no byte-order mark


def test_text_is_utf8_without_a_bom():
    response = csv_response("x.csv", [Column("текст", lambda t: t)], ["код 12345"])
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

    lines = csv_response("x.csv", [Column("n", lambda n: n)], records()).streaming_content
    assert next(lines) == b"n\r\n" and read == []  # the header before any record is read
    assert next(lines) == b"0\r\n" and read == [0]
    assert list(lines) == [b"1\r\n", b"2\r\n"]


def test_memory_does_not_grow_with_the_rows():
    columns = [Column("n", lambda n: n), Column("text", lambda n: f"row {n} " + "x" * 200)]

    def peak(rows: int) -> int:
        tracemalloc.start()
        for _ in csv_response("x.csv", columns, range(rows)).streaming_content:
            pass
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    assert peak(20_000) < 2 * peak(1_000) + 64_000
