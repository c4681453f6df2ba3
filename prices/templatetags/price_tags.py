"""The price alerts block of the team home page."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django import template

from accounts.models import Membership
from kit.formats import money_text
from prices.selectors import alerts_firing

register = template.Library()


@register.inclusion_tag("prices/home_alerts.html")
def price_alerts(membership: Membership) -> dict[str, Any]:
    """Alerts on the member's keys whose condition holds now (nothing is rendered when none do)."""
    return {
        "team": membership.team,
        "alerts": alerts_firing(membership),
        "can_buy": membership.can_buy,
    }


@register.filter
def price_cell(value: Any) -> Any:
    """A chart table cell: times as `YYYY-MM-DD HH:MM` UTC, amounts as every page shows them, None as a dash."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal):
        return money_text(value)
    return value
