"""Everything that changes the sandbox's state: money, purchases, the state machines, the clock, webhooks.

The clock is lazy: `advance(now)` delivers the SMS that are due, expires activations after their
lifetime (no code: cancelled and refunded; a code: finished), ends rentals at their end date and
makes rented numbers receive messages. The handler calls it before every request, the Celery task
`sandbox.tasks.sandbox_tick` every 2 s, tests whenever they like (with any `now`).

Webhooks (an SMS on an activation, or a message on a rented number) are queued as
`WebhookDelivery` rows and POSTed as JSON by `deliver_webhooks(now)`; anything but HTTP 200 is
retried after the delays of `SANDBOX_WEBHOOK_RETRY_DELAYS` (seconds; 8 attempts in all by
default), each attempt with a `SANDBOX_WEBHOOK_TIMEOUT` (3 s) timeout. Payloads:

* activation, classic: `{"activationId":2640086031,"service":"tg","text":"…","code":"12345",
  "country":0,"receivedAt":"2026-01-02 13:00:05"}` (Moscow time, like the seed).
* activation, hero: `{"activationId":"2640086031","id":"3416693218","phoneFrom":"Telegram",
  "service":"tg","text":"…","code":"12345","country":0,"receivedAt":"2026-01-02T10:00:05+00:00"}`.
* rented number (to the rental's `url`; the real payload is undocumented): `{"rentId":1049003,
  "phone":"79959707564","phoneFrom":"79180230628","text":"…","service":"ot",
  "date":"2026-01-02 13:00:05"}`; hero accounts get `rentId` as a string and an ISO date.
"""

import json
import logging
import math
import random
import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from sandbox import answers, catalog
from sandbox.errors import ApiError
from sandbox.models import (
    ACTIVE_STATUSES,
    RUB,
    USD,
    Account,
    Activation,
    ActivationStatus,
    Counter,
    Country,
    Dialect,
    OutgoingCall,
    Price,
    Rental,
    RentalStatus,
    RentMessage,
    Service,
    Transaction,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

ACTIVATION_IDS_START = 2_640_086_027
RENTAL_IDS_START = 1_049_000
CALL_IDS_START = 958_874_106
SMS_IDS_START = 3_416_693_217
ADDITIONAL_SERVICE_COST_RUB = Decimal("5.00")
RENT_MIN_HOURS = 4
RENT_MAX_HOURS = 1344
DEFAULT_RETRY_DELAYS = [10, 30, 60, 300, 600, 1200, 2400]
CODE_RE = re.compile(r"\d{3}-\d{3}|\d{4,8}")


def _now(now: datetime | None) -> datetime:
    return now or timezone.now()


# --- ids and money ----------------------------------------------------------------------------


def next_id(name: str, start: int, max_step: int = 1) -> int:
    """The next value of a named counter; steps of 1..max_step make ids look like a busy provider's."""
    step = random.randint(1, max_step)
    with transaction.atomic():
        if not Counter.objects.filter(name=name).update(value=F("value") + step):
            try:
                with transaction.atomic():
                    Counter.objects.create(name=name, value=start)
                return start
            except IntegrityError:
                Counter.objects.filter(name=name).update(value=F("value") + step)
        return Counter.objects.get(name=name).value


def _move_money(
    account: Account,
    amount: Decimal,
    kind: str,
    now: datetime,
    *,
    activation_id: int | None = None,
    rental_id: int | None = None,
    shortfall: str = "NO_BALANCE",
) -> Decimal:
    """Add `amount` (negative to charge) to the balance inside the caller's transaction, with a ledger row."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    balance = locked.balance + amount
    if balance < 0:
        raise ApiError(shortfall)
    Account.objects.filter(pk=account.pk).update(balance=balance)
    Transaction.objects.create(
        account=account,
        kind=kind,
        amount=amount,
        balance_after=balance,
        activation_id=activation_id,
        rental_id=rental_id,
        created_at=now,
    )
    account.balance = balance
    return balance


# --- accounts ---------------------------------------------------------------------------------


def account_create(
    *,
    balance: Decimal,
    dialect: str = Dialect.CLASSIC,
    label: str | None = None,
    webhook_url: str = "",
    sms_delay: int | None = None,
    cancel_lock: int | None = None,
    lifetime: int | None = None,
    no_active_list: bool = False,
) -> Account:
    """Open an account with a fresh key; HeroSMS-dialect accounts count in USD.

    `no_active_list`: the account answers BAD_ACTION to getActiveActivations and getNumbersStatus.
    """
    catalog.ensure_catalog()
    account = Account(
        balance=balance,
        dialect=dialect,
        label=label or None,
        webhook_url=webhook_url,
        currency=USD if dialect == Dialect.HERO else RUB,
        no_active_list=no_active_list,
    )
    if sms_delay is not None:
        account.sms_delay_min = account.sms_delay_max = sms_delay
    if cancel_lock is not None:
        account.cancel_lock_seconds = cancel_lock
    if lifetime is not None:
        account.lifetime_seconds = lifetime
    with transaction.atomic():
        account.save()
        if balance:
            Transaction.objects.create(
                account=account, kind=Transaction.Kind.TOPUP, amount=balance, balance_after=balance
            )
    return account


def account_set_balance(*, account: Account, balance: Decimal) -> None:
    """Top up (or down) to an exact balance, recorded in the ledger."""
    with transaction.atomic():
        locked = Account.objects.select_for_update().get(pk=account.pk)
        _move_money(account, balance - locked.balance, Transaction.Kind.TOPUP, timezone.now())


# --- the catalog at a moment ------------------------------------------------------------------


def _service(code: str | None, *, error: str = "BAD_SERVICE", rent: bool = False) -> Service:
    service = Service.objects.filter(code=(code or "").strip().lower()).first()
    if service is None or (service.rent_only and not rent):
        raise ApiError(error)
    return service


def _country(raw: str | None, default: int = 0) -> Country | None:
    raw = (raw or "").strip()
    if raw == "":
        return Country.objects.filter(pk=default).first()
    return Country.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 6 else None


def _pick_operator(country: Country, requested: list[str]) -> str | None:
    """A real operator among the requested ones (any operator when none or `any` is asked for)."""
    names = [op.name for op in country.operators.all()]
    real = [name for name in names if name != "any"] or ["any"]
    wanted = [name for name in requested if name and name != "any"]
    if not wanted:
        return random.choice(real)
    matching = [name for name in real if name in wanted]
    return random.choice(matching) if matching else None


def _new_phone(country: Country, exceptions: list[str]) -> str | None:
    """A fresh mobile number of the country (digits with the country code, no `+`)."""
    for _ in range(50):
        prefix = random.choice(country.phone_prefixes or ["9"])
        rest = "".join(random.choice("0123456789") for _ in range(country.phone_length - len(prefix)))
        phone = f"{country.phone_code}{prefix}{rest}"
        if not any(phone.startswith(p) for p in exceptions):
            return phone
    return None


def parse_exceptions(raw: str | None, country: Country) -> list[str]:
    """phoneException: country code plus 3..6 digits each, comma separated (at most 20)."""
    items = [item.strip() for item in (raw or "").split(",") if item.strip()]
    code = country.phone_code
    if len(items) > 20 or any(
        not item.isdigit() or not item.startswith(code) or not 3 <= len(item) - len(code) <= 6
        for item in items
    ):
        raise ApiError("WRONG_EXCEPTION_PHONE")
    return items


def _offer(
    account: Account, country: Country, service: Service, forward: bool, now: datetime
) -> tuple[Price, catalog.LivePrice]:
    price = Price.objects.filter(country=country, service=service, forward=forward).first()
    if price is None:
        raise ApiError("NO_NUMBERS")
    live = catalog.live_price(price, now, account)
    if live.count <= 0:
        raise ApiError("NO_NUMBERS")
    return price, live


# --- activations ------------------------------------------------------------------------------


def _code_due(account: Account, now: datetime) -> datetime | None:
    """When the next code arrives, or None for a number that never gets one (no_code_share)."""
    if account.no_code_share > 0 and random.random() < account.no_code_share:
        return None
    low, high = sorted((account.sms_delay_min, account.sms_delay_max))
    return now + timedelta(seconds=random.uniform(low, high))


def _new_activation(
    account: Account,
    *,
    phone: str,
    service: Service,
    country: Country,
    operator: str,
    cost: Decimal,
    now: datetime,
    kind: str = Activation.Kind.NUMBER,
    forward: bool = False,
    verification: bool = False,
    parent: Activation | None = None,
    multi_group: int | None = None,
    activation_id: int | None = None,
) -> Activation:
    activation_id = activation_id or next_id("activation", ACTIVATION_IDS_START, 37)
    _move_money(
        account,
        -cost,
        Transaction.Kind.PURCHASE,
        now,
        activation_id=activation_id,
        shortfall="NO_BALANCE_FORWARD" if forward else "NO_BALANCE",
    )
    return Activation.objects.create(
        id=activation_id,
        account=account,
        kind=kind,
        phone=phone,
        service=service,
        country=country,
        operator=operator,
        cost=cost,
        currency=account.currency,
        forward=forward,
        verification=verification,
        created_at=now,
        expires_at=now + timedelta(seconds=account.lifetime_seconds),
        code_due_at=_code_due(account, now),
        parent=parent,
        multi_group=multi_group,
    )


def activation_buy(
    *,
    account: Account,
    service_code: str | None,
    country_raw: str | None,
    operators: list[str],
    forward: bool = False,
    max_price: Decimal | None = None,
    phone_exception: str | None = None,
    verification: bool = False,
    now: datetime | None = None,
) -> Activation:
    """getNumber / getNumberV2: charge the live price and hand out a number that waits for a code."""
    now = _now(now)
    service = _service(service_code)
    country = _country(country_raw)
    if country is None:
        raise ApiError("NO_NUMBERS")
    exceptions = parse_exceptions(phone_exception, country)
    _price, live = _offer(account, country, service, forward, now)
    if verification and not _price.verification:
        raise ApiError("NO_NUMBERS")
    cost = catalog.convert(live.cost, account.currency)
    if max_price is not None and max_price < cost:
        raise ApiError("WRONG_MAX_PRICE", suffix=str(answers.num(cost)), info={"min": answers.num(cost)})
    operator = _pick_operator(country, operators)
    phone = _new_phone(country, exceptions)
    if operator is None or phone is None:
        raise ApiError("NO_NUMBERS")
    with transaction.atomic():
        return _new_activation(
            account,
            phone=phone,
            service=service,
            country=country,
            operator=operator,
            cost=cost,
            now=now,
            forward=forward,
            verification=verification,
        )


def activation_buy_multi(
    *,
    account: Account,
    services_raw: str | None,
    forwards_raw: str | None,
    country_raw: str | None,
    operators: list[str],
    now: datetime | None = None,
) -> list[Activation]:
    """getMultiServiceNumber: one number, one activation per service, at most one with forwarding."""
    now = _now(now)
    codes = [code.strip().lower() for code in (services_raw or "").split(",") if code.strip()]
    if not codes or len(set(codes)) != len(codes):
        raise ApiError("BAD_SERVICE")
    services = [_service(code) for code in codes]
    flags = [flag.strip() for flag in forwards_raw.split(",")] if forwards_raw else ["0"] * len(codes)
    if len(flags) != len(codes) or any(flag not in {"0", "1"} for flag in flags) or flags.count("1") > 1:
        raise ApiError("BAD_FORWARD")
    country = _country(country_raw)
    if country is None:
        raise ApiError("NO_NUMBERS")
    if not country.multi_service:
        raise ApiError("NOT_AVAILABLE")
    costs = [
        catalog.convert(_offer(account, country, service, flag == "1", now)[1].cost, account.currency)
        for service, flag in zip(services, flags, strict=True)
    ]
    operator = _pick_operator(country, operators)
    phone = _new_phone(country, [])
    if operator is None or phone is None:
        raise ApiError("NO_NUMBERS")
    if sum(costs, Decimal("0")) > account.balance:
        raise ApiError("NO_BALANCE")
    with transaction.atomic():
        group = None
        bought = []
        for service, flag, cost in zip(services, flags, costs, strict=True):
            activation_id = next_id("activation", ACTIVATION_IDS_START)
            group = group or activation_id
            bought.append(
                _new_activation(
                    account,
                    phone=phone,
                    service=service,
                    country=country,
                    operator=operator,
                    cost=cost,
                    now=now,
                    kind=Activation.Kind.MULTI,
                    forward=flag == "1",
                    multi_group=group,
                    activation_id=activation_id,
                )
            )
        return bought


def activation_add_service(
    *, account: Account, parent: Activation, service_code: str | None, now: datetime | None = None
) -> Activation:
    """getAdditionalService: another service on a forwarded number that has received its first SMS."""
    now = _now(now)
    if not parent.forward or not parent.is_active or not parent.sms:
        raise ApiError("WRONG_SECURITY")
    service = Service.objects.filter(code=(service_code or "").strip().lower()).first()
    if (
        service is None
        or not Price.objects.filter(country=parent.country, service=service, forward=True).exists()
    ):
        raise ApiError("WRONG_ADDITIONAL_SERVICE")
    if (
        service.pk == parent.service_id
        or parent.children.filter(kind=Activation.Kind.ADDITIONAL, service=service).exists()
    ):
        raise ApiError("REPEAT_ADDITIONAL_SERVICE")
    cost = catalog.convert(ADDITIONAL_SERVICE_COST_RUB, account.currency)
    with transaction.atomic():
        return _new_activation(
            account,
            phone=parent.phone,
            service=service,
            country=parent.country,
            operator=parent.operator,
            cost=cost,
            now=now,
            kind=Activation.Kind.ADDITIONAL,
            parent=parent,
        )


def extra_activation_cost(*, account: Account, parent: Activation, now: datetime | None = None) -> Decimal:
    """What another activation on a successfully used number costs (checkExtraActivation)."""
    now = _now(now)
    if parent.status != ActivationStatus.FINISHED or not parent.sms or not parent.country.retry:
        raise ApiError("RENEW_ACTIVATION_NOT_AVAILABLE")
    price = Price.objects.filter(country=parent.country, service=parent.service, forward=False).first()
    if price is None:
        raise ApiError("RENEW_ACTIVATION_NOT_AVAILABLE")
    return catalog.convert(catalog.live_price(price, now).cost, account.currency)


def activation_extra(*, account: Account, parent: Activation, now: datetime | None = None) -> Activation:
    """getExtraActivation: the same number again for the same service, after a finished activation."""
    now = _now(now)
    cost = extra_activation_cost(account=account, parent=parent, now=now)
    if Activation.objects.filter(
        account=account, phone=parent.phone, service=parent.service, status__in=ACTIVE_STATUSES
    ).exists():
        raise ApiError("NEW_ACTIVATION_IMPOSSIBLE")
    with transaction.atomic():
        return _new_activation(
            account,
            phone=parent.phone,
            service=parent.service,
            country=parent.country,
            operator=parent.operator,
            cost=cost,
            now=now,
            kind=Activation.Kind.EXTRA,
            parent=parent,
        )


def activation_set_status(
    *,
    account: Account,
    activation: Activation,
    status_raw: str | None,
    forward_phone: str | None = None,
    now: datetime | None = None,
) -> str:
    """setStatus 1/3/6/8 (and the legacy -1 = 8) by the rules of protocol.md b.1/b.2; returns the token."""
    now = _now(now)
    status = (status_raw or "").strip()
    if status == "-1":
        status = "8"
    if status not in {"1", "3", "6", "8"}:
        raise ApiError("BAD_STATUS")
    with transaction.atomic():
        act = (
            Activation.objects.select_for_update(of=("self",))
            .select_related("country", "service")
            .get(pk=activation.pk)
        )
        if not act.is_active:
            raise ApiError("BAD_STATUS", hero_code="ACTIVATION_NOT_ACTIVE")
        if forward_phone and act.forward:
            act.forward_phone = forward_phone[:20]
        state = act.status
        if status == "1":
            if state != ActivationStatus.WAIT_CODE:
                raise ApiError("BAD_STATUS")
            act.ready = True
            reply = "ACCESS_READY"
        elif status == "3":
            # A call-verified number cannot ask for another code once the call came.
            if state != ActivationStatus.CODE_RECEIVED or not act.country.retry or act.verification:
                raise ApiError("BAD_STATUS")
            act.status = ActivationStatus.WAIT_RETRY
            act.code_due_at = _code_due(account, now)
            reply = "ACCESS_RETRY_GET"
        elif status == "6":
            if state == ActivationStatus.WAIT_CODE:
                raise ApiError("BAD_STATUS")
            act.status = ActivationStatus.FINISHED
            act.closed_at = now
            act.code_due_at = None
            reply = "ACCESS_ACTIVATION"
        else:
            if state != ActivationStatus.WAIT_CODE:
                raise ApiError("BAD_STATUS", hero_code="OTP_RECEIVED")
            if now < act.created_at + timedelta(seconds=account.cancel_lock_seconds):
                raise ApiError("EARLY_CANCEL_DENIED", info={"minActivationTime": account.cancel_lock_seconds})
            _cancel(act, now)
            reply = "ACCESS_CANCEL"
        act.save()
    return reply


def _cancel(act: Activation, now: datetime, *, expired: bool = False) -> None:
    """Close an activation without a code and give the money back (the caller saves `act`)."""
    act.status = ActivationStatus.CANCELLED
    act.closed_at = now
    act.code_due_at = None
    act.expired = expired
    _move_money(act.account, act.cost, Transaction.Kind.REFUND, now, activation_id=act.id)


def status_token(act: Activation) -> str:
    """getStatus: STATUS_WAIT_CODE / STATUS_WAIT_RETRY:<last> / STATUS_OK:<code> / STATUS_CANCEL."""
    if act.status == ActivationStatus.WAIT_CODE:
        return "STATUS_WAIT_CODE"
    if act.status == ActivationStatus.WAIT_RETRY:
        return f"STATUS_WAIT_RETRY:{act.last_code}"
    if act.status == ActivationStatus.CANCELLED:
        return "STATUS_CANCEL"
    return f"STATUS_OK:{act.last_code}"


def call_create(*, activation: Activation, phone: str | None, now: datetime | None = None) -> OutgoingCall:
    """createTaskForCall: one outgoing call per active activation."""
    now = _now(now)
    if not activation.is_active:
        raise ApiError("WRONG_ACTIVATION_ID")
    phone = (phone or "").strip().lstrip("+")
    if phone and (not phone.isdigit() or not 7 <= len(phone) <= 15):
        raise ApiError("NUMBER_NOT_EXIST")
    if activation.calls.exists():
        raise ApiError("CALL_TASK_ALREADY_EXIST")
    return OutgoingCall.objects.create(
        id=next_id("call", CALL_IDS_START, 7), activation=activation, phone_to=phone, created_at=now
    )


# --- SMS and the clock ------------------------------------------------------------------------


def _code_for(service: Service) -> str:
    if service.code == "wa":
        return f"{random.randint(100, 999)}-{random.randint(100, 999)}"
    return str(random.randint(10000, 99999) if service.code == "tg" else random.randint(100000, 999999))


def _sms_text(service: Service, code: str) -> str:
    return f"{service.name}: your verification code is {code}. Do not share it with anyone."


def _activation_hook(act: Activation, sms: dict[str, Any]) -> dict[str, Any]:
    at = datetime.fromisoformat(sms["at"])
    if act.account.is_hero:
        return {
            "activationId": str(act.id),
            "id": str(sms["id"]),
            "phoneFrom": act.call_from or act.service.name,
            "service": act.service_id,
            "text": sms["text"],
            "code": sms["code"],
            "country": act.country_id,
            "receivedAt": answers.iso_time(at),
        }
    return {
        "activationId": act.id,
        "service": act.service_id,
        "text": sms["text"],
        "code": sms["code"],
        "country": act.country_id,
        "receivedAt": answers.classic_time(at),
    }


def _add_sms(act: Activation, at: datetime, *, text: str | None = None, code: str | None = None) -> None:
    """Record an SMS on an activation (the caller saves it) and queue the account's webhook."""
    if act.verification and text is None:
        act.call_from = catalog_caller()
        code = act.call_from[-4:]
        text = f"Incoming call from +{act.call_from}"
    code = code or _code_for(act.service)
    sms = {
        "id": next_id("sms", SMS_IDS_START, 3),
        "code": code,
        "text": text or _sms_text(act.service, code),
        "at": at.isoformat(),
    }
    act.sms = [*act.sms, sms]
    act.status = ActivationStatus.CODE_RECEIVED
    act.code_due_at = None
    if act.account.webhook_url:
        _queue_webhook(act.account.webhook_url, _activation_hook(act, sms), at)


def catalog_caller() -> str:
    """A Russian landline-looking caller for call verification (the code is its last digits)."""
    return "7495" + "".join(random.choice("0123456789") for _ in range(7))


def _rent_hook(rental: Rental, message: RentMessage) -> dict[str, Any]:
    hero = rental.account.is_hero
    return {
        "rentId": str(rental.id) if hero else rental.id,
        "phone": rental.phone,
        "phoneFrom": message.phone_from,
        "text": message.text,
        "service": message.service,
        "date": answers.iso_time(message.date) if hero else answers.classic_time(message.date),
    }


def _add_rent_message(rental: Rental, at: datetime, *, text: str | None = None) -> RentMessage:
    service = rental.service
    if service.code == "full":
        service = Service.objects.filter(rent_only=False).order_by("?").first() or service
    code = _code_for(service)
    message = RentMessage.objects.create(
        rental=rental,
        phone_from=service.name
        if random.random() < 0.5
        else str(random.randint(79_000_000_000, 79_999_999_999)),
        text=text or _sms_text(service, code),
        service=service.code if text is None else rental.service_id,
        date=at,
    )
    if rental.url:
        _queue_webhook(rental.url, _rent_hook(rental, message), at)
    return message


def _next_rent_sms(account: Account, after: datetime) -> datetime:
    """Rented numbers get a message now and then: a few times the account's SMS delay."""
    base = max(account.sms_delay_max, 1)
    return after + timedelta(seconds=random.uniform(base * 3, base * 12))


def advance(now: datetime | None = None) -> int:
    """Bring every number up to `now`: due codes, expiries, rent messages and rent ends. Returns changes."""
    now = _now(now)
    changes = 0
    due = Activation.objects.filter(
        status__in=[ActivationStatus.WAIT_CODE, ActivationStatus.WAIT_RETRY], code_due_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            act = (
                Activation.objects.select_for_update(of=("self",))
                .select_related("account", "service", "country")
                .filter(
                    pk=pk,
                    status__in=[ActivationStatus.WAIT_CODE, ActivationStatus.WAIT_RETRY],
                    code_due_at__lte=now,
                )
                .first()
            )
            if act is None:
                continue
            # A code due after the number's end never comes.
            if act.code_due_at < act.expires_at:
                _add_sms(act, act.code_due_at)
            else:
                act.code_due_at = None
            act.save()
            changes += 1
    expired = Activation.objects.filter(status__in=ACTIVE_STATUSES, expires_at__lte=now).values_list(
        "pk", flat=True
    )
    for pk in list(expired[:500]):
        with transaction.atomic():
            act = (
                Activation.objects.select_for_update(of=("self",))
                .select_related("account")
                .filter(pk=pk, status__in=ACTIVE_STATUSES, expires_at__lte=now)
                .first()
            )
            if act is None:
                continue
            if act.sms:
                act.status = ActivationStatus.FINISHED
                act.closed_at = act.expires_at
                act.code_due_at = None
                act.expired = True
            else:
                _cancel(act, act.expires_at, expired=True)
            act.save()
            changes += 1
    changes += _advance_rentals(now)
    return changes


def _advance_rentals(now: datetime) -> int:
    changes = 0
    due = Rental.objects.filter(status=RentalStatus.ACTIVE, next_sms_at__lte=now).values_list("pk", flat=True)
    for pk in list(due[:500]):
        with transaction.atomic():
            rental = (
                Rental.objects.select_for_update(of=("self",))
                .select_related("account", "service")
                .filter(pk=pk, status=RentalStatus.ACTIVE, next_sms_at__lte=now)
                .first()
            )
            if rental is None:
                continue
            # Catch up, but never flood: a long-idle sandbox delivers a handful, not hundreds.
            for _ in range(5):
                if (
                    rental.next_sms_at is None
                    or rental.next_sms_at > now
                    or rental.next_sms_at >= rental.ends_at
                ):
                    break
                _add_rent_message(rental, rental.next_sms_at)
                rental.next_sms_at = _next_rent_sms(rental.account, rental.next_sms_at)
                changes += 1
            if rental.next_sms_at is not None and rental.next_sms_at <= now:
                rental.next_sms_at = _next_rent_sms(rental.account, now)
            rental.save(update_fields=["next_sms_at"])
    changes += Rental.objects.filter(status=RentalStatus.ACTIVE, ends_at__lte=now).update(
        status=RentalStatus.FINISHED, closed_at=F("ends_at"), next_sms_at=None
    )
    return changes


def sms_push(*, target_id: int, text: str, now: datetime | None = None) -> Activation | Rental:
    """Deliver an SMS by hand to an active activation or rental (admin, `sandbox_account sms`)."""
    now = _now(now)
    match = CODE_RE.search(text)
    with transaction.atomic():
        act = (
            Activation.objects.select_for_update(of=("self",))
            .select_related("account", "service")
            .filter(pk=target_id)
            .first()
        )
        if act is not None:
            if not act.is_active:
                raise ApiError("ACTIVATION_NOT_ACTIVE")
            _add_sms(act, now, text=text, code=match.group(0) if match else text)
            act.save()
            return act
        rental = (
            Rental.objects.select_for_update(of=("self",))
            .select_related("account", "service")
            .filter(pk=target_id)
            .first()
        )
        if rental is None:
            raise ApiError("NOT_FOUND")
        if rental.status != RentalStatus.ACTIVE:
            raise ApiError("STATUS_FINISH" if rental.status == RentalStatus.FINISHED else "STATUS_CANCEL")
        _add_rent_message(rental, now, text=text)
        return rental


# --- rentals ----------------------------------------------------------------------------------


def parse_hours(raw: str | None) -> int:
    """Rent hours: 4 by default, 4..1344 (INVALID_TIME otherwise)."""
    raw = (raw or "").strip()
    if raw == "":
        return RENT_MIN_HOURS
    if not raw.isdigit() or not RENT_MIN_HOURS <= int(raw) <= RENT_MAX_HOURS:
        raise ApiError("INVALID_TIME")
    return int(raw)


def _rent_offer(service: Service, country: Country) -> Price | None:
    if service.code == "full":
        return None
    price = Price.objects.filter(country=country, service=service, forward=False).first()
    if price is None:
        raise ApiError("NO_NUMBERS")
    return price


def rent_cost(*, account: Account, service: Service, country: Country, hours: int) -> Decimal:
    price = _rent_offer(service, country)
    return catalog.convert(catalog.rent_cost_rub(price, service.code, country, hours), account.currency)


def _max_rent_hours() -> int:
    return int(getattr(settings, "SANDBOX_RENT_MAX_HOURS", RENT_MAX_HOURS))


def rental_buy(
    *,
    account: Account,
    service_code: str | None,
    country_raw: str | None,
    hours: int,
    operators: list[str],
    url: str = "",
    now: datetime | None = None,
) -> Rental:
    """getRentNumber: charge the rent and hand out a number that receives messages until its end."""
    now = _now(now)
    service = _service(service_code, rent=True)
    country = _country(country_raw)
    if country is None or not country.rent or catalog.rent_stock(service.code, country.id) <= 0:
        raise ApiError("NO_NUMBERS")
    cost = rent_cost(account=account, service=service, country=country, hours=hours)
    operator = _pick_operator(country, operators)
    phone = _new_phone(country, [])
    if operator is None or phone is None:
        raise ApiError("NO_NUMBERS")
    with transaction.atomic():
        rental_id = next_id("rental", RENTAL_IDS_START, 5)
        _move_money(account, -cost, Transaction.Kind.RENT, now, rental_id=rental_id)
        low, high = sorted((account.sms_delay_min, account.sms_delay_max))
        return Rental.objects.create(
            id=rental_id,
            account=account,
            phone=phone,
            service=service,
            country=country,
            operator=operator,
            started_at=now,
            ends_at=now + timedelta(hours=hours),
            max_ends_at=now + timedelta(hours=max(_max_rent_hours(), hours)),
            hours=hours,
            cost=cost,
            currency=account.currency,
            url=(url or "")[:500],
            next_sms_at=now + timedelta(seconds=random.uniform(low, high)),
        )


def rental_set_status(
    *, account: Account, rental: Rental, status_raw: str | None, now: datetime | None = None
) -> None:
    """setRentStatus 1 (finish) or 2 (cancel with refund, only within the cancel window)."""
    now = _now(now)
    status = (status_raw or "").strip()
    if status not in {"1", "2"}:
        raise ApiError("INCORECT_STATUS")
    with transaction.atomic():
        locked = Rental.objects.select_for_update().get(pk=rental.pk)
        if locked.status == RentalStatus.FINISHED:
            raise ApiError("ALREADY_FINISH")
        if locked.status == RentalStatus.CANCELLED:
            raise ApiError("ALREADY_CANCEL")
        if status == "2":
            if now > locked.started_at + timedelta(seconds=account.rent_cancel_seconds):
                raise ApiError("CANT_CANCEL")
            _move_money(account, locked.cost, Transaction.Kind.RENT_REFUND, now, rental_id=locked.id)
        locked.status = RentalStatus.FINISHED if status == "1" else RentalStatus.CANCELLED
        locked.closed_at = now
        locked.next_sms_at = None
        locked.save(update_fields=["status", "closed_at", "next_sms_at"])
        rental.status = locked.status


def _continuation(rental: Rental, hours: int, now: datetime) -> tuple[datetime, datetime]:
    """(start, end) of extending `rental` by `hours`; raises RENT_DIE / MAX_HOURS_EXCEED."""
    if rental.status == RentalStatus.ACTIVE:
        start = rental.ends_at
    elif rental.status == RentalStatus.FINISHED and now < rental.max_ends_at and not rental.renewals.exists():
        start = now
    else:
        raise ApiError("RENT_DIE")
    end = start + timedelta(hours=hours)
    if end > rental.max_ends_at:
        left = max(math.floor((rental.max_ends_at - start).total_seconds() / 3600), 0)
        raise ApiError("MAX_HOURS_EXCEED", info={"max": left})
    return start, end


def rental_continue_price(
    *, account: Account, rental: Rental, hours: int, now: datetime | None = None
) -> Decimal:
    """getContinueRentPriceNumber: what continueRentNumber would charge."""
    _continuation(rental, hours, _now(now))
    return rent_cost(account=account, service=rental.service, country=rental.country, hours=hours)


def rental_continue(*, account: Account, rental: Rental, hours: int, now: datetime | None = None) -> Rental:
    """continueRentNumber: extend an active rent (same id) or re-order a finished one (new id)."""
    now = _now(now)
    start, end = _continuation(rental, hours, now)
    cost = rent_cost(account=account, service=rental.service, country=rental.country, hours=hours)
    with transaction.atomic():
        if rental.status == RentalStatus.ACTIVE:
            _move_money(account, -cost, Transaction.Kind.RENT_EXTEND, now, rental_id=rental.id)
            Rental.objects.filter(pk=rental.pk).update(
                ends_at=end, hours=F("hours") + hours, cost=F("cost") + cost
            )
            rental.refresh_from_db()
            return rental
        renewed_id = next_id("rental", RENTAL_IDS_START, 5)
        _move_money(account, -cost, Transaction.Kind.RENT, now, rental_id=renewed_id)
        return Rental.objects.create(
            id=renewed_id,
            account=account,
            phone=rental.phone,
            service=rental.service,
            country=rental.country,
            operator=rental.operator,
            started_at=start,
            ends_at=end,
            max_ends_at=rental.max_ends_at,
            hours=hours,
            cost=cost,
            currency=account.currency,
            url=rental.url,
            renewed_from=rental,
            next_sms_at=_next_rent_sms(account, now),
        )


# --- webhooks ---------------------------------------------------------------------------------


def _queue_webhook(url: str, payload: dict[str, Any], now: datetime) -> None:
    WebhookDelivery.objects.create(url=url, payload=payload, next_attempt_at=now, created_at=now)


def retry_delays() -> list[int]:
    return list(getattr(settings, "SANDBOX_WEBHOOK_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


def _post(url: str, payload: dict[str, Any], timeout: float) -> str | None:
    """POST the payload; None on HTTP 200, else a short reason. Never raises."""
    try:
        response = requests.post(
            url,
            data=json.dumps(payload, ensure_ascii=False).encode(),
            timeout=timeout,
            allow_redirects=False,
            headers={"Content-Type": "application/json", "User-Agent": "simdesk-sandbox-webhook/1"},
        )
    except Exception as exc:  # any transport failure is just a failed attempt
        return f"{type(exc).__name__}: {str(exc)[:200]}"
    return None if response.status_code == 200 else f"HTTP {response.status_code}"


def deliver_webhooks(now: datetime | None = None, *, limit: int = 50) -> int:
    """Attempt every due webhook once; returns how many were delivered. Never raises."""
    try:
        return _deliver_webhooks(_now(now), limit)
    except Exception:
        log.exception("sandbox webhook delivery failed")
        return 0


def _deliver_webhooks(now: datetime, limit: int) -> int:
    delays = retry_delays()
    timeout = float(getattr(settings, "SANDBOX_WEBHOOK_TIMEOUT", 3.0))
    due = WebhookDelivery.objects.filter(
        delivered_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=now
    ).order_by("next_attempt_at", "id")
    delivered = 0
    for hook in list(due[:limit]):
        # Claim the row first (conditional update) so two tickers never post the same attempt.
        lease = timezone.now() + timedelta(seconds=timeout + 30)
        claimed = WebhookDelivery.objects.filter(
            pk=hook.pk, next_attempt_at=hook.next_attempt_at, delivered_at__isnull=True
        ).update(next_attempt_at=lease)
        if not claimed:
            continue
        reason = _post(hook.url, hook.payload, timeout)
        attempts = hook.attempts + 1
        fields: dict[str, Any] = {"attempts": attempts, "last_error": (reason or "")[:300]}
        if reason is None:
            fields.update(delivered_at=timezone.now(), next_attempt_at=None)
            delivered += 1
        elif attempts > len(delays):
            fields.update(failed_at=now, next_attempt_at=None)
        else:
            fields["next_attempt_at"] = now + timedelta(seconds=delays[attempts - 1])
        WebhookDelivery.objects.filter(pk=hook.pk).update(**fields)
    return delivered


def tick(now: datetime | None = None) -> tuple[int, int]:
    """One beat of the sandbox: advance the clock, then deliver webhooks."""
    changes = advance(now)
    return changes, deliver_webhooks(now)
