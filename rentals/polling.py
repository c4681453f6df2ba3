"""The per-key rent poll cycle: one getRentList call per key, then getRentStatus only where needed.

A cycle claims the key with the activations' conditional-UPDATE lock (on the rentals' own state row,
so the two polls of one key never starve each other), reads the provider's list of live rents,
reconciles rents and renewals whose outcome was lost, asks getRentStatus for live rentals (those
fed by webhooks only now and then) and settles rentals that ended upstream from their upstream state.
"""

import logging
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, KeyStatus
from kit.phrases import phrase
from providers.keys import client_for_key
from providers.results import RentListEntry, RentOrder
from providers.services import api_key_mark_health
from purchases.models import UNSETTLED
from purchases.polling import backing_off, run_locked_cycle, to_send
from purchases.reconcile import match_lost
from purchases.services import (
    UNKNOWN_GRACE,
    in_flight_timeout,
    orphan_intents,
    purchase_ambiguous,
    purchase_fail_unmatched,
)
from rentals.models import RenewalStatus, Rental, RentalPollState, RentalRenewal, RentalStatus
from rentals.services import (
    RENEWAL_GRACE,
    record_rent,
    renewal_done,
    renewal_not_made,
    rental_price_pending,
    rental_refresh,
)

logger = logging.getLogger(__name__)

# Rents that were made, so must carry a price.
PRICED_STATUSES = (RentalStatus.ACTIVE, RentalStatus.FINISHED, RentalStatus.CANCELLED)
# A rental that receives webhooks is still asked for its status this often (a webhook can be lost).
WEBHOOK_CHECK_INTERVAL = timedelta(seconds=60)


def keys_due() -> QuerySet[ApiKey]:
    """Active keys with live rentals, or rents and renewals whose outcome is unsettled, not backing off: those
    the rent poll must reach."""
    now = timezone.now()
    busy_rentals = Rental.objects.filter(
        Q(status__in=(RentalStatus.ACTIVE, RentalStatus.UNKNOWN))
        | Q(status=RentalStatus.PENDING, created_at__lt=now - in_flight_timeout())
        | Q(
            cost__isnull=True, status__in=(RentalStatus.ACTIVE, RentalStatus.FINISHED, RentalStatus.CANCELLED)
        ),
        api_key__status=KeyStatus.ACTIVE,
    ).values("api_key_id")
    busy_renewals = RentalRenewal.objects.filter(status=RenewalStatus.UNKNOWN).values("rental__api_key_id")
    keys = ApiKey.objects.filter(Q(pk__in=busy_rentals) | Q(pk__in=busy_renewals), status=KeyStatus.ACTIVE)
    return keys.exclude(pk__in=backing_off(RentalPollState))


def keys_to_poll() -> list[int]:
    """The keys due that a sweep sends a task now (`purchases.polling.to_send`; one query)."""
    return to_send(keys_due(), RentalPollState)


def poll_key(api_key_id: int, *, fresh_within: float | None = None) -> str:
    """One rent poll cycle for one key; returns a short word for logs. Never raises on upstream faults.
    `fresh_within` (seconds): skip a key polled that recently (the sweeper's tasks)."""
    return run_locked_cycle(
        api_key_id, _cycle, state_model=RentalPollState, what="rent poll", fresh_within=fresh_within
    )


def _cycle(api_key: ApiKey) -> None:
    now = timezone.now()
    orphan_intents(Rental, api_key=api_key)
    entries = client_for_key(api_key).get_rent_list()
    api_key_mark_health(api_key=api_key, exc=None)
    listed = {entry.rent_id: entry.phone for entry in entries}
    # Local rows are read only now: a rent settled while the provider answered is seen as ours.
    known = set(
        Rental.objects.filter(api_key=api_key, upstream_id__in=list(listed)).values_list(
            "upstream_id", flat=True
        )
    )
    strangers = [entry for entry in entries if entry.rent_id not in known]
    _reconcile_renewals(api_key, listed, strangers)
    _reconcile_rents(api_key, strangers)
    for rental in Rental.objects.filter(api_key=api_key, cost__isnull=True, status__in=PRICED_STATUSES):
        rental_price_pending(rental)
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


def _reconcile_renewals(api_key: ApiKey, listed: dict[str, str], strangers: list[RentListEntry]) -> None:
    """Decide renewals whose answer was lost, from what getRentList shows, never by calling again."""
    now = timezone.now()
    unknown = RentalRenewal.objects.filter(
        rental__api_key=api_key, status=RenewalStatus.UNKNOWN
    ).select_related("rental", "rental__team", "rental__api_key")
    for renewal in unknown.order_by("created_at"):
        rental = renewal.rental
        if renewal.reorder:
            # A re-ordered finished rent comes back under a new id with the same phone number.
            same_phone = [entry for entry in strangers if entry.phone == rental.phone]
            if len(same_phone) == 1:
                match = same_phone[0]
                strangers.remove(match)
                renewal_done(
                    renewal,
                    RentOrder(rent_id=match.rent_id, phone=match.phone, end_date=None),
                    actor=None,
                    reconciled=True,
                )
            elif renewal.created_at < now - UNKNOWN_GRACE:
                renewal_not_made(
                    renewal,
                    message=phrase(
                        gettext_noop("The provider did not re-order the number; nothing was spent.")
                    ),
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
                renewal,
                message=phrase(
                    gettext_noop("The provider did not renew the number; it ended. Nothing was spent.")
                ),
            )


def _fits(intent: Rental, entry: RentListEntry) -> bool:
    """getRentList tells only the id and the phone: a lost rent is matched by its phone where it has one
    (a re-order), else only when nothing else could be it."""
    return not intent.phone or intent.phone == entry.phone


def _reconcile_rents(api_key: ApiKey, strangers: list[RentListEntry]) -> None:
    """Settle rents whose answer was lost from the unknown ids in the list, only where the match is
    unambiguous; give up on them after the grace period when nothing in the list could be them."""
    now = timezone.now()
    unsettled = list(Rental.objects.filter(api_key=api_key, status__in=UNSETTLED).order_by("created_at"))
    matching = match_lost(unsettled, strangers, _fits)
    for rental, entry in matching.pairs:
        if record_rent(
            rental,
            RentOrder(rent_id=entry.rent_id, phone=entry.phone, end_date=None),
            actor=None,
            reconciled=True,
        ):
            rental_refresh(rental=rental)
    for rental in matching.ambiguous:
        purchase_ambiguous(
            rental, [{"id": e.rent_id, "phone": e.phone} for e in strangers if _fits(rental, e)]
        )
    for rental in matching.unmatched:
        if rental.created_at < now - UNKNOWN_GRACE:
            purchase_fail_unmatched(
                rental,
                message=phrase(
                    gettext_noop("The provider has no such rent: it did not happen, nothing was spent.")
                ),
            )
