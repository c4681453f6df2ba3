"""Periodic reconciliation of the local record with the provider's getHistory.

The team's own history must outlive the provider, so anything the provider remembers that we do
not (numbers bought elsewhere and already closed, closings the poll cycle missed) is written down.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, LedgerKind
from activations.models import Activation, ActivationStatus
from activations.services import (
    candidate_of,
    could_be,
    record_code,
    record_purchase,
    settle_closed,
    touch_activation,
)
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import HistoryEntry, NumberOrder
from providers.services import api_key_mark_health
from purchases.models import UNSETTLED
from purchases.reconcile import match_lost
from purchases.services import ledger_book, purchase_ambiguous, purchase_confirm_price

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES = 20
# getHistory status codes: 6 finished successfully, 8 cancelled, 7/10 refunded by the provider.
FINISHED_CODES = {"6"}
REFUNDED_CODES = {"7", "8", "10"}


def history_sync(*, api_key: ApiKey, days: int = 2) -> int:
    """Apply the provider's history of the last `days` to our records; returns how many rows changed."""
    try:
        return reconcile_from_history(api_key, start=timezone.now() - timedelta(days=days))
    except errors.ProviderError as exc:
        api_key_mark_health(api_key=api_key, exc=exc)
        logger.warning("history sync of key %s failed: %s", api_key.pk, exc.code)
        return 0


def reconcile_from_history(api_key: ApiKey, *, start: datetime) -> int:
    """Read every page of getHistory since `start` and apply it: closings and prices of our numbers, lost
    purchases found closed (matched only where unambiguous), closed numbers bought outside simdesk.
    Raises ProviderError when the provider will not answer."""
    if not profile_for_key(api_key).supports_action("getHistory"):
        return 0
    client = client_for_key(api_key)
    entries: dict[str, HistoryEntry] = {}
    for page in range(MAX_PAGES):
        batch = client.get_history(start=start, offset=page * PAGE_SIZE, size=PAGE_SIZE)
        for entry in batch:
            entries.setdefault(entry.activation_id, entry)
        if len(batch) < PAGE_SIZE:
            break
    known = {
        a.upstream_id: a for a in Activation.objects.filter(api_key=api_key, upstream_id__in=list(entries))
    }
    changed = sum(
        _apply(known[upstream_id], entry) for upstream_id, entry in entries.items() if upstream_id in known
    )
    closed = [e for e in entries.values() if e.activation_id not in known and _closed_status(e) is not None]
    return changed + _reconcile_closed(api_key, closed)


def _closed_status(entry: HistoryEntry) -> str | None:
    if entry.status in FINISHED_CODES:
        return ActivationStatus.FINISHED
    if entry.status in REFUNDED_CODES:
        return ActivationStatus.CANCELLED
    return None  # still live: the poll cycle reads it with full details


def _apply(activation: Activation, entry: HistoryEntry) -> int:
    for code in entry.sms:
        record_code(activation=activation, code=code, closed_ok=True)
    # getHistory names the price of a completed activation: the provider's own record of what it charged.
    if entry.status in FINISHED_CODES and entry.cost and not activation.price_confirmed:
        purchase_confirm_price(activation, cost=entry.cost, currency=entry.currency)
    if not activation.is_live:
        return 0
    if entry.status in FINISHED_CODES:
        settle_closed(activation, status=ActivationStatus.FINISHED, refund=False)
        return 1
    if entry.status in REFUNDED_CODES:
        settle_closed(activation, status=ActivationStatus.CANCELLED, refund=True)
        return 1
    return 0


def _fits(intent: Activation, entry: HistoryEntry) -> bool:
    return could_be(intent, service=entry.service, phone=entry.phone, bought_at=entry.date)


def _order(entry: HistoryEntry) -> NumberOrder:
    # The history's cost is the charge once completed; 0 (not a price) before that.
    cost = entry.cost if entry.status in FINISHED_CODES and entry.cost else None
    return NumberOrder(
        activation_id=entry.activation_id,
        phone=entry.phone,
        cost=cost,
        currency=entry.currency,
        activation_time=entry.date,
        service=entry.service,
    )


def _reconcile_closed(api_key: ApiKey, closed: list[HistoryEntry]) -> int:
    """Numbers the provider closed that nobody recorded: a lost purchase of ours where the match is
    unambiguous, else kept as bought outside simdesk once no purchase of ours could be them."""
    unsettled = list(Activation.objects.filter(api_key=api_key, status__in=UNSETTLED).order_by("created_at"))
    matching = match_lost(unsettled, closed, _fits)
    changed = 0
    for activation, entry in matching.pairs:
        if record_purchase(activation, _order(entry), actor=None, reconciled=True):
            activation.refresh_from_db()
            changed += 1 + _apply(activation, entry)
    for activation in matching.ambiguous:
        purchase_ambiguous(activation, [candidate_of(_order(e)) for e in closed if _fits(activation, e)])
    for entry in matching.free:
        changed += _record_outside(api_key, entry)
    return changed


def _record_outside(api_key: ApiKey, entry: HistoryEntry) -> int:
    """A closed activation made with the key outside simdesk: keep it in the team's records and ledger."""
    status = _closed_status(entry)
    with transaction.atomic():
        activation = Activation.objects.create(
            team=api_key.team,
            api_key=api_key,
            upstream_id=entry.activation_id,
            phone=entry.phone,
            service=entry.service or "?",
            cost=entry.cost,
            price_confirmed=status == ActivationStatus.FINISHED and bool(entry.cost),
            currency=entry.currency or api_key.currency,
            status=status,
            created_at=entry.date or timezone.now(),
            bought_at=entry.date,
            closed_at=entry.date or timezone.now(),
        )
        if status == ActivationStatus.FINISHED and entry.cost:
            ledger_book(activation, LedgerKind.PURCHASE, entry.cost, event="purchase")
        for code in entry.sms:
            record_code(activation=activation, code=code, closed_ok=True)
        touch_activation(activation)
    return 1
