"""Writes for activations: buying safely, status changes, codes from polls and webhooks, settlement.

Money rules: limits are checked and an intent row is written (under a lock on the key) before the
upstream call; the call itself runs outside any transaction; a definite refusal marks the intent
failed, an ambiguous outcome marks it unknown for the next poll cycle to reconcile. A purchase is
never retried.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiKey, LedgerEntry, LedgerKind, Membership, User
from accounts.permissions import SpendDenied
from accounts.services import ActionRefused, audit_record
from accounts.spending import has_limits, record_spend_intent
from activations.models import Activation, ActivationStatus, Sms, SmsVia
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import ActivationState, NumberOrder
from providers.services import api_key_mark_health

logger = logging.getLogger(__name__)

# How long an ambiguous purchase may stay unmatched in the upstream list before it counts as not bought.
UNKNOWN_GRACE = timedelta(minutes=3)


class BuyRefused(Exception):
    """A purchase that did not happen; `message` says why in plain words. Nothing was spent."""

    def __init__(self, message: str, *, activation: Activation | None = None):
        super().__init__(message)
        self.message = message
        self.activation = activation


def touch_activation(activation: Activation, **fields) -> None:
    """Save the given fields and bump `updated_at`, which the live board watches."""
    fields["updated_at"] = timezone.now()
    for name, value in fields.items():
        setattr(activation, name, value)
    Activation.objects.filter(pk=activation.pk).update(**fields)


def describe_error(exc: errors.ProviderError) -> str:
    """The provider's refusal in plain words for the buy form and the board."""
    if isinstance(exc, errors.WrongMaxPrice):
        return _("The price is above your maximum; the lowest price now is %(min)s.") % {"min": exc.minimum}
    if isinstance(exc, errors.Banned):
        until = exc.until.strftime("%Y-%m-%d %H:%M UTC") if exc.until else _("further notice")
        return _("The provider has banned this account until %(until)s.") % {"until": until}
    if isinstance(exc, errors.NoNumbers):
        return _("The provider has no free numbers for this service and country right now.")
    if isinstance(exc, errors.NoBalance):
        return _("The provider account has not enough balance for this number.")
    if isinstance(exc, errors.BadService):
        return _("The provider does not know this service.")
    if isinstance(exc, errors.BadCountry):
        return _("The provider does not know this country.")
    if isinstance(exc, errors.BadKey):
        return _("The provider rejected the API key; an admin must re-enter it.")
    if isinstance(exc, errors.EarlyCancelDenied):
        return _("The provider does not allow cancelling in the first minutes; try again shortly.")
    return exc.message


# --- buying -------------------------------------------------------------------------------------


def committed_unrecorded(api_key: ApiKey) -> Decimal:
    """Money possibly spent by purchases still in flight or unknown, counted against the limits."""
    pending = Activation.objects.filter(
        api_key=api_key, status__in=(ActivationStatus.PENDING, ActivationStatus.UNKNOWN)
    ).aggregate(total=Sum("cost"))["total"]
    return pending or Decimal("0")


def estimate_price(api_key: ApiKey, *, service: str, country: int, forward: bool) -> Decimal | None:
    """The current price, so limits can be checked before buying; None if the provider will not say."""
    try:
        prices = client_for_key(api_key).get_prices(service=service, country=country)
    except errors.ProviderError:
        return None
    for entry in prices:
        if entry.service == service and entry.country == country:
            return entry.cost
    return None


@dataclass(frozen=True)
class BuyRequest:
    service: str
    country: int
    operator: str = ""
    max_price: Decimal | None = None
    forward: bool = False
    verification: bool = False
    phone_exception: str = ""


def record_intent(
    *, membership: Membership, api_key: ApiKey, request: BuyRequest, request_token: uuid.UUID | None
) -> tuple[Activation, bool]:
    """Check grants and limits and write the intent row, under a lock on the key. Returns (row, created)."""
    estimate = request.max_price
    if estimate is None and has_limits(membership, api_key):
        estimate = estimate_price(
            api_key, service=request.service, country=request.country, forward=request.forward
        )
        if estimate is None:
            raise SpendDenied(
                _("The current price is unknown, so your limits cannot be checked: set a maximum price.")
            )
    return record_spend_intent(
        Activation,
        membership=membership,
        api_key=api_key,
        request_token=request_token,
        estimate=estimate,
        service=request.service,
        country=request.country,
        operator=request.operator,
        forward=request.forward,
        verification=request.verification,
        max_price=request.max_price,
    )


def _effective_max_price(api_key: ApiKey, requested: Decimal | None) -> Decimal | None:
    """The key's maximum price caps whatever the member asked for, upstream too (Free Price)."""
    candidates = [p for p in (requested, api_key.max_price) if p is not None]
    return min(candidates) if candidates else None


def activation_buy(
    *,
    membership: Membership,
    api_key: ApiKey,
    request: BuyRequest,
    request_token: uuid.UUID | None = None,
) -> Activation:
    """Buy a number. Raises SpendDenied (our rules) or BuyRefused (the provider's); nothing is spent then."""
    activation, created = record_intent(
        membership=membership, api_key=api_key, request=request, request_token=request_token
    )
    if not created:
        return activation
    max_price = _effective_max_price(api_key, request.max_price)
    try:
        order = client_for_key(api_key).get_number_v2(
            service=request.service,
            country=request.country,
            operator=request.operator or None,
            forward=request.forward or None,
            max_price=max_price,
            phone_exception=request.phone_exception or None,
            verification=request.verification or None,
        )
    except errors.ProviderError as exc:
        return record_refusal(activation, exc, membership.user)
    record_purchase(activation, order, actor=membership.user)
    return activation


def record_refusal(activation: Activation, exc: errors.ProviderError, actor: User | None) -> Activation:
    api_key = activation.api_key
    api_key_mark_health(api_key=api_key, exc=exc)
    if exc.definite:
        touch_activation(
            activation,
            status=ActivationStatus.FAILED,
            error_code=exc.code[:60],
            error_message=describe_error(exc)[:300],
            closed_at=timezone.now(),
        )
        raise BuyRefused(describe_error(exc), activation=activation)
    # The provider may or may not have sold the number: never retry, let the poll cycle find out.
    touch_activation(
        activation,
        status=ActivationStatus.UNKNOWN,
        error_code=exc.code[:60],
        error_message=_("The provider's answer was lost (%(code)s); checking whether the number was bought.")
        % {"code": exc.code},
    )
    audit_record(
        team=activation.team,
        actor=actor,
        action="activation.unknown",
        api_key=api_key,
        summary=_("Purchase of %(service)s: outcome unknown, reconciling") % {"service": activation.service},
        details={"error": exc.code},
    )
    return activation


def expiry_time(api_key: ApiKey, bought_at: datetime, upstream_end: datetime | None) -> datetime:
    if upstream_end is not None:
        return upstream_end
    return bought_at + timedelta(seconds=profile_for_key(api_key).activation_lifetime_seconds)


def record_purchase(activation: Activation, order: NumberOrder, *, actor: User | None) -> None:
    """Fill the intent with what the provider sold and book the money."""
    api_key = activation.api_key
    profile = profile_for_key(api_key)
    bought_at = order.activation_time or timezone.now()
    cost = order.cost if order.cost is not None else activation.cost
    with transaction.atomic():
        touch_activation(
            activation,
            upstream_id=order.activation_id,
            phone=order.phone,
            cost=cost,
            currency=order.currency or activation.currency,
            operator=order.operator or activation.operator,
            status=ActivationStatus.WAITING,
            bought_at=bought_at,
            cancel_allowed_at=bought_at + timedelta(seconds=profile.cancel_lock_seconds),
            expires_at=expiry_time(api_key, bought_at, order.activation_end_time),
            can_get_another_sms=order.can_get_another_sms if order.can_get_another_sms is not None else True,
            error_code="",
            error_message="",
        )
        book_ledger(activation, LedgerKind.PURCHASE, cost, actor=actor)
        audit_record(
            team=activation.team,
            actor=actor,
            action="activation.buy",
            api_key=api_key,
            amount=cost,
            currency=activation.currency,
            summary=_("Bought %(service)s number %(phone)s")
            % {"service": activation.service, "phone": order.phone},
        )


def book_ledger(activation: Activation, kind: str, amount: Decimal | None, *, actor: User | None) -> None:
    """One ledger row per money event (purchase or refund of this activation), whatever replays it."""
    if amount is None:
        return
    signed = -amount if kind == LedgerKind.REFUND else amount
    try:
        with transaction.atomic():
            LedgerEntry.objects.create(
                team=activation.team,
                api_key=activation.api_key,
                member=actor if kind == LedgerKind.PURCHASE else activation.member,
                kind=kind,
                amount=signed,
                currency=activation.currency,
                reference=activation.upstream_id or "",
                event_key=f"activation:{activation.pk}:{kind}",
            )
    except IntegrityError:
        logger.info("ledger event for activation %s already booked", activation.pk)


# --- status changes from the board --------------------------------------------------------------

ACTIONS = {"ready": 1, "another": 3, "finish": 6, "cancel": 8}


def activation_set_status(*, membership: Membership, activation: Activation, action: str) -> Activation:
    """Report SMS sent (1), ask for another code (3), finish (6) or cancel (8). Raises ActionRefused."""
    if not membership.can_buy:
        raise ActionRefused(_("Viewers cannot change activations."))
    if action not in ACTIONS:
        raise ActionRefused(_("Unknown action."))
    allowed = {
        "ready": activation.can_report_ready,
        "another": activation.can_request_another,
        "finish": activation.can_finish,
        "cancel": activation.status == ActivationStatus.WAITING,
    }[action]
    if not allowed:
        raise ActionRefused(_("This action is not possible in the activation's current state."))
    if action == "cancel" and not activation.can_cancel_now:
        raise ActionRefused(
            _("The provider allows cancelling from %(time)s.")
            % {"time": timezone.localtime(activation.cancel_allowed_at).strftime("%H:%M:%S")}
        )
    client = client_for_key(activation.api_key)
    try:
        client.set_status(id=activation.upstream_id, status=ACTIONS[action])
    except errors.EarlyCancelDenied as exc:
        lock = exc.min_seconds or profile_for_key(activation.api_key).cancel_lock_seconds
        touch_activation(
            activation, cancel_allowed_at=(activation.bought_at or timezone.now()) + timedelta(seconds=lock)
        )
        raise ActionRefused(describe_error(exc)) from None
    except (errors.NoActivation, errors.ActivationNotActive, errors.BadStatus) as exc:
        # Upstream moved on without us (expired, finished elsewhere): settle from its state.
        activation_refresh(activation=activation)
        raise ActionRefused(
            _("The provider refused (%(code)s); the activation was refreshed from the provider.")
            % {"code": exc.code}
        ) from None
    except errors.ProviderError as exc:
        api_key_mark_health(api_key=activation.api_key, exc=exc)
        raise ActionRefused(describe_error(exc)) from None
    now = timezone.now()
    if action == "ready":
        touch_activation(activation, ready_reported=True)
    elif action == "another":
        touch_activation(activation, status=ActivationStatus.WAIT_RETRY)
    elif action == "finish":
        touch_activation(activation, status=ActivationStatus.FINISHED, closed_at=now)
    else:
        with transaction.atomic():
            touch_activation(activation, status=ActivationStatus.CANCELLED, closed_at=now)
            book_ledger(activation, LedgerKind.REFUND, activation.cost, actor=membership.user)
    audit_record(
        team=activation.team,
        actor=membership.user,
        action=f"activation.{action}",
        api_key=activation.api_key,
        amount=activation.cost if action == "cancel" else None,
        currency=activation.currency if action == "cancel" else "",
        summary=_("%(action)s: %(service)s %(phone)s")
        % {"action": action, "service": activation.service, "phone": activation.phone},
    )
    return activation


# --- codes and settlement -----------------------------------------------------------------------


def record_code(
    *,
    activation: Activation,
    code: str,
    text: str = "",
    received_at: datetime | None = None,
    via: str = SmsVia.POLL,
) -> bool:
    """Store a code once (polls and webhook retries repeat it); returns True if it is new."""
    code = (code or "").strip()
    if not code:
        return False
    try:
        with transaction.atomic():
            Sms.objects.create(
                team_id=activation.team_id,
                activation=activation,
                code=code[:200],
                text=text or "",
                received_at=received_at or timezone.now(),
                via=via,
            )
    except IntegrityError:
        if text:
            Sms.objects.filter(activation=activation, code=code[:200], text="").update(text=text)
        return False
    fields = {"last_code": code[:200], "sms_count": F("sms_count") + 1}
    if activation.status in (ActivationStatus.WAITING, ActivationStatus.WAIT_RETRY):
        fields["status"] = ActivationStatus.CODE_RECEIVED
    touch_activation(activation, **fields)
    activation.refresh_from_db(fields=["sms_count"])
    return True


def settle_closed(activation: Activation, *, status: str, refund: bool) -> None:
    with transaction.atomic():
        touch_activation(activation, status=status, closed_at=timezone.now())
        if refund:
            book_ledger(activation, LedgerKind.REFUND, activation.cost, actor=None)


def activation_refresh(*, activation: Activation) -> Activation:
    """Ask the provider for one activation's state (getStatus) and apply it."""
    if not activation.upstream_id:
        return activation
    try:
        state = client_for_key(activation.api_key).get_status(id=activation.upstream_id)
    except errors.NoActivation:
        # The provider forgot it: it expired. A number that got a code was used; one without was refunded.
        if activation.is_live:
            settle_closed(
                activation,
                status=ActivationStatus.FINISHED if activation.sms_count else ActivationStatus.EXPIRED,
                refund=not activation.sms_count,
            )
        return activation
    _apply_state(activation, state.status, state.code)
    return activation


def _apply_state(activation: Activation, state: ActivationState, code: str | None) -> None:
    if state == ActivationState.OK and code:
        record_code(activation=activation, code=code)
        if activation.status == ActivationStatus.WAIT_RETRY and code != activation.last_code:
            touch_activation(activation, status=ActivationStatus.CODE_RECEIVED)
    elif state == ActivationState.WAIT_RETRY and activation.status != ActivationStatus.WAIT_RETRY:
        if code:
            record_code(activation=activation, code=code)
        touch_activation(activation, status=ActivationStatus.WAIT_RETRY)
    elif state == ActivationState.CANCEL and activation.is_live:
        expired = activation.expires_at is not None and activation.expires_at <= timezone.now()
        if activation.sms_count:
            # Closed after a code arrived: the provider treats it as used, no refund.
            settle_closed(activation, status=ActivationStatus.FINISHED, refund=False)
        else:
            settle_closed(
                activation,
                status=ActivationStatus.EXPIRED if expired else ActivationStatus.CANCELLED,
                refund=True,
            )


def webhook_receive(*, webhook_token: str, payload: dict) -> bool:
    """A provider's SMS webhook: store the code at once. Idempotent; unknown activations are left to the poll."""
    api_key = ApiKey.objects.filter(webhook_token=webhook_token).first()
    if api_key is None:
        return False
    upstream_id = str(payload.get("activationId") or payload.get("id") or "").strip()
    activation = (
        Activation.objects.filter(api_key=api_key, upstream_id=upstream_id).first() if upstream_id else None
    )
    if activation is None:
        return True
    code = str(payload.get("code") or "").strip() or str(payload.get("text") or "").strip()
    record_code(activation=activation, code=code, text=str(payload.get("text") or ""), via=SmsVia.WEBHOOK)
    return True
