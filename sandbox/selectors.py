"""Reads of the sandbox's state, always scoped to the calling account."""

from datetime import datetime

from django.db.models import QuerySet

from sandbox.errors import ApiError
from sandbox.models import ACTIVE_STATUSES, Account, Activation, Rental, RentalStatus


def account_by_key(key: str) -> Account | None:
    """The account owning `key`, or None (the caller answers BAD_KEY)."""
    if not key or len(key) > 64:
        return None
    return Account.objects.filter(key=key).first()


def parse_id(raw: str | None) -> int | None:
    """A positive integer id from a parameter, or None when missing or malformed."""
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 18:
        return None
    return int(raw)


def activation_for(account: Account, raw_id: str | None, *, missing: str = "NO_ACTIVATION") -> Activation:
    """The account's activation with that id; other accounts' ids are as unknown as absent ones."""
    activation_id = parse_id(raw_id)
    activation = (
        Activation.objects.select_related("country", "service")
        .filter(pk=activation_id, account=account)
        .first()
        if activation_id is not None
        else None
    )
    if activation is None:
        raise ApiError(missing)
    return activation


def rental_for(account: Account, raw_id: str | None) -> Rental:
    """The account's rental: NO_ID_RENT when no id was given, INVALID_PHONE when it is not ours."""
    if raw_id is None or not raw_id.strip():
        raise ApiError("NO_ID_RENT")
    rental_id = parse_id(raw_id)
    rental = Rental.objects.filter(pk=rental_id, account=account).first() if rental_id is not None else None
    if rental is None:
        raise ApiError("INVALID_PHONE")
    return rental


def active_activations(account: Account) -> QuerySet[Activation]:
    return (
        Activation.objects.filter(account=account, status__in=ACTIVE_STATUSES)
        .select_related("country", "service")
        .order_by("id")
    )


def history(
    account: Account, *, start: datetime | None, end: datetime | None, offset: int, size: int
) -> list[Activation]:
    rows = Activation.objects.filter(account=account).select_related("country", "service").order_by("-id")
    if start is not None:
        rows = rows.filter(created_at__gte=start)
    if end is not None:
        rows = rows.filter(created_at__lte=end)
    return list(rows[offset : offset + size])


def active_rentals(account: Account) -> QuerySet[Rental]:
    return Rental.objects.filter(account=account, status=RentalStatus.ACTIVE).order_by("id")
