"""The keyset cursor a link carries: read back exactly, and a tampered one is the first page, never an error."""

from datetime import UTC, datetime

import pytest

from kit.cursor import Cursor


def test_it_reads_back_what_it_wrote():
    cursor = Cursor(datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC), 42)
    assert Cursor.parse(str(cursor)) == cursor
    # A "+" that reached the server as a space (an unencoded link) still reads.
    assert Cursor.parse(str(cursor).replace("+", " ")) == cursor


def test_an_offset_is_read_as_the_same_instant_in_utc():
    cursor = Cursor.parse("2026-03-01T15:00:00+03:00,7")
    assert cursor == Cursor(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), 7)
    assert Cursor.parse("2026-03-01T12:00:00,7") == cursor  # naive is UTC


@pytest.mark.parametrize(
    "raw",
    [None, "", "garbage", "2026-03-01T12:00:00", "2026-03-01T12:00:00,x", ",5", "9999-12-31T23:59:59-12:00,5",
     "0001-01-01T00:00:00+12:00,5"],
)  # fmt: skip
def test_a_tampered_cursor_is_none(raw):
    assert Cursor.parse(raw) is None
