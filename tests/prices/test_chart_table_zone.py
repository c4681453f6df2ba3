"""The table under a chart shows its times in the reader's zone, on a 24-hour clock."""

from datetime import UTC, datetime

from django.utils import timezone

from prices.templatetags.price_tags import price_cell


def test_a_chart_table_time_is_in_the_readers_zone():
    moment = datetime(2026, 3, 1, 20, 30, tzinfo=UTC)
    with timezone.override("Europe/Moscow"):
        assert price_cell(moment) == "2026-03-01 23:30"
    with timezone.override("America/New_York"):
        assert price_cell(moment) == "2026-03-01 15:30"
