"""The per-key poll cycle: one walk of getActiveActivations brings every live activation of the key up to date.

A cycle claims the key (the purchase core's claim), reads the provider first and the local rows after,
applies codes and closings, confirms prices from the provider's list, reconciles purchases whose answer
was lost (or whose process died mid-call) only where the match is unambiguous, adopts numbers bought
elsewhere with the key once no purchase of ours could be them, cancels numbers that got no code when the
team asks for it, and backs off on upstream faults.
"""

import logging
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, KeyStatus
from accounts.services import audit_record
from activations.history_sync import reconcile_from_history
from activations.models import LIVE_STATUSES, Activation, ActivationStatus, KeyPollState
from activations.services import (
    CLOCK_SLACK,
    activation_refresh,
    candidate_of,
    could_be,
    order_from_row,
    record_code,
    record_purchase,
    settle_closed,
    touch_activation,
)
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import ActiveActivation
from providers.services import api_key_mark_health
from purchases.models import UNSETTLED
from purchases.polling import run_locked_cycle
from purchases.reconcile import match_lost
from purchases.services import (
    UNKNOWN_GRACE,
    orphan_intents,
    purchase_ambiguous,
    purchase_confirm_price,
    purchase_fail_unmatched,
)

logger = logging.getLogger(__name__)


def keys_to_poll() -> list[int]:
    """Active keys with live or unsettled activations, not backing off."""
    now = timezone.now()
    busy = Activation.objects.filter(
        status__in=(*LIVE_STATUSES, *UNSETTLED), api_key__status=KeyStatus.ACTIVE
    ).values("api_key_id")
    backing_off = KeyPollState.objects.filter(backoff_until__gt=now).values("api_key_id")
    return list(ApiKey.objects.filter(pk__in=busy).exclude(pk__in=backing_off).values_list("pk", flat=True))


def poll_key(api_key_id: int) -> str:
    """One poll cycle for one key; returns a short word for logs. Never raises on upstream faults."""
    return run_locked_cycle(api_key_id, _cycle, state_model=KeyPollState)


def _cycle(api_key: ApiKey) -> None:
    orphan_intents(Activation, api_key=api_key)
    if not profile_for_key(api_key).supports_action("getActiveActivations"):
        for activation in Activation.objects.filter(api_key=api_key, status__in=LIVE_STATUSES).exclude(
            upstream_id=None
        ):
            activation_refresh(activation=activation)
        _auto_cancel(api_key)
        return
    upstream = {row.activation_id: row for row in client_for_key(api_key).get_all_active_activations()}
    api_key_mark_health(api_key=api_key, exc=None)
    # Local rows are read only now: a purchase settled while the provider answered is seen as ours.
    known = {
        a.upstream_id: a for a in Activation.objects.filter(api_key=api_key, upstream_id__in=list(upstream))
    }
    for upstream_id, row in upstream.items():
        activation = known.get(upstream_id)
        if activation is not None and activation.is_live:
            _apply_row(activation, row)
    _reconcile(api_key, [row for upstream_id, row in upstream.items() if upstream_id not in known])
    # Live here but gone upstream: the activation ended there; ask how.
    for activation in (
        Activation.objects.filter(api_key=api_key, status__in=LIVE_STATUSES)
        .exclude(upstream_id__in=list(upstream))
        .exclude(upstream_id=None)
    ):
        activation_refresh(activation=activation, gone_upstream=True)
    _auto_cancel(api_key)


def _apply_row(activation: Activation, row: ActiveActivation) -> None:
    if row.cost is not None and not (activation.price_confirmed and activation.cost == row.cost):
        purchase_confirm_price(activation, cost=row.cost, currency=row.currency)
    if row.can_get_another_sms is not None and row.can_get_another_sms != activation.can_get_another_sms:
        touch_activation(activation, can_get_another_sms=row.can_get_another_sms)
    codes = [code for code in row.sms_codes if code]
    for code in codes:
        record_code(activation=activation, code=code, text=row.sms_text or "", provider_last=codes[-1])
    # Status 3 upstream = waiting for the next code after "another code" was asked for.
    if (
        row.status == "3"
        and activation.status == ActivationStatus.CODE_RECEIVED
        and activation.last_code in codes
    ):
        touch_activation(activation, status=ActivationStatus.WAIT_RETRY)


def fits(intent: Activation, row: ActiveActivation) -> bool:
    """Whether a number in the provider's live list could be the answer to this purchase."""
    return could_be(
        intent,
        service=row.service,
        country=row.country,
        operator=row.operator,
        phone=row.phone,
        bought_at=row.activation_time,
    )


def _reconcile(api_key: ApiKey, strangers: list[ActiveActivation]) -> None:
    """Settle lost purchases from the numbers nobody recorded; adopt the rest only if no purchase of ours
    could be them; give up on lost purchases the provider never sold."""
    unsettled = list(Activation.objects.filter(api_key=api_key, status__in=UNSETTLED).order_by("created_at"))
    matching = match_lost(unsettled, strangers, fits)
    for activation, row in matching.pairs:
        if record_purchase(activation, order_from_row(row), actor=None, reconciled=True):
            _apply_row(activation, row)
    for activation in matching.ambiguous:
        purchase_ambiguous(
            activation, [candidate_of(order_from_row(row)) for row in strangers if fits(activation, row)]
        )
    overdue = [a for a in matching.unmatched if a.created_at < timezone.now() - UNKNOWN_GRACE]
    if overdue:
        # Absent from the live list is not proof: the number may have closed already. The history decides.
        reconcile_from_history(api_key, start=min(a.created_at for a in overdue) - CLOCK_SLACK)
        # What the history could not tell apart waits for an admin instead.
        overdue = [
            a
            for a in Activation.objects.filter(pk__in=[a.pk for a in overdue], status__in=UNSETTLED)
            if not a.awaits_choice
        ]
    for activation in overdue:
        purchase_fail_unmatched(
            activation,
            message=_("The provider has no such number: the purchase did not happen, nothing was spent."),
        )
    for row in matching.free:
        _adopt(api_key, row)


def _adopt(api_key: ApiKey, row: ActiveActivation) -> Activation:
    """A number bought with this key outside simdesk: record it so the team sees and pays for it."""
    activation = Activation.objects.create(
        team=api_key.team,
        api_key=api_key,
        service=row.service or "?",
        country=row.country,
        currency=row.currency or api_key.currency,
    )
    record_purchase(activation, order_from_row(row), actor=None, outside=True)
    _apply_row(activation, row)
    return activation


def _auto_cancel(api_key: ApiKey) -> None:
    """Cancel numbers that got no code after the team's limit, once the provider allows it, for the refund."""
    minutes = api_key.team.auto_cancel_minutes
    if not minutes:
        return
    now = timezone.now()
    stale = Activation.objects.filter(
        api_key=api_key,
        status=ActivationStatus.WAITING,
        sms_count=0,
        bought_at__lt=now - timedelta(minutes=minutes),
    ).filter(Q(cancel_allowed_at__isnull=True) | Q(cancel_allowed_at__lte=now))
    client = client_for_key(api_key)
    for activation in stale:
        try:
            client.set_status(id=activation.upstream_id, status=8)
        except errors.EarlyCancelDenied:
            continue
        except (errors.NoActivation, errors.BadStatus, errors.ActivationNotActive):
            activation_refresh(activation=activation)
            continue
        settle_closed(activation, status=ActivationStatus.CANCELLED, refund=True)
        audit_record(
            team=api_key.team,
            actor=None,
            action="activation.auto_cancel",
            api_key=api_key,
            amount=activation.cost,
            currency=activation.currency,
            summary=_("Cancelled %(phone)s: no code after %(minutes)s minutes")
            % {"phone": activation.phone, "minutes": minutes},
        )
