"""Writes for rentals: renting safely, finishing and cancelling, messages from polls and webhooks, renewals.

Money goes through the one purchase core (`purchases.services`): limits and the intent under the member
and key locks, the call outside any transaction, one refusal recorder, one settle, one ledger. A rent's
answer carries no price in the classic dialect: it is booked at the quote read before it (or, when that
read failed, one read after), never at nothing. Nothing that spends money is retried blindly.

Renewals claim their window (the end date they extend) with a conditional UPDATE on the rental and
write a `RentalRenewal` intent that is unique per window, in one transaction, before calling
continueRentNumber: two sweepers, a double click or a worker killed halfway can never pay one
window twice.
"""

import hashlib
import logging
import re
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, LedgerKind, Membership, User
from accounts.permissions import SpendDenied
from accounts.services import ActionRefused, audit_record
from kit.phrases import Money, Phrase, phrase, phrase_text
from providers import errors
from providers.keys import client_for_key
from providers.results import RentOffer, RentOrder, RentState
from providers.selectors import Offer
from providers.services import api_key_mark_health
from providers.webhooks import webhook_time
from purchases import routing
from purchases.messages import describe_error, refusal
from purchases.models import ERROR_MESSAGE_LENGTH, Route
from purchases.services import (
    Via,
    balance_probe,
    charged_nothing,
    has_limits,
    ledger_book,
    lock_and_check,
    named_via,
    purchase_choice,
    purchase_confirm_price,
    purchase_intent,
    purchase_not_made,
    purchase_refused,
    purchase_settle,
    retry_on_deadlock,
    touch,
)
from rentals.models import (
    MAX_HOURS,
    MIN_HOURS,
    RenewalStatus,
    Rental,
    RentalRenewal,
    RentalSms,
    RentalSmsVia,
    RentalStatus,
)

logger = logging.getLogger(__name__)

# A worker holds a renewal claim this long; a claim still pending after it belongs to a dead worker.
RENEWAL_LEASE = timedelta(minutes=2)
# An unknown extension is judged this long after the end it was meant to extend: still listed = renewed.
RENEWAL_GRACE = timedelta(minutes=2)
# After the provider refused an automatic renewal (no balance, a limit), the sweeper tries again later.
RETRY_AFTER_REFUSAL = timedelta(minutes=10)
# After an upstream fault that charged nothing (a 5xx before the provider acted), it tries again soon.
RETRY_AFTER_FAULT = timedelta(minutes=1)

# Auto-renew may start at most this many hours before the end (the form enforces it).
MAX_RENEW_BEFORE_HOURS = 72

# Codes in SMS texts: 4-8 digits, or two groups of three ("123-456").
CODE_RE = re.compile(r"(?<![\d-])(\d{3}[- ]\d{3}|\d{4,8})(?![\d-])")


touch_rental = touch


def extract_code(text: str) -> str:
    """The first thing in an SMS that looks like a code, or ""."""
    match = CODE_RE.search(text or "")
    return match.group(1) if match else ""


def webhook_url(api_key: ApiKey) -> str:
    """The URL the provider posts this key's rent SMS to (its secret token identifies the key)."""
    return settings.SITE_URL.rstrip("/") + reverse("rentals:webhook", args=[api_key.webhook_token])


# --- renting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RentRequest:
    service: str
    country: int
    hours: int = MIN_HOURS
    operator: str = ""


def offer_price(
    api_key: ApiKey, *, service: str, country: int | None, operator: str, hours: int
) -> Decimal | None:
    """The current rent price of `service` for `hours`; None if the provider will not say."""
    listed = _listed_rent(api_key, service=service, country=country, operator=operator, hours=hours)
    return listed.cost if listed is not None else None


def _listed_rent(
    api_key: ApiKey, *, service: str, country: int | None, operator: str, hours: int
) -> RentOffer | None:
    """`service` as the provider's rent list offers it for `hours` now (price and stock)."""
    try:
        listing = client_for_key(api_key).get_rent_services_and_countries(
            rent_time=hours, operator=operator or None, country=country
        )
    except errors.ProviderError:
        return None
    return next((offer for offer in listing.services if offer.service == service), None)


def _check_hours(hours: int) -> None:
    if not MIN_HOURS <= hours <= MAX_HOURS:
        raise ActionRefused(
            _("A rent lasts from %(min)s to %(max)s hours.") % {"min": MIN_HOURS, "max": MAX_HOURS}
        )


def record_intent(
    *,
    membership: Membership,
    api_key: ApiKey,
    request: RentRequest,
    request_token: uuid.UUID | None,
    via: Via | None = None,
    route: Route | None = None,
    estimate: Decimal | None = None,
) -> tuple[Rental, bool]:
    """Check grants and limits and write the intent row (the purchase core's locks). Returns (row, created).

    `via`: rented other than from the browser (a gateway key), with that source's own budget; `route`: the
    route that chose `api_key`; `estimate`: the rent price the caller read already.
    """
    if estimate is None:
        estimate = offer_price(
            api_key,
            service=request.service,
            country=request.country,
            operator=request.operator,
            hours=request.hours,
        )
    return purchase_intent(
        Rental,
        membership=membership,
        api_key=api_key,
        request_token=request_token,
        estimate=estimate,
        via=via,
        route=route,
        service=request.service,
        country=request.country,
        operator=request.operator,
        hours=request.hours,
    )


def rental_rent(
    *,
    membership: Membership,
    api_key: ApiKey,
    request: RentRequest,
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
    route: Route | None = None,
    estimate: Decimal | None = None,
) -> Rental:
    """Rent a number. Raises SpendDenied (our rules) or PurchaseRefused (the provider's); nothing is spent then.

    `via`: rented by a gateway key's script (its budget checked, its label in the audit log); `route`: the
    route that chose `api_key` (`rental_rent_routed`); `estimate`: the rent price read already.
    The provider posts the number's SMS to our webhook URL as they arrive; the poll cycle is the fallback.
    """
    _check_hours(request.hours)
    rental, created = record_intent(
        membership=membership,
        api_key=api_key,
        request=request,
        request_token=request_token,
        via=via,
        route=route,
        estimate=estimate,
    )
    if not created:
        return rental
    try:
        order = client_for_key(api_key).get_rent_number(
            service=request.service,
            rent_time=request.hours,
            operator=request.operator or None,
            country=request.country,
            url=webhook_url(api_key),
        )
    except errors.ProviderError as exc:
        return purchase_refused(rental, exc, actor=membership.user)
    record_rent(rental, order, actor=membership.user, via=via)
    return rental


def rent_offer(candidate: routing.Candidate, hours: int, operator: str) -> Offer | None:
    """A rent's price and stock for `hours` at the candidate's provider now (getRentServicesAndCountries)."""
    listed = _listed_rent(
        candidate.api_key,
        service=candidate.service,
        country=candidate.country,
        operator=operator,
        hours=hours,
    )
    if listed is None:
        return None
    return Offer(cost=listed.cost, count=listed.quant, currency=candidate.api_key.currency)


def rental_rent_routed(
    *,
    membership: Membership,
    route: Route,
    reference: ApiKey,
    request: RentRequest,
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
    price_cap: Decimal | None = None,
) -> Rental:
    """Rent through a route: `request`'s service and country are `reference`'s codes; the route's keys are
    tried in the order its rule ranks them (the price rule by the rent's price for these hours), the next
    only after a definite refusal (`purchases.routing`). Raises as `rental_rent` does when none rents.

    `price_cap`: a key whose rent costs more (or will not say) is passed over before any upstream call, as
    the protocol has no maximum price for rents to send."""
    _check_hours(request.hours)
    found = routing.candidates(
        route, membership, reference=reference, service=request.service, country=request.country or 0
    )
    ranked = routing.rank(
        route,
        found,
        success_rates=routing.success_rates(Rental),
        offers=lambda candidate: rent_offer(candidate, request.hours, request.operator),
    )

    def rent(candidate: routing.Candidate) -> Rental:
        if price_cap is not None:
            offer = candidate.offer or rent_offer(candidate, request.hours, request.operator)
            if offer is None or offer.cost > price_cap:
                raise SpendDenied(
                    phrase(gettext_noop("The rent costs more than the maximum price.")), code="max_price"
                )
        return rental_rent(
            membership=membership,
            api_key=candidate.api_key,
            request=replace(request, service=candidate.service, country=candidate.country),
            request_token=routing.attempt_token(request_token, candidate.api_key),
            via=via,
            route=route,
            estimate=candidate.offer.cost if candidate.offer is not None else None,
        )

    return routing.buy_through(route, ranked, rent)


def rent_price(rental: Rental) -> Decimal | None:
    """The price of this rent as the provider quotes it now (the classic answer to a rent carries none)."""
    return offer_price(
        rental.api_key,
        service=rental.service,
        country=rental.country,
        operator=rental.operator,
        hours=rental.hours,
    )


def record_rent(
    rental: Rental, order: RentOrder, *, actor: User | None, reconciled: bool = False, via: Via | None = None
) -> bool:
    """Settle the intent with what the provider rented and book the money, once.

    The price is the answer's own cost where it carries one; otherwise the quote read before the rent,
    or, when that read failed, a quote read now. With no price at all the rent shows "price pending"
    and the poll cycle prices it, rather than booking it at nothing.
    """
    now = timezone.now()
    confirmed = order.cost is not None
    cost = order.cost if confirmed else rental.cost
    if cost is None:
        cost = rent_price(rental)
    start = rental.created_at if reconciled else now
    if reconciled:
        action = "rental.reconciled"
        summary = gettext_noop("The lost rent of %(service)s was found upstream: %(phone)s")
    else:
        action = "rental.rent"
        summary = gettext_noop("Rented %(phone)s for %(service)s, %(hours)s h")
    return purchase_settle(
        rental,
        status=RentalStatus.ACTIVE,
        upstream_id=order.rent_id,
        cost=cost,
        confirmed=confirmed,
        audit_action=action,
        audit_summary=named_via(
            phrase(summary, phone=order.phone, service=rental.service, hours=rental.hours), via
        ),
        actor=actor,
        phone=order.phone,
        currency=order.currency or rental.currency,
        started_at=start,
        ends_at=order.end_date or start + timedelta(hours=rental.hours),
    )


def rental_price_pending(rental: Rental) -> bool:
    """Price a rent booked without one (every price read failed), from a quote read now. True once priced."""
    price = rent_price(rental)
    if price is None:
        return False
    purchase_confirm_price(rental, cost=price, confirmed=False)
    return True


def rental_resolve(*, membership: Membership, rental: Rental, upstream_id: str) -> Rental:
    """An admin's answer for a lost rent several rented numbers could be: the chosen one, or none ("")."""
    if not upstream_id:
        purchase_not_made(membership=membership, row=rental)
        return rental
    candidate = purchase_choice(membership=membership, row=rental, upstream_id=upstream_id)
    order = RentOrder(rent_id=candidate["id"], phone=candidate.get("phone") or "", end_date=None)
    if not record_rent(rental, order, actor=membership.user, reconciled=True):
        raise ActionRefused(_("That number is already recorded; refresh the board."))
    rental_refresh(rental=rental)
    return rental


# --- finish and cancel --------------------------------------------------------------------------

ACTIONS = {"finish": 1, "cancel": 2}


def settle_closed(rental: Rental, *, status: str, refund: bool) -> None:
    """Close a rental that ended (here or upstream); a cancel refunds everything spent on it, once."""
    with transaction.atomic():
        locked = Rental.objects.select_for_update().get(pk=rental.pk)
        if locked.status != RentalStatus.ACTIVE:
            return
        touch_rental(rental, status=status, closed_at=timezone.now(), renewing_until=None)
        if refund and locked.total_cost:
            ledger_book(rental, LedgerKind.REFUND, locked.total_cost, event="refund")


def rental_set_status(
    *, membership: Membership, rental: Rental, action: str, via: Via | None = None
) -> Rental:
    """Finish (1) or cancel (2, refunded, only in the first 20 minutes) a rental. Raises ActionRefused.
    `via`: asked by a gateway key's script, named in the audit log."""
    if not membership.can_buy:
        raise ActionRefused(_("Viewers cannot change rentals."))
    if action not in ACTIONS:
        raise ActionRefused(_("Unknown action."))
    if not rental.is_live:
        raise ActionRefused(_("This rental is not active any more."))
    unsettled = rental.renewals.filter(status__in=(RenewalStatus.PENDING, RenewalStatus.UNKNOWN)).first()
    if unsettled is not None:
        # Whether it was renewed shows only while the number lives on past its old end: ending it now would
        # hide a renewal the provider may have charged, and leave its refund unknown.
        raise ActionRefused(
            _(
                "A renewal of this number is being checked with the provider; it can be finished or "
                "cancelled once that is settled (by %(time)s)."
            )
            % {"time": timezone.localtime(unsettled.window_end + RENEWAL_GRACE).strftime("%Y-%m-%d %H:%M")}
        )
    if action == "cancel" and not rental.can_cancel_now:
        raise ActionRefused(
            _(
                "A rent can be cancelled for a refund only in its first 20 minutes (until %(time)s). "
                "Finish it instead (no refund)."
            )
            % {"time": timezone.localtime(rental.cancel_deadline).strftime("%H:%M")}
        )
    try:
        client_for_key(rental.api_key).set_rent_status(id=rental.upstream_id, status=ACTIONS[action])
    except errors.CantCancel as exc:
        raise ActionRefused(describe_error(exc)) from None
    except (errors.AlreadyFinish, errors.AlreadyCancel, errors.InvalidPhone, errors.NoIdRent) as exc:
        # Upstream moved on without us (ended, closed elsewhere): settle from its state.
        rental_refresh(rental=rental)
        raise ActionRefused(
            _("%(reason)s The rental was refreshed from the provider.") % {"reason": describe_error(exc)}
        ) from None
    except errors.ProviderError as exc:
        api_key_mark_health(api_key=rental.api_key, exc=exc)
        raise ActionRefused(describe_error(exc)) from None
    if action == "finish":
        settle_closed(rental, status=RentalStatus.FINISHED, refund=False)
    else:
        settle_closed(rental, status=RentalStatus.CANCELLED, refund=True)
    rental.refresh_from_db()
    refunded = -rental.total_cost if action == "cancel" else None
    audit_record(
        team=rental.team,
        actor=membership.user,
        action=f"rental.{action}",
        api_key=rental.api_key,
        amount=None if action == "finish" else rental.cost,
        currency="" if action == "finish" else rental.currency,
        summary=named_via(
            phrase(
                gettext_noop("Finished rental %(phone)s (%(service)s)")
                if action == "finish"
                else gettext_noop("Cancelled rental %(phone)s (%(service)s)"),
                phone=rental.phone,
                service=rental.service,
            ),
            via,
        ),
        details={"refunded": str(refunded)} if refunded is not None else None,
    )
    return rental


# --- messages and settlement --------------------------------------------------------------------


def _fingerprint(received_at: datetime | None, phone_from: str, text: str) -> str:
    stamp = received_at.astimezone(ZoneInfo("UTC")).replace(microsecond=0).isoformat() if received_at else ""
    return hashlib.sha256(f"{stamp}|{phone_from}|{text}".encode()).hexdigest()


def record_message(
    *,
    rental: Rental,
    text: str,
    phone_from: str = "",
    service: str = "",
    received_at: datetime | None = None,
    via: str = RentalSmsVia.POLL,
) -> bool:
    """Store one SMS once (polls repeat every message, webhooks are retried); True if it is new.

    A closed rental takes only messages that arrived while it was live (a webhook retried late),
    never one dated after its end or not dated at all.
    """
    text = text or ""
    phone_from = (phone_from or "")[:64]
    now = timezone.now()
    if rental.closed_at is not None and (received_at is None or received_at > rental.closed_at):
        return False
    try:
        with transaction.atomic():
            RentalSms.objects.create(
                team_id=rental.team_id,
                rental=rental,
                phone_from=phone_from,
                text=text,
                service=(service or "")[:16],
                code=extract_code(text)[:32],
                received_at=received_at or now,
                via=via,
                fingerprint=_fingerprint(received_at, phone_from, text),
            )
    except IntegrityError:
        if via == RentalSmsVia.WEBHOOK:
            touch_rental(rental, last_webhook_at=now)
        return False
    fields = {"sms_count": F("sms_count") + 1, "last_sms_at": now}
    if via == RentalSmsVia.WEBHOOK:
        fields["last_webhook_at"] = now
    touch_rental(rental, **fields)
    return True


def rental_refresh(*, rental: Rental) -> Rental:
    """Ask the provider for one rental's state and messages (getRentStatus) and apply them."""
    if not rental.upstream_id:
        return rental
    try:
        state = client_for_key(rental.api_key).get_rent_status(id=rental.upstream_id)
    except (errors.InvalidPhone, errors.NoIdRent):
        # The provider forgot it: the rent is over.
        settle_closed(rental, status=RentalStatus.FINISHED, refund=False)
        return rental
    for message in state.messages:
        record_message(
            rental=rental,
            text=message.text,
            phone_from=message.phone_from or "",
            service=message.service or "",
            received_at=message.date,
        )
    touch_rental(rental, status_checked_at=timezone.now())
    if state.status == RentState.FINISH:
        settle_closed(rental, status=RentalStatus.FINISHED, refund=False)
    elif state.status == RentState.CANCEL:
        # Cancelled upstream (within its first minutes): the provider refunded it.
        settle_closed(rental, status=RentalStatus.CANCELLED, refund=True)
    return rental


def rental_webhook_receive(*, webhook_token: str, payload: dict) -> bool:
    """A provider's rent webhook: store the SMS at once. Idempotent; unknown rents are left to the poll."""
    api_key = ApiKey.objects.filter(webhook_token=webhook_token).first()
    if api_key is None:
        return False
    rent_id = str(payload.get("rentId") or payload.get("id") or "").strip()
    rental = Rental.objects.filter(api_key=api_key, upstream_id=rent_id).first() if rent_id else None
    if rental is None:
        return True
    received_at = webhook_time(api_key, payload.get("date"))
    record_message(
        rental=rental,
        text=str(payload.get("text") or ""),
        phone_from=str(payload.get("phoneFrom") or ""),
        service=str(payload.get("service") or ""),
        received_at=received_at,
        via=RentalSmsVia.WEBHOOK,
    )
    return True


# --- renewals -----------------------------------------------------------------------------------


def continue_price(rental: Rental, hours: int) -> Decimal | None:
    """What extending `rental` by `hours` costs; None if the provider will not say.

    Refusals that would refuse the renewal too (RENT_DIE, MAX_HOURS_EXCEED, unknown rent) are raised.
    """
    try:
        return (
            client_for_key(rental.api_key)
            .get_continue_rent_price_number(id=rental.upstream_id, rent_time=hours)
            .price
        )
    except (errors.RentDie, errors.MaxHoursExceed, errors.InvalidPhone, errors.NoIdRent, errors.InvalidTime):
        raise
    except errors.ProviderError:
        # Many providers price continuations only for some operators: fall back to the rent price.
        return offer_price(
            rental.api_key,
            service=rental.service,
            country=rental.country,
            operator=rental.operator,
            hours=hours,
        )


def _claim_renewal(
    *,
    rental: Rental,
    membership: Membership,
    hours: int,
    price: Decimal | None,
    auto: bool,
    via: Via | None = None,
) -> RentalRenewal | None:
    """Check limits, claim the rental's current window and write the renewal intent, atomically.

    Returns None when the window is already claimed (another worker, a second click, a renewal whose
    outcome is still unknown). Raises SpendDenied when the team's rules forbid the money.
    """
    api_key = rental.api_key
    budget_limited = auto and rental.renew_budget is not None
    if price is None and (has_limits(membership, api_key, via) or budget_limited):
        raise SpendDenied(
            phrase(gettext_noop("The renewal price is unknown, so the limits cannot be checked."))
        )
    now = timezone.now()
    window = rental.ends_at

    def claim() -> RentalRenewal | None:
        with transaction.atomic():
            lock_and_check(membership=membership, api_key=api_key, amount=price, via=via)
            if budget_limited and price is not None:
                left = rental.renew_budget - rental.renew_spent
                if price > left:
                    raise SpendDenied(
                        phrase(
                            gettext_noop("The auto-renew budget is used up (%(left)s left of %(budget)s)."),
                            left=Money(max(left, Decimal("0")), rental.currency),
                            budget=Money(rental.renew_budget, rental.currency),
                        )
                    )
            claimed = (
                Rental.objects.filter(pk=rental.pk, status=rental.status, ends_at=window)
                .filter(Q(renewal_window_end__isnull=True) | ~Q(renewal_window_end=window))
                .update(renewal_window_end=window, renewing_until=now + RENEWAL_LEASE, updated_at=now)
            )
            if claimed != 1:
                return None
            return RentalRenewal.objects.create(
                team_id=rental.team_id,
                rental=rental,
                member=membership.user,
                auto=auto,
                window_end=window,
                hours=hours,
                reorder=rental.status == RentalStatus.FINISHED,
                price=price,
                currency=rental.currency,
            )

    try:
        renewal = retry_on_deadlock(claim)
    except IntegrityError:
        # The unique intent per window caught a claim that slipped past: the window is taken.
        return None
    if renewal is None:
        return None
    rental.renewal_window_end, rental.renewing_until = window, now + RENEWAL_LEASE
    return renewal


def _run_renewal(renewal: RentalRenewal, *, actor: User | None, via: Via | None = None) -> RentalRenewal:
    """Call continueRentNumber once for a claimed renewal and record what came of it.

    The balance read just before lets a lost answer be told apart: unchanged after it, nothing was charged,
    so the renewal counts as refused and can be tried again at once instead of waiting for the old end.
    `via`: asked by a gateway key's script, named in the audit log.
    """
    rental = renewal.rental
    client = client_for_key(rental.api_key)
    before = balance_probe(client)
    try:
        order = client.continue_rent_number(id=rental.upstream_id, rent_time=renewal.hours)
    except errors.ProviderError as exc:
        maybe_charged = not exc.definite and not charged_nothing(client, before)
        _renewal_refused(renewal, exc, actor=actor, maybe_charged=maybe_charged, via=via)
        return renewal
    renewal_done(renewal, order, actor=actor, via=via)
    return renewal


def renewal_done(
    renewal: RentalRenewal,
    order: RentOrder,
    *,
    actor: User | None,
    reconciled: bool = False,
    via: Via | None = None,
) -> None:
    """Apply a renewal the provider made: a later end (same id) or a re-ordered rental (new id); book it.
    `via`: asked by a gateway key's script, named in the audit log."""
    now = timezone.now()
    with transaction.atomic():
        if RentalRenewal.objects.filter(pk=renewal.pk, status__in=(RenewalStatus.DONE,)).exists():
            return
        rental = Rental.objects.select_for_update().get(pk=renewal.rental_id)
        cost = order.cost if order.cost is not None else renewal.price
        if order.rent_id == rental.upstream_id:
            target = rental
            new_end = order.end_date or renewal.window_end + timedelta(hours=renewal.hours)
            fields = {
                "ends_at": new_end,
                "hours": F("hours") + renewal.hours,
                "renewing_until": None,
                "renew_error_code": "",
                "renew_error_message": "",
                "renew_failed_at": None,
                "renew_retry_at": None,
            }
            if rental.status != RentalStatus.ACTIVE and new_end > now:
                # Settled as ended while the outcome was unknown; it lives on.
                fields.update(status=RentalStatus.ACTIVE, closed_at=None)
            if renewal.auto and cost is not None:
                fields["renew_spent"] = F("renew_spent") + cost
            touch_rental(rental, **fields)
        else:
            new_end = order.end_date or now + timedelta(hours=renewal.hours)
            target = Rental.objects.create(
                team_id=rental.team_id,
                api_key_id=rental.api_key_id,
                member=renewal.member or rental.member,
                upstream_id=order.rent_id,
                phone=order.phone or rental.phone,
                service=rental.service,
                country=rental.country,
                operator=rental.operator,
                hours=renewal.hours,
                currency=order.currency or rental.currency,
                cost=cost,
                status=RentalStatus.ACTIVE,
                started_at=now,
                ends_at=new_end,
                previous=rental,
                auto_renew=rental.auto_renew,
                renew_before_hours=rental.renew_before_hours,
                renew_hours=rental.renew_hours,
                renew_budget=rental.renew_budget,
                renew_until=rental.renew_until,
                renew_by=rental.renew_by,
                renew_spent=rental.renew_spent + (cost or 0) if renewal.auto else rental.renew_spent,
            )
            touch_rental(rental, renewing_until=None, auto_renew=False)
        RentalRenewal.objects.filter(pk=renewal.pk).update(
            status=RenewalStatus.DONE,
            cost=cost,
            new_ends_at=new_end,
            new_rental=target if target.pk != rental.pk else None,
            settled_at=now,
            error_code="",
            error_message="",
        )
        ledger_book(target, LedgerKind.RENEWAL, cost, event=f"renewal:{renewal.pk}", member=renewal.member)
        if target.pk != rental.pk:
            summary = gettext_noop("Re-ordered %(phone)s for %(hours)s h (new id %(id)s)")
        elif renewal.auto:
            summary = gettext_noop("Auto-renewed %(phone)s for %(hours)s h")
        else:
            summary = gettext_noop("Extended %(phone)s by %(hours)s h")
        audit_record(
            team=rental.team,
            actor=actor,
            action="rental.renewal_reconciled"
            if reconciled
            else ("rental.renew" if renewal.auto else "rental.extend"),
            api_key=rental.api_key,
            amount=cost,
            currency=rental.currency,
            summary=named_via(
                phrase(summary, phone=rental.phone, hours=renewal.hours, id=order.rent_id), via
            ),
            details={"ends_at": new_end.isoformat()},
        )
    renewal.refresh_from_db()


def _renewal_failed_on_rental(rental: Rental, *, code: str, message: Phrase, auto: bool, exc=None) -> None:
    """Show a refused renewal on the rental and decide when (or whether) auto-renew tries again."""
    now = timezone.now()
    fields: dict = {
        "renew_error_code": code[:60],
        "renew_error_message": message.stored(ERROR_MESSAGE_LENGTH),
        "renew_failed_at": now,
        "renewing_until": None,
    }
    if auto:
        if isinstance(exc, errors.RentDie | errors.InvalidPhone | errors.NoIdRent):
            fields["auto_renew"] = False
        elif isinstance(exc, errors.MaxHoursExceed):
            if exc.maximum is not None and exc.maximum >= MIN_HOURS:
                fields["renew_max_hours"] = exc.maximum
                fields["renew_retry_at"] = now
            else:
                fields["auto_renew"] = False
        elif exc is not None and not exc.definite:
            fields["renew_retry_at"] = now + RETRY_AFTER_FAULT
        else:
            fields["renew_retry_at"] = now + RETRY_AFTER_REFUSAL
    touch_rental(rental, **fields)


def _renewal_refused(
    renewal: RentalRenewal,
    exc: errors.ProviderError,
    *,
    actor: User | None,
    maybe_charged: bool,
    via: Via | None = None,
) -> None:
    rental = renewal.rental
    api_key_mark_health(api_key=rental.api_key, exc=exc)
    now = timezone.now()
    if not maybe_charged:
        message = refusal(exc)
        if not exc.definite:
            message = phrase(
                gettext_noop("%(reason)s Nothing was charged: you can try again."), reason=message
            )
        with transaction.atomic():
            RentalRenewal.objects.filter(pk=renewal.pk).update(
                status=RenewalStatus.FAILED,
                error_code=exc.code[:60],
                error_message=message.stored(ERROR_MESSAGE_LENGTH),
                settled_at=now,
            )
            # Nothing was spent: free the window so a later attempt (or a member) may try again.
            touch_rental(rental, renewal_window_end=None)
            _renewal_failed_on_rental(rental, code=exc.code, message=message, auto=renewal.auto, exc=exc)
            audit_record(
                team=rental.team,
                actor=actor,
                action="rental.renew_failed",
                api_key=rental.api_key,
                summary=named_via(
                    phrase(
                        gettext_noop("Renewal of %(phone)s by %(hours)s h refused: %(reason)s"),
                        phone=rental.phone,
                        hours=renewal.hours,
                        reason=message,
                    ),
                    via,
                ),
                details={"error": exc.code, "auto": renewal.auto},
            )
        renewal.refresh_from_db()
        if isinstance(exc, errors.InvalidPhone | errors.NoIdRent):
            rental_refresh(rental=rental)
        return
    # Maybe renewed, maybe not: never retry; the window stays claimed until the poll finds out.
    with transaction.atomic():
        RentalRenewal.objects.filter(pk=renewal.pk).update(
            status=RenewalStatus.UNKNOWN,
            error_code=exc.code[:60],
            error_message=phrase(exc.message).stored(ERROR_MESSAGE_LENGTH),
        )
        touch_rental(
            rental,
            renewing_until=None,
            renew_error_code=exc.code[:60],
            renew_error_message=phrase(
                gettext_noop("The provider's answer was lost (%(code)s); checking whether it was renewed."),
                code=exc.code,
            ).stored(ERROR_MESSAGE_LENGTH),
        )
        audit_record(
            team=rental.team,
            actor=actor,
            action="rental.renew_unknown",
            api_key=rental.api_key,
            summary=named_via(
                phrase(
                    gettext_noop("Renewal of %(phone)s: outcome unknown, reconciling"), phone=rental.phone
                ),
                via,
            ),
            details={"error": exc.code, "auto": renewal.auto},
        )
    renewal.refresh_from_db()


def renewal_not_made(renewal: RentalRenewal, *, message: Phrase) -> None:
    """An unknown renewal the provider did not make: nothing was spent; the window is free again.
    `message` (a `kit.phrases.phrase`) says why, in each reader's language."""
    rental = renewal.rental
    with transaction.atomic():
        updated = RentalRenewal.objects.filter(pk=renewal.pk, status=RenewalStatus.UNKNOWN).update(
            status=RenewalStatus.FAILED,
            error_message=message.stored(ERROR_MESSAGE_LENGTH),
            settled_at=timezone.now(),
        )
        if not updated:
            return
        if rental.renewal_window_end == renewal.window_end:
            touch_rental(rental, renewal_window_end=None)
        _renewal_failed_on_rental(rental, code="NOT_RENEWED", message=message, auto=renewal.auto)
        audit_record(
            team=rental.team,
            actor=None,
            action="rental.renew_failed",
            api_key=rental.api_key,
            summary=phrase(
                gettext_noop("Renewal of %(phone)s was not made by the provider; nothing was spent"),
                phone=rental.phone,
            ),
        )


def rental_extend(
    *, membership: Membership, rental: Rental, hours: int, via: Via | None = None
) -> RentalRenewal:
    """Extend a live rental by `hours` (or re-order a finished one: a new id). Raises ActionRefused/SpendDenied.
    `via`: asked by a gateway key's script: its daily budget is checked under the core's locks and its label
    named in the audit log."""
    if not membership.can_buy:
        raise ActionRefused(_("Viewers cannot extend rentals."))
    _check_hours(hours)
    if rental.status not in (RentalStatus.ACTIVE, RentalStatus.FINISHED) or not rental.upstream_id:
        raise ActionRefused(_("Only an active or finished rental can be extended."))
    if rental.status == RentalStatus.FINISHED and rental.reorders.exists():
        raise ActionRefused(_("This rental was already re-ordered; extend the newer one."))
    try:
        price = continue_price(rental, hours)
    except errors.ProviderError as exc:
        raise ActionRefused(describe_error(exc)) from None
    renewal = _claim_renewal(
        rental=rental, membership=membership, hours=hours, price=price, auto=False, via=via
    )
    if renewal is None:
        raise ActionRefused(
            _("A renewal of this rental is already in progress or being checked; wait for its outcome.")
        )
    _run_renewal(renewal, actor=membership.user, via=via)
    if renewal.status == RenewalStatus.FAILED:
        raise ActionRefused(phrase_text(renewal.error_message))
    return renewal


def auto_renew_configure(
    *,
    membership: Membership,
    rental: Rental,
    enabled: bool,
    before_hours: int,
    hours: int,
    budget: Decimal | None,
    until: datetime | None,
) -> Rental:
    """Turn auto-renew on or off and set its policy; renewals then spend under this member's grants."""
    if not membership.can_buy:
        raise ActionRefused(_("Viewers cannot change rentals."))
    _check_hours(hours)
    touch_rental(
        rental,
        auto_renew=enabled,
        renew_before_hours=before_hours,
        renew_hours=hours,
        renew_budget=budget,
        renew_until=until,
        renew_by=membership.user,
        renew_retry_at=None,
        renew_max_hours=None,
        renew_error_code="",
        renew_error_message="",
        renew_failed_at=None,
    )
    audit_record(
        team=rental.team,
        actor=membership.user,
        action="rental.auto_renew",
        api_key=rental.api_key,
        summary=phrase(
            gettext_noop("Auto-renew on for %(phone)s")
            if enabled
            else gettext_noop("Auto-renew off for %(phone)s"),
            phone=rental.phone,
        ),
        details={
            "before_hours": before_hours,
            "hours": hours,
            "budget": str(budget),
            "until": until.isoformat() if until else None,
        },
    )
    return rental


def _is_due(rental: Rental, now: datetime) -> bool:
    if rental.status != RentalStatus.ACTIVE or not rental.auto_renew or not rental.upstream_id:
        return False
    if rental.ends_at is None or rental.renewal_in_flight:
        return False
    if rental.renew_retry_at is not None and rental.renew_retry_at > now:
        return False
    if rental.renew_until is not None and rental.ends_at >= rental.renew_until:
        return False
    return rental.ends_at - timedelta(hours=rental.renew_before_hours) <= now


def rental_auto_renew(*, rental_id: int, now: datetime | None = None) -> str:
    """Renew one rental by its policy if it is due; returns a short word for logs. Safe to call twice."""
    now = now or timezone.now()
    rental = Rental.objects.select_related("team", "api_key").filter(pk=rental_id).first()
    if rental is None or not _is_due(rental, now):
        return "not-due"
    membership = Membership.objects.filter(team_id=rental.team_id, user_id=rental.renew_by_id).first()
    if membership is None:
        message = phrase(
            gettext_noop("Auto-renew stopped: the member who set it up is no longer in the team.")
        )
        touch_rental(
            rental,
            auto_renew=False,
            renew_error_code="NO_MEMBER",
            renew_error_message=message.stored(ERROR_MESSAGE_LENGTH),
            renew_failed_at=now,
        )
        audit_record(
            team=rental.team,
            actor=None,
            action="rental.renew_failed",
            api_key=rental.api_key,
            summary=message,
        )
        return "failed"
    hours = rental.renew_hours
    if rental.renew_max_hours is not None:
        hours = min(hours, rental.renew_max_hours)
    try:
        price = continue_price(rental, hours)
    except errors.ProviderError as exc:
        _auto_failure(rental, exc.code, refusal(exc), exc=exc)
        return "failed"
    try:
        renewal = _claim_renewal(rental=rental, membership=membership, hours=hours, price=price, auto=True)
    except SpendDenied as exc:
        _auto_failure(rental, "LIMIT", exc.phrase)
        return "failed"
    except ActionRefused as exc:
        _auto_failure(rental, "LIMIT", phrase(exc.message))
        return "failed"
    except PermissionDenied:
        _auto_failure(
            rental, "LIMIT", phrase(gettext_noop("The member who set up auto-renew may no longer spend."))
        )
        return "failed"
    if renewal is None:
        return "claimed"
    _run_renewal(renewal, actor=None)
    return renewal.status


def _auto_failure(
    rental: Rental, code: str, message: Phrase, *, exc: errors.ProviderError | None = None
) -> None:
    """A renewal refused before any claim (price check, our limits): shown on the board, audited once."""
    first = rental.renew_error_code != code
    _renewal_failed_on_rental(rental, code=code, message=message, auto=True, exc=exc)
    if first:
        audit_record(
            team=rental.team,
            actor=None,
            action="rental.renew_failed",
            api_key=rental.api_key,
            summary=phrase(
                gettext_noop("Auto-renew of %(phone)s failed: %(reason)s"), phone=rental.phone, reason=message
            ),
            details={"error": code},
        )


def expire_stale_renewals(now: datetime | None = None) -> int:
    """Renewals still pending after their lease belong to a worker that died: their outcome is unknown."""
    now = now or timezone.now()
    stale = list(
        RentalRenewal.objects.filter(status=RenewalStatus.PENDING, created_at__lt=now - RENEWAL_LEASE)
        .filter(Q(rental__renewing_until__isnull=True) | Q(rental__renewing_until__lt=now))
        .select_related("rental", "rental__team", "rental__api_key")
    )
    count = 0
    for renewal in stale:
        with transaction.atomic():
            moved = RentalRenewal.objects.filter(pk=renewal.pk, status=RenewalStatus.PENDING).update(
                status=RenewalStatus.UNKNOWN,
                error_code="INTERRUPTED",
                error_message=phrase(
                    gettext_noop("The renewal was interrupted; checking whether the provider made it.")
                ).stored(ERROR_MESSAGE_LENGTH),
            )
            if not moved:
                continue
            count += 1
            touch_rental(
                renewal.rental,
                renewing_until=None,
                renew_error_code="INTERRUPTED",
                renew_error_message=phrase(
                    gettext_noop("A renewal was interrupted; checking whether the provider made it.")
                ).stored(ERROR_MESSAGE_LENGTH),
            )
            audit_record(
                team=renewal.rental.team,
                actor=None,
                action="rental.renew_unknown",
                api_key=renewal.rental.api_key,
                summary=phrase(
                    gettext_noop("Renewal of %(phone)s interrupted: outcome unknown, reconciling"),
                    phone=renewal.rental.phone,
                ),
            )
    return count


def _due_rentals(now: datetime, *, api_key_id: int | None = None) -> list[Rental]:
    """Rentals whose automatic renewal is due now (cheap pre-filter in one query, then the exact rule)."""
    rows = (
        Rental.objects.filter(
            status=RentalStatus.ACTIVE,
            auto_renew=True,
            ends_at__lte=now + timedelta(hours=MAX_RENEW_BEFORE_HOURS),
        )
        .exclude(upstream_id=None)
        .filter(Q(renew_retry_at__isnull=True) | Q(renew_retry_at__lte=now))
        .filter(Q(renewal_window_end__isnull=True) | ~Q(renewal_window_end=F("ends_at")))
    )
    if api_key_id is not None:
        rows = rows.filter(api_key_id=api_key_id)
    return [rental for rental in rows if _is_due(rental, now)]


def renewal_candidates(now: datetime | None = None, *, api_key_id: int | None = None) -> list[int]:
    """Ids of rentals whose automatic renewal is due now (of one key's, with `api_key_id`)."""
    return [rental.pk for rental in _due_rentals(now or timezone.now(), api_key_id=api_key_id)]


def renewal_keys(now: datetime | None = None) -> list[int]:
    """The keys with a renewal due now: the sweeper fans out one task each (one query, whatever the count)."""
    return sorted({rental.api_key_id for rental in _due_rentals(now or timezone.now())})


def renew_key_rentals(api_key_id: int, now: datetime | None = None) -> dict[str, int]:
    """Renew one key's due rentals once each; a short word per rental, counted. Safe to run twice."""
    now = now or timezone.now()
    outcome: dict[str, int] = {}
    for rental_id in renewal_candidates(now, api_key_id=api_key_id):
        word = rental_auto_renew(rental_id=rental_id, now=now)
        outcome[word] = outcome.get(word, 0) + 1
    return outcome


def sweep_renewals(now: datetime | None = None) -> dict[str, int]:
    """The whole renewal sweep in one process: settle dead workers' claims, then renew every due rental once,
    key by key. Safe to run twice. (The scheduled sweep fans the keys out: `rentals.tasks.renew_rentals`.)"""
    now = now or timezone.now()
    outcome: dict[str, int] = {"interrupted": expire_stale_renewals(now)}
    for api_key_id in renewal_keys(now):
        for word, count in renew_key_rentals(api_key_id, now).items():
            outcome[word] = outcome.get(word, 0) + count
    return outcome
