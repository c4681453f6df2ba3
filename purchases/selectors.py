"""Reads of what purchases really cost, from the ledger: the truth exports add up.

A purchase's ledger rows (`LedgerEntry.purchase_ref`, written by `services.ledger_book`) are its
money: the purchase or rent itself, its renewals and corrections (positive, or a negative
correction), and its refund (negative). Their sum is what the purchase really cost.
"""

from decimal import Decimal
from typing import Any

from django.db.models import CharField, DecimalField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Cast, Concat

from accounts.models import LedgerEntry, LedgerKind, Membership
from accounts.permissions import keys_usable_by
from purchases.models import Route, RouteKey

# The annotations `ledger_money` adds; `money_of` reads them.
SPENT, REFUNDED, NET = "ledger_spent", "ledger_refunded", "ledger_net"
ZERO = Decimal("0")


def _ledger_sum(model_name: str, total: Any) -> Subquery:
    ref = Concat(Value(f"{model_name}:"), Cast(OuterRef("pk"), CharField()))
    rows = LedgerEntry.objects.filter(purchase_ref=ref).order_by().values("purchase_ref")
    return Subquery(
        rows.annotate(total=total).values("total")[:1],
        output_field=DecimalField(max_digits=14, decimal_places=4),
    )


def ledger_money(model_name: str) -> dict[str, Subquery]:
    """Annotations for a queryset of purchases (`activation`, `rental`): what the ledger booked on each,
    spent (everything but refunds), refunded (as booked: negative) and net; NULL where it booked nothing.
    Each is an indexed lookup in the same query, so an export stays one query per page of rows."""
    refund = Q(kind=LedgerKind.REFUND)
    return {
        SPENT: _ledger_sum(model_name, Sum("amount", filter=~refund)),
        REFUNDED: _ledger_sum(model_name, Sum("amount", filter=refund)),
        NET: _ledger_sum(model_name, Sum("amount")),
    }


def money_of(values: Any) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(cost, refund, net) of one annotated purchase (a row of `.values()` or a model instance).

    A purchase the ledger knows nothing of (refused, never made, or its price not yet known) has none of
    the three, never its quoted price; one it knows has all three, a missing part being 0, the refund
    written as a positive amount (cost - refund = net)."""
    read = values.get if isinstance(values, dict) else lambda name: getattr(values, name, None)
    net = read(NET)
    if net is None:
        return None, None, None
    return read(SPENT) or ZERO, -(read(REFUNDED) or ZERO), net


def routes_usable_by(membership: Membership) -> QuerySet[Route]:
    """The team's routes with at least one key the member may buy with (a purchase skips the others)."""
    usable = keys_usable_by(membership).values("pk")
    return Route.objects.filter(
        team=membership.team, pk__in=RouteKey.objects.filter(api_key__in=usable).values("route")
    ).order_by("name")
