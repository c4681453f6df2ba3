"""Fixtures for rental tests: team keys registered for sandbox accounts, driven over real HTTP."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from rentals.models import Rental, RentalRenewal
from sandbox.models import Rental as SandboxRental
from tests.activations.conftest import (  # noqa: F401 - fixtures shared with the activation tests
    _steady_sandbox,
    make_key,
    operator,
    owner,
    register_key,
    set_sandbox,
)


def upstream(rental: Rental) -> SandboxRental:
    """The sandbox's own row for a rental (tests may look behind the provider's counter)."""
    return SandboxRental.objects.get(pk=int(rental.upstream_id))


def shift_end(rental: Rental, *, to: datetime, sandbox: bool = True) -> None:
    """Time travel: move the rental's end (ours, the renewal claim, and the provider's) to `to`."""
    rental.refresh_from_db()
    delta = to - rental.ends_at
    Rental.objects.filter(pk=rental.pk).update(ends_at=to)
    if rental.renewal_window_end is not None:
        Rental.objects.filter(pk=rental.pk).update(renewal_window_end=rental.renewal_window_end + delta)
    for renewal in RentalRenewal.objects.filter(rental=rental):
        RentalRenewal.objects.filter(pk=renewal.pk).update(window_end=renewal.window_end + delta)
    if sandbox:
        SandboxRental.objects.filter(pk=int(rental.upstream_id)).update(ends_at=to)
    rental.refresh_from_db()


@pytest.fixture
def soon() -> datetime:
    return timezone.now() + timedelta(minutes=30)
