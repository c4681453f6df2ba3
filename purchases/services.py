"""The one purchase path every feature spends money through.

1. `purchase_intent`: check grants and limits and write the intent row in one transaction, under
   locks taken in one fixed order (the member, then the key), counting the money still in flight
   for the member across every key and feature and for the key across every member.
2. The upstream call runs outside any transaction (the caller makes it).
3. `purchase_refused` records a refusal: definite -> failed, nothing spent; ambiguous -> unknown,
   for the poll cycle to reconcile. A purchase is never retried.
4. `purchase_settle` fills the intent with what the provider sold, re-reading the row under a lock
   so a poll and the buyer settling at once book it once, and books the ledger.
5. `purchase_confirm_price` replaces an estimate with what the provider charged, read later from its
   own records, with a ledger correction row (never an edit).
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, OperationalError, models, transaction
from django.db.models import CharField, Q, Sum, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, LedgerEntry, LedgerKind, Membership, User
from accounts.permissions import SpendDenied, check_spend_allowed, start_of_today
from accounts.services import ActionRefused, audit_record
from kit.boards import board_changed
from kit.phrases import Money, Phrase, phrase, phrase_text
from providers import errors
from providers.client import ProviderClient
from providers.ratelimit import MAX_WAIT_SECONDS
from providers.services import api_key_mark_health
from providers.tasks import refresh_key_balance_on_commit
from purchases.messages import refusal
from purchases.models import AMBIGUOUS, ERROR_MESSAGE_LENGTH, FAILED, PENDING, UNKNOWN, UNSETTLED, Purchase

logger = logging.getLogger(__name__)

Row = TypeVar("Row", bound=Purchase)

ZERO = Decimal("0")


# How long a lost purchase may stay unmatched in the provider's records before it counts as not made.
UNKNOWN_GRACE = timedelta(minutes=3)


def in_flight_timeout() -> timedelta:
    """How long an upstream purchase call can last at most; an intent still pending after it was orphaned
    (its process died mid-call) and is reconciled like one whose answer was lost."""
    # The request budget may hold a call back before it is sent; then come the connect and read timeouts.
    seconds = (
        MAX_WAIT_SECONDS + float(settings.PROVIDER_CONNECT_TIMEOUT) + float(settings.PROVIDER_READ_TIMEOUT)
    )
    return timedelta(seconds=seconds + 5)


class PurchaseRefused(Exception):
    """A purchase the provider definitely refused; `message` says why in plain words, `error` is the
    provider's own refusal (its code, a minimum price), for callers that answer in the protocol. Nothing
    was spent."""

    def __init__(
        self, message: str, *, row: Purchase | None = None, error: errors.ProviderError | None = None
    ):
        super().__init__(message)
        self.message = message
        self.row = row
        self.error = error


@dataclass(frozen=True)
class Via:
    """A purchase made other than from the browser (a gateway key's script): `code` is stored on the row
    (`gateway:<public_id>`), `label` names it in the audit log, and `daily_budget` is its own limit, checked
    under the same locks as every other limit, counting its money booked today and its money in flight."""

    code: str
    label: str = ""
    daily_budget: Decimal | None = None

    def names(self, summary: Phrase) -> Phrase:
        """An audit summary that also names where the purchase came from."""
        if not self.label:
            return summary
        return phrase(gettext_noop("%(what)s (gateway key “%(via)s”)"), what=summary, via=self.label)


def named_via(summary: Phrase, via: Via | None) -> Phrase:
    """An audit summary that names the gateway key a purchase or change came through, if any."""
    return via.names(summary) if via is not None else summary


# --- money in flight ------------------------------------------------------------------------------


@dataclass(frozen=True)
class InFlight:
    """Where a feature keeps purchases whose outcome is not recorded yet, and the money each may have spent."""

    model: type[models.Model]
    amount: str = "cost"
    statuses: tuple[str, ...] = UNSETTLED
    key_path: str = "api_key"
    team_path: str = "team"
    member_path: str = "member"


_in_flight: list[InFlight] = []


def register_in_flight(source: InFlight) -> None:
    """Called from a feature app's `ready()`, so every limit sees its money in flight."""
    if source not in _in_flight:
        _in_flight.append(source)


def money_in_flight(
    *,
    api_key: ApiKey | None = None,
    membership: Membership | None = None,
    currency: str | None = None,
    via: str = "",
) -> Decimal:
    """Money possibly spent by purchases not settled yet, by one key or by one member (across every key
    and feature, in the key's currency), or made through one `via`, so simultaneous purchases cannot pass
    a limit together."""
    total = ZERO
    for source in _in_flight:
        rows = source.model.objects.filter(status__in=source.statuses)
        if via:
            if not _has_via(source.model):
                continue
            rows = rows.filter(via=via)
        if api_key is not None:
            rows = rows.filter(**{source.key_path: api_key.pk})
        if membership is not None:
            rows = rows.filter(
                **{source.team_path: membership.team_id, source.member_path: membership.user_id}
            )
        if currency is not None:
            rows = rows.filter(currency=currency)
        total += rows.aggregate(total=Sum(source.amount))["total"] or ZERO
    return total


def _has_via(model: type[models.Model]) -> bool:
    # Renewals count in flight for the key and the member, but carry no source of their own.
    return any(field.name == "via" for field in model._meta.get_fields())


def has_limits(membership: Membership, api_key: ApiKey, via: Via | None = None) -> bool:
    """Whether any limit applies, so that an unknown price must refuse the purchase."""
    return any(
        value is not None
        for value in (
            api_key.max_price,
            api_key.daily_budget,
            membership.daily_spend_limit,
            via.daily_budget if via else None,
        )
    )


def spent_today_via(*, team: Any, via: str, currency: str) -> Decimal:
    """Net money booked today (the team's day) for purchases made through `via`: its ledger rows, found
    through the purchases that carry it (refunds subtract). One query: today's ledger rows of the team,
    matched by `purchase_ref` against a subquery of the source's purchases."""
    matches = Q()
    for source in _in_flight:
        if not _has_via(source.model):
            continue
        refs = (
            source.model.objects.filter(team=team, via=via)
            .annotate(ref=Concat(Value(f"{source.model._meta.model_name}:"), Cast("pk", CharField())))
            .values("ref")
        )
        matches |= Q(purchase_ref__in=refs)
    if not matches:
        return ZERO
    return (
        LedgerEntry.objects.filter(
            matches, team=team, currency=currency, created_at__gte=start_of_today(team)
        ).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )


def _check_via_budget(*, membership: Membership, api_key: ApiKey, amount: Decimal, via: Via) -> None:
    if via.daily_budget is None:
        return
    currency = api_key.currency
    # Money in flight first, then the ledger: a purchase settling between the two statements is then counted
    # twice (safe), never in neither (its row no longer unsettled, its ledger rows not yet read).
    in_flight = money_in_flight(via=via.code, currency=currency)
    left = (
        via.daily_budget - spent_today_via(team=membership.team, via=via.code, currency=currency) - in_flight
    )
    if amount > left:
        raise SpendDenied(
            phrase(
                gettext_noop("The gateway key's daily budget is used up (%(left)s left of %(budget)s)."),
                left=Money(max(left, ZERO), currency),
                budget=Money(via.daily_budget, currency),
            ),
            code="via_budget",
        )


def lock_and_check(
    *, membership: Membership, api_key: ApiKey, amount: Decimal | None, via: Via | None = None
) -> None:
    """Inside a transaction: lock the member, then the key (always this order, so spenders never wait on each
    other in a cycle), then check grants and limits with every unsettled purchase counted; a `via`'s own
    budget too (its purchases are one member's and one key's, so the same locks serialise them)."""
    # NO KEY UPDATE: rows that merely reference the member or key (new intents, ledger rows) are not blocked.
    Membership.objects.select_for_update(no_key=True).filter(pk=membership.pk).first()
    ApiKey.objects.select_for_update(no_key=True).filter(pk=api_key.pk).first()
    check_spend_allowed(
        membership=membership,
        api_key=api_key,
        amount=amount,
        pending_key=money_in_flight(api_key=api_key),
        pending_member=money_in_flight(membership=membership, currency=api_key.currency),
    )
    if via is not None and amount is not None:
        _check_via_budget(membership=membership, api_key=api_key, amount=amount, via=via)


T = TypeVar("T")

_RETRYABLE_STATES = {"40P01", "40001"}  # deadlock detected, serialization failure


def retry_on_deadlock(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run a transaction that touches nothing upstream again when the database chose it as a deadlock victim."""
    for attempt in range(attempts):
        try:
            return work()
        except OperationalError as exc:
            state = getattr(exc.__cause__, "sqlstate", None)
            if state not in _RETRYABLE_STATES or attempt == attempts - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


# --- the intent ----------------------------------------------------------------------------------


def touch(row: Purchase, **fields: Any) -> None:
    """Save the given fields (values or F expressions) and bump `updated_at`, which the live boards watch."""
    fields["updated_at"] = timezone.now()
    type(row).objects.filter(pk=row.pk).update(**fields)
    board_changed(row.team_id)
    expressions = [name for name, value in fields.items() if hasattr(value, "resolve_expression")]
    for name, value in fields.items():
        if name not in expressions:
            setattr(row, name, value)
    if expressions:
        row.refresh_from_db(fields=expressions)


def purchase_intent(
    model: type[Row],
    *,
    membership: Membership,
    api_key: ApiKey,
    request_token: uuid.UUID | None,
    estimate: Decimal | None,
    unknown_price_hint: str | Promise = "",
    via: Via | None = None,
    **fields: Any,
) -> tuple[Row, bool]:
    """Check limits and write the intent row before the upstream call. Returns (row, created).

    `estimate` is the money at stake; when it is unknown and a limit applies, the purchase is refused
    (with the feature's `unknown_price_hint`) rather than checked against a guess. `via`: where the
    purchase came from other than the browser, stored on the row, its own budget checked too.

    A `request_token` seen before returns the first row instead (a form sent twice buys once); two
    submissions racing each other are settled by the unique (team, request_token) constraint, and a
    deadlock between them is retried: nothing upstream has happened yet.
    """
    team = membership.team
    if estimate is None and has_limits(membership, api_key, via):
        raise SpendDenied(
            phrase(
                gettext_noop(
                    "The price is unknown until the provider sells, so your limits cannot be checked. %(hint)s"
                ),
                hint=unknown_price_hint,
            )
            if unknown_price_hint
            else phrase(
                gettext_noop(
                    "The price is unknown until the provider sells, so your limits cannot be checked."
                )
            ),
            code="price_unknown",
        )

    def write() -> tuple[Row, bool]:
        if request_token is not None:
            existing = model.objects.filter(team=team, request_token=request_token).first()
            if existing is not None:
                return existing, False
        try:
            with transaction.atomic():
                lock_and_check(membership=membership, api_key=api_key, amount=estimate, via=via)
                if via is not None:
                    fields["via"] = via.code
                row = model.objects.create(
                    team=team,
                    api_key=api_key,
                    member=membership.user,
                    request_token=request_token,
                    cost=estimate,
                    currency=api_key.currency,
                    **fields,
                )
        except IntegrityError:
            if request_token is None:
                raise
            return model.objects.get(team=team, request_token=request_token), False
        return row, True

    return retry_on_deadlock(write)


def purchase_refused(row: Row, exc: errors.ProviderError, *, actor: User | None) -> Row:
    """Record the provider's refusal of a purchase. Definite: failed, nothing spent, PurchaseRefused is raised.
    Ambiguous (timeout, 5xx, a garbled answer): unknown, never retried, reconciled by the poll cycle."""
    api_key_mark_health(api_key=row.api_key, exc=exc)
    noun = row._meta.model_name
    if exc.definite:
        words = refusal(exc)
        touch(
            row,
            status=FAILED,
            error_code=exc.code[:60],
            error_message=words.stored(ERROR_MESSAGE_LENGTH),
            closed_at=timezone.now(),
        )
        raise PurchaseRefused(phrase_text(words), row=row, error=exc)
    touch(
        row,
        status=UNKNOWN,
        error_code=exc.code[:60],
        error_message=phrase(
            gettext_noop(
                "The provider's answer was lost (%(code)s); checking with the provider whether it went through."
            ),
            code=exc.code,
        ).stored(ERROR_MESSAGE_LENGTH),
    )
    audit_record(
        team=row.team,
        actor=actor,
        action=f"{noun}.unknown",
        api_key=row.api_key,
        summary=phrase(
            gettext_noop("Purchase of %(service)s: outcome unknown, reconciling"), service=row.service
        ),
        details={"error": exc.code},
    )
    return row


def orphan_intents(model: type[Purchase], *, api_key: ApiKey) -> int:
    """Intents still pending after the longest possible call belong to a process that died mid-call:
    whether the provider sold is unknown, so they are reconciled like lost answers."""
    now = timezone.now()
    return model.objects.filter(
        api_key=api_key, status=PENDING, created_at__lt=now - in_flight_timeout()
    ).update(
        status=UNKNOWN,
        error_code="INTERRUPTED",
        error_message=phrase(
            gettext_noop("The purchase was interrupted; checking with the provider whether it went through.")
        ).stored(ERROR_MESSAGE_LENGTH),
        updated_at=now,
    )


def purchase_fail_unmatched(row: Purchase, *, message: Phrase) -> bool:
    """An unsettled purchase the provider has no record of: it did not happen, nothing was spent.
    `message` (a `kit.phrases.phrase`) says why, in each reader's language."""
    now = timezone.now()
    updated = (
        type(row)
        .objects.filter(pk=row.pk, status__in=UNSETTLED)
        .update(
            status=FAILED, closed_at=now, error_message=message.stored(ERROR_MESSAGE_LENGTH), updated_at=now
        )
    )
    return bool(updated)


# --- lost purchases only an admin can match --------------------------------------------------------


def purchase_ambiguous(row: Purchase, candidates: list[dict[str, Any]]) -> None:
    """Several upstream numbers could be this lost purchase: keep them on the row and ask an admin, never guess."""
    if row.error_code == AMBIGUOUS and row.candidates == candidates:
        return
    touch(
        row,
        error_code=AMBIGUOUS,
        candidates=candidates,
        error_message=phrase(
            gettext_noop(
                "Several numbers at the provider could be this purchase; an admin must choose the right one."
            )
        ).stored(ERROR_MESSAGE_LENGTH),
    )


def _drop_candidate(settled: Purchase, upstream_id: str) -> None:
    """A number now recorded is no longer a candidate of the key's other lost purchases."""
    waiting = type(settled).objects.filter(
        api_key_id=settled.api_key_id, status=UNKNOWN, error_code=AMBIGUOUS
    )
    for other in waiting.exclude(pk=settled.pk):
        left = [c for c in other.candidates if c.get("id") != upstream_id]
        if left != other.candidates:
            touch(other, candidates=left)


def purchase_choice(*, membership: Membership, row: Purchase, upstream_id: str) -> dict[str, Any]:
    """The candidate an admin chose for a lost purchase. Raises PermissionDenied or ActionRefused."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    if not row.awaits_choice:
        raise ActionRefused(_("This purchase is not waiting for a choice any more."))
    for candidate in row.candidates:
        if candidate.get("id") == upstream_id:
            return candidate
    raise ActionRefused(_("That number is not one of the numbers this purchase could be."))


def purchase_not_made(*, membership: Membership, row: Purchase) -> None:
    """An admin found that none of the candidates is this purchase: it did not happen, nothing was spent."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    if not row.awaits_choice:
        raise ActionRefused(_("This purchase is not waiting for a choice any more."))
    if purchase_fail_unmatched(
        row, message=phrase(gettext_noop("An admin found that the provider did not sell this purchase."))
    ):
        audit_record(
            team=row.team,
            actor=membership.user,
            action=f"{row._meta.model_name}.not_made",
            api_key=row.api_key,
            summary=phrase(
                gettext_noop("Lost purchase of %(service)s marked as not made"), service=row.service
            ),
        )


# --- telling a lost answer apart ------------------------------------------------------------------


def balance_probe(client: ProviderClient) -> Decimal | None:
    """The account's balance right before a money call, or None if the provider will not say."""
    try:
        return client.get_balance().amount
    except errors.ProviderError:
        return None


def charged_nothing(client: ProviderClient, before: Decimal | None) -> bool:
    """After a money call whose answer was lost: True only when the balance read now equals the one read just
    before, so the provider charged nothing. Any doubt (no reading, any movement) answers False."""
    if before is None:
        return False
    return balance_probe(client) == before


# --- settlement and the ledger -------------------------------------------------------------------


def purchase_ref(row: Purchase) -> str:
    """What ties every ledger row of one purchase together (`activation:12`, `rental:7`)."""
    return f"{row._meta.model_name}:{row.pk}"


def purchase_settle(
    row: Row,
    *,
    status: str,
    upstream_id: str,
    cost: Decimal | None,
    confirmed: bool,
    audit_action: str,
    audit_summary: Phrase,
    actor: User | None,
    **fields: Any,
) -> bool:
    """Turn an unsettled intent into a bought number, once: the row is re-read under a lock, so the buyer and a
    poll cycle settling at once book it once. Returns False when someone else settled it first."""
    model = type(row)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=row.pk)
        if locked.status not in UNSETTLED:
            row.refresh_from_db()
            return False
        taken = model.objects.filter(api_key_id=row.api_key_id, upstream_id=upstream_id).exclude(pk=row.pk)
        if taken.exists():
            # Recorded already (a stale copy of the intent, an earlier adoption): never book a number twice.
            logger.warning("%s %s: upstream id already recorded", model._meta.model_name, row.pk)
            touch(
                row,
                status=FAILED,
                closed_at=timezone.now(),
                error_message=phrase(
                    gettext_noop("The provider's number is already recorded in another row.")
                ).stored(ERROR_MESSAGE_LENGTH),
            )
            return False
        touch(
            row,
            status=status,
            upstream_id=upstream_id,
            cost=cost,
            price_confirmed=confirmed,
            error_code="",
            error_message="",
            candidates=[],
            **fields,
        )
        ledger_book(row, row.ledger_kind, cost, event=row.ledger_event)
        _drop_candidate(row, upstream_id)
        audit_record(
            team=row.team,
            actor=actor,
            action=audit_action,
            api_key=row.api_key,
            amount=cost,
            currency=row.currency,
            summary=audit_summary,
        )
    return True


# `member` of a ledger row when the caller names none: the member who made the purchase.
ROW_MEMBER: Any = object()


def _ledger_write(row: Purchase, *, kind: str, amount: Decimal, event: str, member: Any) -> None:
    ref = purchase_ref(row)
    LedgerEntry.objects.create(
        team_id=row.team_id,
        api_key_id=row.api_key_id,
        member_id=row.member_id if member is ROW_MEMBER else (member.pk if member else None),
        kind=kind,
        amount=amount,
        currency=row.currency,
        reference=row.upstream_id or "",
        purchase_ref=ref,
        event_key=f"{ref}:{event}",
    )
    # Money moved: the key's balance is read again once this commits (no answer of a money call carries it).
    refresh_key_balance_on_commit(row.api_key_id)
    if row.tracks_total:
        touch(row, total_cost=models.F("total_cost") + amount)


def ledger_book(
    row: Purchase, kind: str, amount: Decimal | None, *, event: str, member: User | None = ROW_MEMBER
) -> bool:
    """One ledger row per money event of a purchase (`purchase`, `refund`, `renewal:5`), whatever replays it.

    `amount` is positive; refunds are stored negative. `member` defaults to the purchase's member.
    Returns True if the row was written now.
    """
    if amount is None:
        # Money moved by an amount nobody told us; the balance shows what it was.
        refresh_key_balance_on_commit(row.api_key_id)
        return False
    signed = -amount if kind == LedgerKind.REFUND else amount
    try:
        with transaction.atomic():
            _ledger_write(row, kind=kind, amount=signed, event=event, member=member)
    except IntegrityError:
        logger.info("ledger event %s:%s already booked", purchase_ref(row), event)
        return False
    return True


def ledger_booked(row: Purchase) -> Decimal:
    """The net of every ledger row of the purchase."""
    return (
        LedgerEntry.objects.filter(purchase_ref=purchase_ref(row)).aggregate(total=Sum("amount"))["total"]
        or ZERO
    )


def ledger_true_up(row: Purchase, *, expected: Decimal) -> Decimal:
    """Book a correction so the purchase's ledger rows add up to `expected` (call under the row's lock).
    Returns the correction booked (0 when the ledger was right)."""
    delta = expected - ledger_booked(row)
    if delta == 0:
        return ZERO
    count = LedgerEntry.objects.filter(purchase_ref=purchase_ref(row), kind=LedgerKind.CORRECTION).count()
    _ledger_write(
        row, kind=LedgerKind.CORRECTION, amount=delta, event=f"correction:{count + 1}", member=ROW_MEMBER
    )
    return delta


def purchase_confirm_price(
    row: Row, *, cost: Decimal, currency: str | None = None, confirmed: bool = True
) -> Decimal:
    """Take what the provider charged for the purchase, read from its own records, as its price, and book what
    the ledger lacks: the purchase if it was booked without a price, its refund if it was refunded, and a
    correction for any difference from an estimate (never an edit). `confirmed=False` (a price quoted now,
    not the provider's record) only fills a missing price. Idempotent; returns the net booked now."""
    model = type(row)
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=row.pk)
        if locked.price_confirmed and locked.cost == cost:
            return ZERO
        if not confirmed and locked.cost is not None:
            return ZERO
        fields: dict[str, Any] = {"cost": cost, "price_confirmed": confirmed}
        if currency:
            fields["currency"] = currency
        touch(row, **fields)
        row.status = locked.status
        if locked.status in (*UNSETTLED, FAILED):
            return ZERO  # booked when (if) it settles
        before = ledger_booked(row)
        ledger_book(row, row.ledger_kind, cost, event=row.ledger_event)
        if row.is_refunded:
            ledger_book(row, LedgerKind.REFUND, ledger_booked(row), event="refund")
        ledger_true_up(row, expected=row.expected_net())
        return ledger_booked(row) - before
