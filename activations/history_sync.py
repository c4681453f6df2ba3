"""Periodic reconciliation of the local record with the provider's getHistory.

The team's own history must outlive the provider, so anything the provider remembers that we do
not (numbers bought elsewhere and already closed, closings the poll cycle missed) is written down.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, LedgerKind
from activations.models import Activation, ActivationStatus
from activations.services import record_code, settle_closed, touch_activation
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import HistoryEntry
from providers.services import api_key_mark_health
from purchases.services import ledger_book, purchase_confirm_price

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES = 20
# getHistory status codes: 6 finished successfully, 8 cancelled, 7/10 refunded by the provider.
FINISHED_CODES = {"6"}
REFUNDED_CODES = {"7", "8", "10"}


def history_sync(*, api_key: ApiKey, days: int = 2) -> int:
    """Apply the provider's history of the last `days` to our records; returns how many rows changed."""
    if not profile_for_key(api_key).supports_action("getHistory"):
        return 0
    client = client_for_key(api_key)
    start = timezone.now() - timedelta(days=days)
    changed = 0
    try:
        for page in range(MAX_PAGES):
            entries = client.get_history(start=start, offset=page * PAGE_SIZE, size=PAGE_SIZE)
            for entry in entries:
                changed += _apply(api_key, entry)
            if len(entries) < PAGE_SIZE:
                break
    except errors.ProviderError as exc:
        api_key_mark_health(api_key=api_key, exc=exc)
        logger.warning("history sync of key %s failed: %s", api_key.pk, exc.code)
    return changed


def _apply(api_key: ApiKey, entry: HistoryEntry) -> int:
    activation = Activation.objects.filter(api_key=api_key, upstream_id=entry.activation_id).first()
    if activation is None:
        return _record_unknown(api_key, entry)
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


def _record_unknown(api_key: ApiKey, entry: HistoryEntry) -> int:
    """A closed activation made with the key outside simdesk: keep it in the team's records and ledger."""
    if entry.status in FINISHED_CODES:
        status = ActivationStatus.FINISHED
    elif entry.status in REFUNDED_CODES:
        status = ActivationStatus.CANCELLED
    else:
        return 0  # still live: the poll cycle adopts it with full details
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
