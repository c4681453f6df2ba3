"""The per-key poll cycle: one getActiveActivations call brings every live activation of the key up to date.

A cycle claims the key with a conditional UPDATE (so two workers never poll one key at once), reads
the provider, applies codes and closings, adopts numbers bought elsewhere with the key, reconciles
purchases whose outcome was lost, cancels numbers that got no code when the team asks for it, and
backs off on upstream faults.
"""

import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, KeyStatus
from accounts.services import audit_record
from activations.models import LIVE_STATUSES, Activation, ActivationStatus, KeyPollState
from activations.services import (
    UNKNOWN_GRACE,
    activation_refresh,
    book_ledger,
    expiry_time,
    record_code,
    settle_closed,
    touch_activation,
)
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import ActiveActivation
from providers.services import api_key_mark_health

logger = logging.getLogger(__name__)

LOCK_TTL = timedelta(seconds=60)
BACKOFF_STEPS = (5, 15, 30, 60, 120, 300)  # seconds, by consecutive failures


def keys_to_poll() -> list[int]:
    """Active keys with live or unsettled activations, not backing off."""
    now = timezone.now()
    busy = Activation.objects.filter(
        status__in=(*LIVE_STATUSES, ActivationStatus.UNKNOWN), api_key__status=KeyStatus.ACTIVE
    ).values("api_key_id")
    backing_off = KeyPollState.objects.filter(backoff_until__gt=now).values("api_key_id")
    return list(ApiKey.objects.filter(pk__in=busy).exclude(pk__in=backing_off).values_list("pk", flat=True))


def claim(api_key_id: int, *, state_model: type[models.Model] = KeyPollState) -> bool:
    """Take the key's poll lock unless another worker holds it (an expired lock is free again).

    `state_model` is the per-key state table (rentals keep their own lock beside this one).
    """
    now = timezone.now()
    state_model.objects.get_or_create(api_key_id=api_key_id)
    claimed = state_model.objects.filter(
        Q(locked_until__isnull=True) | Q(locked_until__lt=now), api_key_id=api_key_id
    ).update(locked_until=now + LOCK_TTL)
    return claimed == 1


def release(
    api_key_id: int,
    *,
    error: errors.ProviderError | None,
    state_model: type[models.Model] = KeyPollState,
) -> None:
    state = state_model.objects.get(api_key_id=api_key_id)
    now = timezone.now()
    if error is None:
        state.failures, state.backoff_until, state.last_error = 0, None, ""
    else:
        state.failures += 1
        delay = BACKOFF_STEPS[min(state.failures, len(BACKOFF_STEPS)) - 1]
        if isinstance(error, errors.RateLimited) and error.retry_after:
            delay = max(delay, int(error.retry_after))
        state.backoff_until = now + timedelta(seconds=delay)
        state.last_error = f"{error.code}: {error.message}"[:300]
    state.locked_until = None
    state.last_polled_at = now
    state.save()


def run_locked_cycle(
    api_key_id: int,
    cycle: Callable[[ApiKey], None],
    *,
    state_model: type[models.Model] = KeyPollState,
    what: str = "poll",
) -> str:
    """Claim the key, run `cycle(api_key)`, then record its health and backoff and release the lock.

    Returns a short word for logs; never raises on upstream faults (they mark the key and back off).
    """
    if not claim(api_key_id, state_model=state_model):
        return "locked"
    api_key = ApiKey.objects.select_related("team").get(pk=api_key_id)
    error: errors.ProviderError | None = None
    try:
        cycle(api_key)
    except errors.ProviderError as exc:
        error = exc
        api_key_mark_health(api_key=api_key, exc=exc)
        logger.warning("%s of key %s failed: %s", what, api_key_id, exc.code)
    finally:
        release(api_key_id, error=error, state_model=state_model)
    return "error" if error else "ok"


def poll_key(api_key_id: int) -> str:
    """One poll cycle for one key; returns a short word for logs. Never raises on upstream faults."""
    return run_locked_cycle(api_key_id, _cycle)


def _cycle(api_key: ApiKey) -> None:
    local = {
        a.upstream_id: a
        for a in Activation.objects.filter(api_key=api_key, status__in=LIVE_STATUSES).exclude(
            upstream_id=None
        )
    }
    unknown = list(
        Activation.objects.filter(api_key=api_key, status=ActivationStatus.UNKNOWN).order_by("created_at")
    )
    profile = profile_for_key(api_key)
    if profile.supports_action("getActiveActivations"):
        rows = client_for_key(api_key).get_active_activations()
        api_key_mark_health(api_key=api_key, exc=None)
        upstream = {row.activation_id: row for row in rows}
        for upstream_id, row in upstream.items():
            activation = local.get(upstream_id)
            if activation is None:
                activation = _match_unknown(api_key, row, unknown) or _adopt(api_key, row)
                if activation is None:
                    continue
            _apply_row(activation, row)
        # Live here but gone upstream: the activation ended there; ask how.
        for upstream_id, activation in local.items():
            if upstream_id not in upstream:
                activation_refresh(activation=activation)
        _give_up_unknown(unknown)
    else:
        for activation in local.values():
            activation_refresh(activation=activation)
    _auto_cancel(api_key)


def _apply_row(activation: Activation, row: ActiveActivation) -> None:
    if row.can_get_another_sms is not None and row.can_get_another_sms != activation.can_get_another_sms:
        touch_activation(activation, can_get_another_sms=row.can_get_another_sms)
    codes = [code for code in row.sms_codes if code]
    for code in codes:
        record_code(activation=activation, code=code, text=row.sms_text or "")
    # Status 3 upstream = waiting for the next code after "another code" was asked for.
    if (
        row.status == "3"
        and activation.status == ActivationStatus.CODE_RECEIVED
        and activation.last_code in codes
    ):
        touch_activation(activation, status=ActivationStatus.WAIT_RETRY)


def _fill_from_row(activation: Activation, api_key: ApiKey, row: ActiveActivation) -> None:
    profile = profile_for_key(api_key)
    bought_at = row.activation_time or activation.created_at
    touch_activation(
        activation,
        upstream_id=row.activation_id,
        phone=row.phone,
        service=row.service or activation.service,
        country=row.country if row.country is not None else activation.country,
        cost=row.cost if row.cost is not None else activation.cost,
        currency=row.currency or activation.currency,
        status=ActivationStatus.WAITING,
        bought_at=bought_at,
        cancel_allowed_at=bought_at + timedelta(seconds=profile.cancel_lock_seconds),
        expires_at=expiry_time(api_key, bought_at, row.activation_end_time),
        error_code="",
        error_message="",
    )


def _match_unknown(api_key: ApiKey, row: ActiveActivation, unknown: list[Activation]) -> Activation | None:
    """An upstream number we do not know may be the answer to a purchase whose answer was lost."""
    for activation in unknown:
        if activation.service == row.service and (row.country is None or activation.country == row.country):
            unknown.remove(activation)
            with transaction.atomic():
                _fill_from_row(activation, api_key, row)
                book_ledger(activation, "purchase", activation.cost, actor=activation.member)
                audit_record(
                    team=api_key.team,
                    actor=None,
                    action="activation.reconciled",
                    api_key=api_key,
                    amount=activation.cost,
                    currency=activation.currency,
                    summary=_("The lost purchase of %(service)s was found upstream: %(phone)s")
                    % {"service": activation.service, "phone": row.phone},
                )
            return activation
    return None


def _adopt(api_key: ApiKey, row: ActiveActivation) -> Activation | None:
    """A number bought with this key outside simdesk: record it so the team sees and pays for it."""
    activation = Activation(
        team=api_key.team,
        api_key=api_key,
        service=row.service or "?",
        country=row.country,
        currency=row.currency or api_key.currency,
    )
    with transaction.atomic():
        activation.save()
        _fill_from_row(activation, api_key, row)
        book_ledger(activation, "purchase", activation.cost, actor=None)
    return activation


def _give_up_unknown(unknown: list[Activation]) -> None:
    """Unknown purchases still absent from the provider's list after the grace period were not made."""
    cutoff = timezone.now() - UNKNOWN_GRACE
    for activation in unknown:
        if activation.created_at < cutoff:
            touch_activation(
                activation,
                status=ActivationStatus.FAILED,
                closed_at=timezone.now(),
                error_message=_(
                    "The provider has no such number: the purchase did not happen, nothing was spent."
                ),
            )


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
