"""Template helpers of the price pages: chart table cells."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone

from kit.formats import money_text

register = template.Library()


@register.filter
def price_cell(value: Any) -> Any:
    """A chart table cell: times as `YYYY-MM-DD HH:MM` in the reader's time zone, amounts as every page
    shows them, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return timezone.localtime(value if timezone.is_aware(value) else value.replace(tzinfo=UTC)).strftime(
            "%Y-%m-%d %H:%M"
        )
    if isinstance(value, Decimal):
        return money_text(value)
    return value
