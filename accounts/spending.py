"""What every money-spending feature shares: money in flight across apps, and the locked intent write.

Activations and rentals register how much money their purchases still in flight (or of unknown
outcome) may have spent, so one member's limits see all of it whatever the feature.
"""

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import IntegrityError, models, transaction

from accounts.models import ApiKey, Membership
from accounts.permissions import check_spend_allowed

PendingSource = Callable[[ApiKey], Decimal]
_pending_sources: list[PendingSource] = []

Row = TypeVar("Row", bound=models.Model)


def register_pending(source: PendingSource) -> None:
    """Called from an app's `ready()`: `source(api_key)` is the money its unsettled purchases may have spent."""
    if source not in _pending_sources:
        _pending_sources.append(source)


def pending_spend(api_key: ApiKey) -> Decimal:
    """Money possibly spent with the key by purchases not recorded yet, across every feature."""
    return sum((source(api_key) for source in _pending_sources), Decimal("0"))


def has_limits(membership: Membership, api_key: ApiKey) -> bool:
    """Whether any limit applies, so that an unknown price must refuse the purchase."""
    return any(
        value is not None for value in (api_key.max_price, api_key.daily_budget, membership.daily_spend_limit)
    )


def lock_key_and_check(*, membership: Membership, api_key: ApiKey, amount: Decimal | None) -> None:
    """Inside a transaction: serialise spending per key, then check grants and limits with the money in flight,
    so two members (or two clicks) cannot both slip under a budget."""
    ApiKey.objects.select_for_update().filter(pk=api_key.pk).first()
    check_spend_allowed(membership=membership, api_key=api_key, amount=amount, pending=pending_spend(api_key))


def record_spend_intent(
    model: type[Row],
    *,
    membership: Membership,
    api_key: ApiKey,
    request_token: uuid.UUID | None,
    estimate: Decimal | None,
    **fields: Any,
) -> tuple[Row, bool]:
    """Write the intent row of a purchase before the upstream call. Returns (row, created).

    A `request_token` seen before returns the first row instead (a form sent twice buys once); the
    model's unique (team, request_token) constraint settles two submissions racing each other.
    """
    team = membership.team
    if request_token is not None:
        existing = model.objects.filter(team=team, request_token=request_token).first()
        if existing is not None:
            return existing, False
    try:
        with transaction.atomic():
            lock_key_and_check(membership=membership, api_key=api_key, amount=estimate)
            row = model.objects.create(
                team=team,
                api_key=api_key,
                member=membership.user,
                request_token=request_token,
                cost=estimate,
                currency=api_key.currency,
                **fields,
            )
    except IntegrityError:
        return model.objects.get(team=team, request_token=request_token), False
    return row, True
