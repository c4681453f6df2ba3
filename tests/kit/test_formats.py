"""kit.formats: money for pages, exports and charts; times for exports. The template filter delegates to it."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import timezone as django_timezone

from kit.formats import (
    PLAIN_PLACES,
    countdown_text,
    iso_time,
    money_number,
    money_plain,
    money_text,
    time_text,
)


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (Decimal("1234.5"), "RUB", "1,234.50 RUB"),
        (Decimal("12.5000"), "RUB", "12.50 RUB"),  # stored with four places, shown with two
        (Decimal("0.0725"), "USD", "0.0725 USD"),  # a provider's four-place price keeps them
        (Decimal("0.125"), "", "0.125"),
        (Decimal("-3.5"), "RUB", "-3.50 RUB"),
        (Decimal("1000000"), "RUB", "1,000,000.00 RUB"),
        (Decimal("0.00005"), "", "0.0001"),  # never more than the four stored places, half away from zero
        (Decimal("-0.00001"), "", "0.0000"),  # no "-0"
        (7, "RUB", "7.00 RUB"),
        ("12.5", "", "12.50"),
        (None, "RUB", "—"),
    ],
)
def test_money_text(amount, currency, text):
    assert money_text(amount, currency) == text


@pytest.mark.parametrize(
    ("amount", "plain"),
    [
        (Decimal("12.5"), "12.5000"),
        (Decimal("12.5000"), "12.5000"),
        (Decimal("0.0725"), "0.0725"),
        (Decimal("-5"), "-5.0000"),
        (Decimal("1234567.1"), "1234567.1000"),  # no grouping
        (Decimal("1E+3"), "1000.0000"),  # no exponent
        (Decimal("0.00005"), "0.0001"),  # half away from zero, as PostgreSQL's round()
        (Decimal("-0.00005"), "-0.0001"),
        (Decimal("-0"), "0.0000"),
        (3, "3.0000"),
        (None, ""),
    ],
)
def test_money_plain_always_has_the_stored_places(amount, plain):
    assert money_plain(amount) == plain
    if amount is not None:
        assert len(plain.partition(".")[2]) == PLAIN_PLACES


def test_money_plain_is_exact_where_a_float_would_not_be():
    assert money_plain(Decimal("0.1") + Decimal("0.2")) == "0.3000"
    assert money_plain(Decimal("99999999.9999")) == "99999999.9999"


def test_money_number_is_a_float_for_charts():
    assert money_number(Decimal("12.5000")) == 12.5
    assert isinstance(money_number(Decimal("1")), float)
    assert money_number(None) is None


def test_iso_time_is_utc_iso_8601():
    moscow = timezone(timedelta(hours=3))
    assert iso_time(datetime(2026, 3, 1, 15, 0, tzinfo=moscow)) == "2026-03-01T12:00:00+00:00"
    assert iso_time(datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)) == "2026-03-01T12:00:00.123456+00:00"
    assert iso_time(None) == ""


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("1234.5"), "1,234.50 RUB"),
        (Decimal("0.0725"), "0.0725 RUB"),
        (None, "—"),
        ("", "—"),
        ("n/a", "n/a"),  # not an amount: shown as it is
    ],
)
def test_the_money_filter_shows_what_money_text_says(value, shown):
    template = Template("{% load simdesk %}{{ value|money:'RUB' }}")
    assert template.render(Context({"value": value})) == shown


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0:00"),
        (-5, "0:00"),  # past the deadline: nothing left, never negative
        (65, "1:05"),
        (3725, "1:02:05"),
        (86400, "1d 0:00:00"),
        (90061, "1d 1:01:01"),
    ],
)
def test_countdown_text_is_what_the_javascript_countdown_goes_on_from(seconds, text):
    assert countdown_text(seconds) == text
    template = Template("{% load simdesk %}{{ seconds|countdown }}")
    assert template.render(Context({"seconds": seconds})) == text


def test_time_text_is_in_the_readers_zone_on_a_24_hour_clock():
    moment = datetime(2026, 3, 1, 21, 5, tzinfo=UTC)
    with django_timezone.override("Europe/Moscow"):
        assert time_text(moment) == "2026-03-02 00:05"
        assert time_text(datetime(2026, 3, 1, 21, 5)) == "2026-03-02 00:05"  # naive: UTC
    with django_timezone.override("UTC"):
        assert time_text(moment) == "2026-03-01 21:05"
