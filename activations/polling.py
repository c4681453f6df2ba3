"""The per-key poll cycle: one walk of getActiveActivations brings every live activation of the key up to date.

A cycle claims the key (the purchase core's claim), reads the provider first and the local rows after,
applies codes and closings, confirms prices from the provider's list, reconciles purchases whose answer
was lost (or whose process died mid-call) only where the match is unambiguous, adopts numbers bought
elsewhere with the key once no purchase of ours could be them, cancels numbers that got no code when the
team asks for it, and backs off on upstream faults.

A provider without getActiveActivations (its profile says so, or it answered BAD_ACTION, which the key
keeps for a day before trying again) is asked getStatus per live number instead, a budget's worth a
cycle, in turn. Without the list, lost purchases and numbers bought elsewhere wait for the history sync.
"""

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop, ngettext_lazy

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
from kit.phrases import phrase
from providers import errors
from providers.capabilities import api_key_try_action
from providers.client import ProviderClient
from providers.keys import client_for_key, profile_for_key
from providers.results import ActiveActivation
from providers.services import api_key_mark_health
from purchases.models import UNSETTLED
from purchases.polling import backing_off, run_locked_cycle, to_send
from purchases.reconcile import match_lost
from purchases.services import (
    UNKNOWN_GRACE,
    orphan_intents,
    purchase_ambiguous,
    purchase_confirm_price,
    purchase_fail_unmatched,
)

logger = logging.getLogger(__name__)

# The one call that reads every live number of a key; providers without it (SMSBower) are asked per number.
LIST_ACTION = "getActiveActivations"
# However large a key's request budget, one cycle asks about at most this many numbers one by one.
STATUS_POLL_MAX = 50
# Faults of the key or of the whole provider: the next number's getStatus would meet them too.
KEY_FAULTS = (
    errors.BadKey,
    errors.Banned,
    errors.AccountInactive,
    errors.RateLimited,
    errors.UpstreamUnavailable,
)
# Numbers in a row whose getStatus failed before the cycle gives up and backs off.
FAULTS_IN_A_ROW = 2


def keys_due() -> QuerySet[ApiKey]:
    """Active keys with live or unsettled activations, not backing off: those the poll must reach."""
    live = Activation.objects.filter(
        status__in=(*LIVE_STATUSES, *UNSETTLED), api_key__status=KeyStatus.ACTIVE
    ).values("api_key_id")
    return ApiKey.objects.filter(pk__in=live).exclude(pk__in=backing_off(KeyPollState))


def keys_to_poll() -> list[int]:
    """The keys due that a sweep sends a task now (`purchases.polling.to_send`; one query)."""
    return to_send(keys_due(), KeyPollState)


def poll_key(
    api_key_id: int, *, clock: Callable[[], datetime] = timezone.now, fresh_within: float | None = None
) -> str:
    """One poll cycle for one key; returns a short word for logs. Never raises on upstream faults.

    `clock` tells when a key whose provider lacks getActiveActivations tries it again (tests move it);
    `fresh_within` (seconds): skip a key polled that recently (the sweeper's tasks).
    """
    return run_locked_cycle(
        api_key_id, partial(_cycle, clock=clock), state_model=KeyPollState, fresh_within=fresh_within
    )


def _cycle(api_key: ApiKey, *, clock: Callable[[], datetime]) -> None:
    orphan_intents(Activation, api_key=api_key)
    client = client_for_key(api_key)
    # None: the profile or the provider itself (BAD_ACTION, learned on the key) has no list.
    listed = api_key_try_action(
        api_key=api_key, action=LIST_ACTION, call=client.get_all_active_activations, now=clock()
    )
    if listed is None:
        _poll_each(api_key, client)
        _auto_cancel(api_key)
        return
    upstream = {row.activation_id: row for row in listed}
    api_key_mark_health(api_key=api_key, exc=None, damaged=getattr(listed, "damaged", 0))
    # Local rows are read only now: a purchase settled while the provider answered is seen as ours.
    known = {
        a.upstream_id: a for a in Activation.objects.filter(api_key=api_key, upstream_id__in=list(upstream))
    }
    for upstream_id, row in upstream.items():
        activation = known.get(upstream_id)
        if activation is not None and activation.is_live:
            _apply_row(activation, row)
    # A row read only in part (no phone, no time) is never matched to a lost purchase nor adopted.
    _reconcile(
        api_key,
        [row for upstream_id, row in upstream.items() if upstream_id not in known and not row.damaged],
    )
    # Live here but gone upstream: the activation ended there; ask how.
    for activation in (
        Activation.objects.filter(api_key=api_key, status__in=LIVE_STATUSES)
        .exclude(upstream_id__in=list(upstream))
        .exclude(upstream_id=None)
    ):
        activation_refresh(activation=activation, gone_upstream=True)
    _auto_cancel(api_key)


def status_poll_cap(api_key: ApiKey) -> int:
    """How many numbers one cycle asks about one by one: what the key's request budget allows in one poll
    interval (so a cycle ends about when the next is due), at least one, at most `STATUS_POLL_MAX`."""
    per_interval = profile_for_key(api_key).requests_per_second * settings.SIMDESK_POLL_INTERVAL
    return max(1, min(STATUS_POLL_MAX, math.floor(per_interval)))


def _poll_each(api_key: ApiKey, client: ProviderClient) -> None:
    """No list of live numbers at this provider: one getStatus per live number, applied by the same step
    as a number missing from the list (`activation_refresh`). At most `status_poll_cap` numbers a cycle,
    taken in turn from where the last cycle stopped (the poll state's cursor), so each gets its turn."""
    live = (
        Activation.objects.filter(api_key=api_key, status__in=LIVE_STATUSES)
        .exclude(upstream_id=None)
        .order_by("pk")
    )
    cap = status_poll_cap(api_key)
    cursor = KeyPollState.objects.filter(api_key=api_key).values_list("status_cursor", flat=True).first() or 0
    batch = list(live.filter(pk__gt=cursor)[:cap])
    if len(batch) < cap:
        batch += live.filter(pk__lte=cursor)[: cap - len(batch)]
    now = timezone.now()
    done, failed_in_row, answered = cursor, 0, False
    try:
        for activation in batch:
            # Past its lifetime the number is over upstream, whatever code getStatus still shows.
            over = activation.expires_at is not None and activation.expires_at < now - CLOCK_SLACK
            try:
                activation_refresh(activation=activation, gone_upstream=over, client=client)
            except KEY_FAULTS:
                raise  # this number goes first next cycle
            except errors.ProviderError as exc:
                # Only this number's answer, maybe: it is skipped so it never holds up the others; twice
                # in a row is the provider's fault, and the cycle backs off.
                done, failed_in_row = activation.pk, failed_in_row + 1
                if failed_in_row >= min(FAULTS_IN_A_ROW, len(batch)):
                    raise
                logger.warning("getStatus of activation %s failed: %s", activation.pk, exc.code)
                continue
            done, failed_in_row, answered = activation.pk, 0, True
    finally:
        KeyPollState.objects.filter(api_key=api_key).update(status_cursor=done)
    if answered:
        api_key_mark_health(api_key=api_key, exc=None)


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
            message=phrase(
                gettext_noop(
                    "The provider has no such number: the purchase did not happen, nothing was spent."
                )
            ),
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
            summary=phrase(
                ngettext_lazy(
                    "Cancelled %(phone)s: no code after %(minutes)s minute",
                    "Cancelled %(phone)s: no code after %(minutes)s minutes",
                    "minutes",
                ),
                phone=activation.phone,
                minutes=minutes,
            ),
        )
