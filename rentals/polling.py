"""The per-key rent poll cycle: one getRentList call per key, then getRentStatus only where needed.

A cycle claims the key with the activations' conditional-UPDATE lock (on the rentals' own state row,
so the two polls of one key never starve each other), reads the provider's list of live rents,
reconciles rents and renewals whose outcome was lost, asks getRentStatus for live rentals (those
fed by webhooks only now and then) and settles rentals that ended upstream from their upstream state.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, KeyStatus, LedgerKind
from accounts.services import audit_record
from activations import polling as activation_polling
from providers.keys import client_for_key
from providers.results import RentOrder
from providers.services import api_key_mark_health
from rentals.models import RenewalStatus, Rental, RentalPollState, RentalRenewal, RentalStatus
from rentals.services import (
    PENDING_STALE,
    RENEWAL_GRACE,
    UNKNOWN_GRACE,
    book_ledger,
    renewal_done,
    renewal_not_made,
    rental_refresh,
    touch_rental,
)

logger = logging.getLogger(__name__)

# A rental that receives webhooks is still asked for its status this often (a webhook can be lost).
WEBHOOK_CHECK_INTERVAL = timedelta(seconds=60)


def keys_to_poll() -> list[int]:
    """Active keys with live rentals, or rents and renewals whose outcome is unsettled, not backing off."""
    now = timezone.now()
    busy_rentals = Rental.objects.filter(
        Q(status__in=(RentalStatus.ACTIVE, RentalStatus.UNKNOWN))
        | Q(status=RentalStatus.PENDING, created_at__lt=now - PENDING_STALE),
        api_key__status=KeyStatus.ACTIVE,
    ).values("api_key_id")
    busy_renewals = RentalRenewal.objects.filter(status=RenewalStatus.UNKNOWN).values("rental__api_key_id")
    backing_off = RentalPollState.objects.filter(backoff_until__gt=now).values("api_key_id")
    keys = ApiKey.objects.filter(Q(pk__in=busy_rentals) | Q(pk__in=busy_renewals), status=KeyStatus.ACTIVE)
    return list(keys.exclude(pk__in=backing_off).values_list("pk", flat=True))


def claim(api_key_id: int) -> bool:
    """Take the key's rent-poll lock unless another worker holds it."""
    return activation_polling.claim(api_key_id, state_model=RentalPollState)


def poll_key(api_key_id: int) -> str:
    """One rent poll cycle for one key; returns a short word for logs. Never raises on upstream faults."""
    return activation_polling.run_locked_cycle(
        api_key_id, _cycle, state_model=RentalPollState, what="rent poll"
    )


def _cycle(api_key: ApiKey) -> None:
    now = timezone.now()
    # Rent intents left pending by a request that died: whether the provider rented is unknown.
    Rental.objects.filter(
        api_key=api_key, status=RentalStatus.PENDING, created_at__lt=now - PENDING_STALE
    ).update(status=RentalStatus.UNKNOWN, updated_at=now)
    listed = {entry.rent_id: entry.phone for entry in client_for_key(api_key).get_rent_list()}
    api_key_mark_health(api_key=api_key, exc=None)
    known = set(
        Rental.objects.filter(api_key=api_key, upstream_id__in=list(listed)).values_list(
            "upstream_id", flat=True
        )
    )
    strangers = [rent_id for rent_id in listed if rent_id not in known]
    _reconcile_renewals(api_key, listed, strangers)
    _reconcile_rents(api_key, listed, strangers)
    live = Rental.objects.filter(api_key=api_key, status=RentalStatus.ACTIVE).exclude(upstream_id=None)
    for rental in live:
        if rental.upstream_id in listed and _webhook_fed(rental, now):
            continue
        # Listed: read its new messages. Gone from the list: it ended upstream; settle from its state.
        rental_refresh(rental=rental)


def _webhook_fed(rental: Rental, now) -> bool:
    """Webhooks bring this rental's SMS; skip getRentStatus unless the last check is a while ago."""
    return (
        rental.last_webhook_at is not None
        and rental.status_checked_at is not None
        and rental.status_checked_at > now - WEBHOOK_CHECK_INTERVAL
    )


def _reconcile_renewals(api_key: ApiKey, listed: dict[str, str], strangers: list[str]) -> None:
    """Decide renewals whose answer was lost, from what getRentList shows, never by calling again."""
    now = timezone.now()
    unknown = RentalRenewal.objects.filter(
        rental__api_key=api_key, status=RenewalStatus.UNKNOWN
    ).select_related("rental", "rental__team", "rental__api_key")
    for renewal in unknown.order_by("created_at"):
        rental = renewal.rental
        if renewal.reorder:
            # A re-ordered finished rent comes back under a new id with the same phone number.
            match = next((rid for rid in strangers if listed[rid] == rental.phone), None)
            if match is not None:
                strangers.remove(match)
                renewal_done(
                    renewal,
                    RentOrder(rent_id=match, phone=listed[match], end_date=None),
                    actor=None,
                    reconciled=True,
                )
            elif renewal.created_at < now - UNKNOWN_GRACE:
                renewal_not_made(
                    renewal, message=_("The provider did not re-order the number; nothing was spent.")
                )
            continue
        if now < renewal.window_end + RENEWAL_GRACE:
            continue  # before the old end, a renewed and a not renewed rent look the same
        if rental.upstream_id in listed:
            renewal_done(
                renewal,
                RentOrder(rent_id=rental.upstream_id, phone=rental.phone, end_date=None),
                actor=None,
                reconciled=True,
            )
        else:
            renewal_not_made(
                renewal, message=_("The provider did not renew the number; it ended. Nothing was spent.")
            )


def _reconcile_rents(api_key: ApiKey, listed: dict[str, str], strangers: list[str]) -> None:
    """Match rents whose answer was lost to unknown ids in the list; give up on them after the grace period."""
    now = timezone.now()
    unknown = list(Rental.objects.filter(api_key=api_key, status=RentalStatus.UNKNOWN).order_by("created_at"))
    for rental in unknown:
        if strangers:
            rent_id = strangers.pop(0)
            start = rental.created_at
            with transaction.atomic():
                touch_rental(
                    rental,
                    upstream_id=rent_id,
                    phone=listed[rent_id],
                    status=RentalStatus.ACTIVE,
                    started_at=start,
                    ends_at=start + timedelta(hours=rental.hours),
                    error_code="",
                    error_message="",
                )
                book_ledger(
                    rental,
                    LedgerKind.RENT,
                    rental.cost,
                    event_key=f"rental:{rental.pk}:rent",
                    actor=rental.member,
                )
                audit_record(
                    team=api_key.team,
                    actor=None,
                    action="rental.reconciled",
                    api_key=api_key,
                    amount=rental.cost,
                    currency=rental.currency,
                    summary=_("The lost rent of %(service)s was found upstream: %(phone)s")
                    % {"service": rental.service, "phone": listed[rent_id]},
                )
            rental_refresh(rental=rental)
        elif rental.created_at < now - UNKNOWN_GRACE:
            touch_rental(
                rental,
                status=RentalStatus.FAILED,
                closed_at=now,
                error_message=_("The provider has no such rent: it did not happen, nothing was spent."),
            )
