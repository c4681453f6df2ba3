"""The price alerts block of the team home page."""

from typing import Any

from django import template

from accounts.models import Membership
from providers.snapshots import alerts_firing

register = template.Library()


@register.inclusion_tag("prices/home_alerts.html")
def price_alerts(membership: Membership) -> dict[str, Any]:
    """Alerts of the member's team whose condition holds now (nothing is rendered when none do)."""
    return {
        "team": membership.team,
        "alerts": alerts_firing(membership.team),
        "can_buy": membership.can_buy,
    }
