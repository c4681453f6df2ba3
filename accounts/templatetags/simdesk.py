"""Template helpers shared by every page: the team switcher and money formatting."""

from decimal import Decimal, InvalidOperation

from django import template
from django.db.models import QuerySet

from accounts.models import Membership, User
from accounts.selectors import memberships_of

register = template.Library()


@register.simple_tag
def user_memberships(user: User) -> QuerySet[Membership]:
    """The teams in the top-bar switcher."""
    return memberships_of(user)


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """`1234.5` -> `1,234.50 RUB`: two decimals, up to four when the provider's price has them."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
    places = 2
    exponent = amount.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        places = min(-exponent, 4)
    text = f"{amount:,.{places}f}"
    return f"{text} {currency}".strip()
