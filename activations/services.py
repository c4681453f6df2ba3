"""Writes for activations: buying, status changes, codes from polls and webhooks, settlement.

Money goes through the one purchase core (`purchases.services`): limits and the intent under locks,
the upstream call outside any transaction, one refusal recorder, one settle, one ledger. This module
keeps only the activations' protocol calls and states.
"""

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from accounts.models import ApiKey, LedgerKind, Membership, User
from accounts.services import ActionRefused, audit_record
from activations.models import LIVE_STATUSES, Activation, ActivationStatus, Sms, SmsVia
from kit.phrases import phrase
from providers import errors
from providers.client import ProviderClient
from providers.keys import client_for_key, profile_for_key
from providers.results import ActivationState, ActiveActivation, NumberOrder
from providers.services import api_key_mark_health
from providers.webhooks import webhook_time
from purchases import routing
from purchases.messages import describe_error
from purchases.models import Route
from purchases.services import (
    Via,
    has_limits,
    in_flight_timeout,
    ledger_book,
    named_via,
    purchase_choice,
    purchase_intent,
    purchase_not_made,
    purchase_refused,
    purchase_settle,
    touch,
)

logger = logging.getLogger(__name__)


touch_activation = touch


# --- buying -------------------------------------------------------------------------------------


def estimate_price(api_key: ApiKey, *, service: str, country: int, forward: bool = False) -> Decimal | None:
    """The current price, so limits can be checked before buying; None if the provider will not say.

    The price list (getPrices) tells the plain price only: a number with forwarding costs more and its
    price is unknown until the provider's own list shows it.
    """
    if forward:
        return None
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
    # A ceiling sent upstream (Free Price) that is not the money at stake: a gateway key's maximum price.
    price_cap: Decimal | None = None


def record_intent(
    *,
    membership: Membership,
    api_key: ApiKey,
    request: BuyRequest,
    request_token: uuid.UUID | None,
    estimate: Decimal | None = None,
    listed_price: bool = True,
    unknown_price_hint: str | Promise = "",
    via: Via | None = None,
    **fields,
) -> tuple[Activation, bool]:
    """Check grants and limits and write the intent row (the purchase core's locks). Returns (row, created).

    The money at stake is the member's maximum price, else `estimate`, else (when a limit applies) the
    price list's price; the core refuses it under a limit when none is known.
    `listed_price=False`: the price list does not price this purchase (an additional service).
    `via`: bought other than from the browser (a gateway key), with that source's own budget.
    """
    at_stake = request.max_price if request.max_price is not None else estimate
    if at_stake is None and listed_price and has_limits(membership, api_key, via):
        at_stake = estimate_price(
            api_key, service=request.service, country=request.country, forward=request.forward
        )
    return purchase_intent(
        Activation,
        membership=membership,
        api_key=api_key,
        request_token=request_token,
        estimate=at_stake,
        unknown_price_hint=unknown_price_hint,
        via=via,
        service=request.service,
        country=request.country,
        operator=request.operator,
        forward=request.forward,
        verification=request.verification,
        max_price=request.max_price,
        **fields,
    )


def _effective_max_price(
    api_key: ApiKey, requested: Decimal | None, cap: Decimal | None = None
) -> Decimal | None:
    """The key's maximum price (and the request's own cap) caps whatever the member asked for, upstream too
    (Free Price)."""
    candidates = [p for p in (requested, api_key.max_price, cap) if p is not None]
    return min(candidates) if candidates else None


def activation_buy(
    *,
    membership: Membership,
    api_key: ApiKey,
    request: BuyRequest,
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
    estimate: Decimal | None = None,
    route: Route | None = None,
) -> Activation:
    """Buy a number. Raises SpendDenied (our rules) or PurchaseRefused (the provider's); nothing is spent then.

    `via`: bought by a gateway key's script (its budget checked, its label in the audit log); `estimate`:
    the price the caller read already, so the price list is not asked twice; `route`: the route that
    chose `api_key` (`activation_buy_routed`), stored on the row.
    """
    activation, created = record_intent(
        membership=membership,
        api_key=api_key,
        request=request,
        request_token=request_token,
        estimate=estimate,
        unknown_price_hint=gettext_lazy("Set a maximum price."),
        via=via,
        route=route,
    )
    if not created:
        return activation
    max_price = _effective_max_price(api_key, request.max_price, request.price_cap)
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
        return purchase_refused(activation, exc, actor=membership.user)
    record_purchase(activation, order, actor=membership.user, via=via)
    return activation


def activation_buy_routed(
    *,
    membership: Membership,
    route: Route,
    reference: ApiKey,
    request: BuyRequest,
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
) -> Activation:
    """Buy through a route: the service and country are `reference`'s codes; its keys are tried in the
    order its rule ranks them, the next only after a definite refusal (`purchases.routing`). Raises as
    `activation_buy` does when no key sells."""
    found = routing.candidates(
        route, membership, reference=reference, service=request.service, country=request.country
    )
    ranked = routing.rank(route, found, success_rates=routing.success_rates(Activation))

    def buy(candidate: routing.Candidate) -> Activation:
        return activation_buy(
            membership=membership,
            api_key=candidate.api_key,
            request=replace(request, service=candidate.service, country=candidate.country),
            request_token=routing.attempt_token(request_token, candidate.api_key),
            via=via,
            estimate=candidate.offer.cost if candidate.offer is not None and not request.forward else None,
            route=route,
        )

    return routing.buy_through(route, ranked, buy)


def expiry_time(api_key: ApiKey, bought_at: datetime, upstream_end: datetime | None) -> datetime:
    if upstream_end is not None:
        return upstream_end
    return bought_at + timedelta(seconds=profile_for_key(api_key).activation_lifetime_seconds)


def record_purchase(
    activation: Activation,
    order: NumberOrder,
    *,
    actor: User | None,
    reconciled: bool = False,
    outside: bool = False,
    via: Via | None = None,
) -> bool:
    """Settle the intent with what the provider sold (from its answer, or found in its list) and book it.

    `reconciled`: found in the provider's records after the answer was lost; `outside`: a number bought
    with the key outside simdesk, recorded so the team sees and pays for it. The answer's cost is the
    truth when it carries one; otherwise the estimate stands until the provider's own list confirms the
    price. Returns False if it was settled already.
    """
    api_key = activation.api_key
    profile = profile_for_key(api_key)
    bought_at = order.activation_time or (activation.created_at if reconciled or outside else timezone.now())
    confirmed = order.cost is not None
    cost = order.cost if confirmed else activation.cost
    if outside:
        action = "activation.outside"
        summary = gettext_noop("Bought outside simdesk with this key: %(service)s number %(phone)s")
    elif reconciled:
        action = "activation.reconciled"
        summary = gettext_noop("The lost purchase of %(service)s was found upstream: %(phone)s")
    else:
        action = "activation.buy"
        summary = gettext_noop("Bought %(service)s number %(phone)s")
    return purchase_settle(
        activation,
        status=ActivationStatus.WAITING,
        upstream_id=order.activation_id,
        cost=cost,
        confirmed=confirmed,
        audit_action=action,
        audit_summary=named_via(phrase(summary, service=activation.service, phone=order.phone), via),
        actor=actor,
        phone=order.phone,
        currency=order.currency or activation.currency,
        operator=order.operator or activation.operator,
        bought_at=bought_at,
        cancel_allowed_at=bought_at + timedelta(seconds=profile.cancel_lock_seconds),
        expires_at=expiry_time(api_key, bought_at, order.activation_end_time),
        can_get_another_sms=order.can_get_another_sms if order.can_get_another_sms is not None else True,
    )


# --- matching lost purchases ------------------------------------------------------------------------

# Upstream clocks and ours may disagree a little when an upstream purchase time is compared with an intent.
CLOCK_SLACK = timedelta(minutes=2)


def could_be(
    intent: Activation,
    *,
    service: str | None,
    phone: str | None,
    bought_at: datetime | None,
    country: int | None = None,
    operator: str | None = None,
) -> bool:
    """Whether an upstream number (from the live list or the history) could be the answer to this lost
    purchase, by what identifies a purchase; anything the provider did not tell is no reason to refuse."""
    if service and service != intent.service:
        return False
    if country is not None and intent.country is not None and country != intent.country:
        return False
    if intent.operator and operator and operator != intent.operator:
        return False
    # Additional services and re-activations keep the number they were bought on.
    if intent.phone and phone and phone != intent.phone:
        return False
    if bought_at is None:
        return True
    return (
        intent.created_at - CLOCK_SLACK <= bought_at <= intent.created_at + in_flight_timeout() + CLOCK_SLACK
    )


# --- a lost purchase an admin matches ---------------------------------------------------------------


def order_from_row(row: ActiveActivation) -> NumberOrder:
    """What the provider's list tells of one of its numbers, as the answer to a purchase would have."""
    return NumberOrder(
        activation_id=row.activation_id,
        phone=row.phone,
        cost=row.cost,
        currency=row.currency,
        country=row.country,
        operator=row.operator,
        activation_time=row.activation_time,
        activation_end_time=row.activation_end_time,
        can_get_another_sms=row.can_get_another_sms,
        service=row.service,
    )


def candidate_of(order: NumberOrder) -> dict[str, Any]:
    """One upstream number a lost purchase could be, kept on the row (JSON) for an admin to choose from;
    `_order_from_candidate` reads it back."""
    return {
        "id": order.activation_id,
        "phone": order.phone,
        "service": order.service,
        "country": order.country,
        "operator": order.operator,
        "cost": str(order.cost) if order.cost is not None else None,
        "currency": order.currency,
        "bought_at": order.activation_time.isoformat() if order.activation_time else None,
        "ends_at": order.activation_end_time.isoformat() if order.activation_end_time else None,
        "can_get_another_sms": order.can_get_another_sms,
    }


def _order_from_candidate(candidate: dict[str, Any]) -> NumberOrder:
    def moment(value: str | None) -> datetime | None:
        return datetime.fromisoformat(value) if value else None

    return NumberOrder(
        activation_id=candidate["id"],
        phone=candidate.get("phone") or "",
        cost=Decimal(candidate["cost"]) if candidate.get("cost") is not None else None,
        currency=candidate.get("currency"),
        country=candidate.get("country"),
        operator=candidate.get("operator"),
        activation_time=moment(candidate.get("bought_at")),
        activation_end_time=moment(candidate.get("ends_at")),
        can_get_another_sms=candidate.get("can_get_another_sms"),
        service=candidate.get("service"),
    )


def activation_resolve(*, membership: Membership, activation: Activation, upstream_id: str) -> Activation:
    """An admin's answer for a lost purchase several numbers could be: the chosen one, or none ("")."""
    if not upstream_id:
        purchase_not_made(membership=membership, row=activation)
        return activation
    candidate = purchase_choice(membership=membership, row=activation, upstream_id=upstream_id)
    if not record_purchase(
        activation, _order_from_candidate(candidate), actor=membership.user, reconciled=True
    ):
        raise ActionRefused(_("That number is already recorded; refresh the board."))
    return activation


# --- status changes from the board --------------------------------------------------------------

ACTIONS = {"ready": 1, "another": 3, "finish": 6, "cancel": 8}
# What the audit log says of each action (kit.phrases: said in the reader's language).
ACTION_SUMMARIES = {
    "ready": gettext_noop("Ready for the code: %(service)s %(phone)s"),
    "another": gettext_noop("Asked for another code: %(service)s %(phone)s"),
    "finish": gettext_noop("Finished: %(service)s %(phone)s"),
    "cancel": gettext_noop("Cancelled: %(service)s %(phone)s"),
}


class StatusRefused(ActionRefused):
    """A status change refused, by our rules or the provider's; `code` says which in the protocol's words
    (`BAD_STATUS`, `EARLY_CANCEL_DENIED`, `NO_ACTIVATION`, `BAD_KEY`, or the provider's own code), for
    callers that answer in the protocol."""

    def __init__(self, message: str, *, code: str, min_seconds: int | None = None):
        super().__init__(message)
        self.code = code
        self.min_seconds = min_seconds


def activation_set_status(
    *, membership: Membership, activation: Activation, action: str, via: Via | None = None
) -> Activation:
    """Report SMS sent (1), ask for another code (3), finish (6) or cancel (8). Raises StatusRefused (an
    ActionRefused). `via`: asked by a gateway key's script, named in the audit log."""
    if not membership.can_buy:
        raise StatusRefused(_("Viewers cannot change activations."), code="BAD_KEY")
    if action not in ACTIONS:
        raise StatusRefused(_("Unknown action."), code="BAD_STATUS")
    allowed = {
        "ready": activation.can_report_ready,
        "another": activation.can_request_another,
        "finish": activation.can_finish,
        "cancel": activation.status == ActivationStatus.WAITING,
    }[action]
    if not allowed:
        raise StatusRefused(
            _("This action is not possible in the activation's current state."), code="BAD_STATUS"
        )
    if action == "cancel" and not activation.can_cancel_now:
        raise StatusRefused(
            _("The provider allows cancelling from %(time)s.")
            % {"time": timezone.localtime(activation.cancel_allowed_at).strftime("%H:%M:%S")},
            code="EARLY_CANCEL_DENIED",
            min_seconds=profile_for_key(activation.api_key).cancel_lock_seconds,
        )
    client = client_for_key(activation.api_key)
    try:
        client.set_status(id=activation.upstream_id, status=ACTIONS[action])
    except errors.EarlyCancelDenied as exc:
        lock = exc.min_seconds or profile_for_key(activation.api_key).cancel_lock_seconds
        touch_activation(
            activation, cancel_allowed_at=(activation.bought_at or timezone.now()) + timedelta(seconds=lock)
        )
        raise StatusRefused(describe_error(exc), code=exc.code, min_seconds=lock) from None
    except (errors.NoActivation, errors.ActivationNotActive, errors.BadStatus) as exc:
        # Upstream moved on without us (expired, finished elsewhere): settle from its state.
        activation_refresh(activation=activation)
        raise StatusRefused(
            _("The provider refused (%(code)s); the activation was refreshed from the provider.")
            % {"code": exc.code},
            code=exc.code,
        ) from None
    except errors.ProviderError as exc:
        api_key_mark_health(api_key=activation.api_key, exc=exc)
        raise StatusRefused(describe_error(exc), code=exc.code) from None
    now = timezone.now()
    if action == "ready":
        touch_activation(activation, ready_reported=True)
    elif action == "another":
        touch_activation(activation, status=ActivationStatus.WAIT_RETRY)
    elif action == "finish":
        touch_activation(activation, status=ActivationStatus.FINISHED, closed_at=now)
    else:
        settle_closed(activation, status=ActivationStatus.CANCELLED, refund=True)
    audit_record(
        team=activation.team,
        actor=membership.user,
        action=f"activation.{action}",
        api_key=activation.api_key,
        amount=activation.cost if action == "cancel" else None,
        currency=activation.currency if action == "cancel" else "",
        summary=named_via(
            phrase(ACTION_SUMMARIES[action], service=activation.service, phone=activation.phone), via
        ),
    )
    return activation


@dataclass
class BulkOutcome:
    """What a bulk action did: numbers it closed, and each refused one with the reason."""

    done: list[Activation]
    failed: list[tuple[Activation, str]]


def activations_bulk_set_status(
    *, membership: Membership, activations: list[Activation], action: str
) -> BulkOutcome:
    """Finish or cancel several numbers, one after another through `activation_set_status` (its checks,
    its protocol call, its refund): one refused number never stops the others."""
    outcome = BulkOutcome(done=[], failed=[])
    for activation in activations:
        try:
            activation_set_status(membership=membership, activation=activation, action=action)
        except ActionRefused as exc:
            outcome.failed.append((activation, exc.message))
        else:
            outcome.done.append(activation)
    return outcome


# --- codes and settlement -----------------------------------------------------------------------


def record_code(
    *,
    activation: Activation,
    code: str,
    text: str = "",
    received_at: datetime | None = None,
    via: str = SmsVia.POLL,
    provider_last: str | None = None,
    closed_ok: bool = False,
) -> bool:
    """Store a code once (polls and webhook retries repeat it); returns True if it is new.

    Codes reach closed numbers only from the provider's history (`closed_ok`): a late webhook never
    reopens a finished number. The last code is the provider's own last one when the caller knows it
    (`provider_last`, from a poll), else the newest by time, so a webhook that arrives out of order
    never moves it back to an older code.
    """
    code = (code or "").strip()[:200]
    if not code or not (closed_ok or activation.status in LIVE_STATUSES):
        return False
    try:
        with transaction.atomic():
            Sms.objects.create(
                team_id=activation.team_id,
                activation=activation,
                code=code,
                text=text or "",
                received_at=received_at or timezone.now(),
                via=via,
            )
    except IntegrityError:
        if text:
            Sms.objects.filter(activation=activation, code=code, text="").update(text=text)
        return False
    if provider_last:
        last = provider_last.strip()[:200]
    else:
        last = (
            Sms.objects.filter(activation=activation)
            .order_by("-received_at", "-id")
            .values_list("code", flat=True)[0]
        )
    fields = {"last_code": last, "sms_count": F("sms_count") + 1}
    if activation.status in (ActivationStatus.WAITING, ActivationStatus.WAIT_RETRY) and last == code:
        fields["status"] = ActivationStatus.CODE_RECEIVED
    touch_activation(activation, **fields)
    return True


def settle_closed(activation: Activation, *, status: str, refund: bool) -> bool:
    """Close a live activation (here or upstream), once: re-read under a lock; a refund is booked once."""
    with transaction.atomic():
        locked = Activation.objects.select_for_update().get(pk=activation.pk)
        if locked.status not in LIVE_STATUSES:
            activation.refresh_from_db()
            return False
        touch_activation(activation, status=status, closed_at=timezone.now())
        if refund:
            ledger_book(activation, LedgerKind.REFUND, locked.cost, event="refund")
    return True


def activation_refresh(
    *, activation: Activation, gone_upstream: bool = False, client: ProviderClient | None = None
) -> Activation:
    """Ask the provider for one activation's state (getStatus) and apply it.

    `gone_upstream`: the provider's list of live numbers no longer shows it, so a code it still
    reports means the number was finished (a finish whose answer was lost), not that it is live.
    `client`: the key's client, when the caller asks about several numbers of one key.
    """
    if not activation.upstream_id:
        return activation
    try:
        state = (client or client_for_key(activation.api_key)).get_status(id=activation.upstream_id)
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
    if (
        gone_upstream
        and state.status in (ActivationState.OK, ActivationState.WAIT_RETRY)
        and activation.is_live
    ):
        settle_closed(activation, status=ActivationStatus.FINISHED, refund=False)
    return activation


def _apply_state(activation: Activation, state: ActivationState, code: str | None) -> None:
    if state == ActivationState.OK and code:
        record_code(activation=activation, code=code, provider_last=code)
        if activation.status == ActivationStatus.WAIT_RETRY and code != activation.last_code:
            touch_activation(activation, status=ActivationStatus.CODE_RECEIVED)
    elif state == ActivationState.WAIT_RETRY and activation.status != ActivationStatus.WAIT_RETRY:
        if code:
            record_code(activation=activation, code=code, provider_last=code)
        if activation.is_live:
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
    record_code(
        activation=activation,
        code=code,
        text=str(payload.get("text") or ""),
        received_at=webhook_time(api_key, payload.get("receivedAt")),
        via=SmsVia.WEBHOOK,
    )
    return True
