"""Helpers of the answer parser: times, excerpts and key scrubbing."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from providers.parsing import ShapeError, as_decimal, as_id, currency_code, make_excerpt, parse_time, scrub

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-06-01 17:30:57", datetime(2022, 6, 1, 14, 30, 57, tzinfo=UTC)),
        ("2020-01-31T12:01:52", datetime(2020, 1, 31, 9, 1, 52, tzinfo=UTC)),
        ("2026-02-16T12:36:59+03:00", datetime(2026, 2, 16, 9, 36, 59, tzinfo=UTC)),
        ("2026-02-16T12:36:59.000000Z", datetime(2026, 2, 16, 12, 36, 59, tzinfo=UTC)),
        (1770984000, datetime(2026, 2, 13, 12, 0, tzinfo=UTC)),
        ("0000-00-00 00:00:00", None),
        ("", None),
        (None, None),
    ],
)
def test_it_reads_upstream_times_as_utc(value, expected):
    assert parse_time(value, MOSCOW) == expected


def test_it_rejects_a_time_that_is_not_a_date():
    with pytest.raises(ShapeError):
        parse_time("yesterday", MOSCOW)


def test_it_collapses_whitespace_and_cuts_excerpts():
    assert make_excerpt("  a\n\n b\t c  ") == "a b c"
    assert len(make_excerpt("x" * 500)) == 120


def test_it_scrubs_the_key_verbatim_and_in_query_strings():
    assert scrub("url ?api_key=abc123&action=getBalance", None) == "url ?api_key=••••&action=getBalance"
    assert scrub("the key secret-key-1 leaked", "secret-key-1") == "the key •••• leaked"


def test_it_parses_money_without_float_arithmetic():
    assert str(as_decimal(0.1, "x") + as_decimal("0.2", "x")) == "0.3"
    assert str(as_decimal("12,50", "x")) == "12.50"
    with pytest.raises(ShapeError):
        as_decimal(True, "x")
    with pytest.raises(ShapeError):
        as_decimal("NaN", "x")


def test_it_keeps_ids_as_strings():
    assert as_id(2**63 - 1, "id") == "9223372036854775807"
    assert as_id(" 635468024 ", "id") == "635468024"
    with pytest.raises(ShapeError):
        as_id(None, "id")


def test_it_maps_numeric_currencies():
    assert [currency_code(643, None), currency_code("840", None), currency_code("usd", None)] == [
        "RUB",
        "USD",
        "USD",
    ]
    assert currency_code(None, "RUB") == "RUB"
    assert currency_code(999, "RUB") is None
