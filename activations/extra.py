"""Purchases beyond one number for one service: several services on one number, an additional service on
a forwarded number, and re-activating a used number.

Each goes through the purchase core like `activations.services.activation_buy`. Their answers carry no
price and the price list does not tell a forwarding or additional-service price: such purchases are
booked at what the provider's own list of live numbers shows, and refused up front when a limit applies
and no price is known.
"""

import contextlib
import uuid

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, Membership
from accounts.permissions import SpendDenied
from accounts.services import ActionRefused
from activations.models import Activation, ActivationStatus
from activations.services import (
    BuyRequest,
    estimate_price,
    record_intent,
    record_purchase,
    touch_activation,
)
from kit.phrases import Phrase, phrase
from providers import errors
from providers.keys import client_for_key, profile_for_key
from providers.results import ExtraActivationPrice, NumberOrder
from purchases.messages import describe_error
from purchases.models import ERROR_MESSAGE_LENGTH
from purchases.services import PurchaseRefused, Via, purchase_refused


def _require_action(api_key: ApiKey, action: str) -> None:
    if not profile_for_key(api_key).supports_action(action):
        raise PurchaseRefused(_("This provider does not offer this kind of purchase."))


def _fail_intents(rows: list[Activation], message: Phrase) -> None:
    now = timezone.now()
    stored = message.stored(ERROR_MESSAGE_LENGTH)
    for row in rows:
        touch_activation(row, status=ActivationStatus.FAILED, closed_at=now, error_message=stored)


# --- several services on one number (getMultiServiceNumber) --------------------------------------


def multi_buy(
    *,
    membership: Membership,
    api_key: ApiKey,
    services: list[str],
    country: int,
    operator: str = "",
    forward_service: str = "",
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
) -> list[Activation]:
    """Buy one number for several services; one activation row per service, sharing `multi_group`.

    Raises SpendDenied (our limits, checked service by service with the earlier ones pending) or
    PurchaseRefused (the provider's definite refusal); nothing is spent then. `via`: bought by a gateway
    key's script (its budget checked, its label in the audit log), as in `activation_buy`.
    """
    if request_token is not None:
        first = Activation.objects.filter(team=membership.team, request_token=request_token).first()
        if first is not None:
            return _group_of(first)
    _require_action(api_key, "getMultiServiceNumber")
    group = uuid.uuid4()
    rows: list[Activation] = []
    try:
        for index, service in enumerate(services):
            forward = service == forward_service
            row, created = record_intent(
                membership=membership,
                api_key=api_key,
                request=BuyRequest(service=service, country=country, operator=operator, forward=forward),
                estimate=estimate_price(api_key, service=service, country=country, forward=forward),
                # The token marks the first row only: it is unique per team.
                request_token=request_token if index == 0 else None,
                via=via,
                multi_group=group,
            )
            if not created:
                return _group_of(row)
            rows.append(row)
    except SpendDenied as exc:
        _fail_intents(rows, exc.phrase)
        raise
    try:
        numbers = client_for_key(api_key).get_multi_service_number(
            multi_service=services,
            multi_forward=[service == forward_service for service in services] if forward_service else None,
            operator=operator or None,
            country=country,
        )
    except errors.ProviderError as exc:
        # Every row shares the outcome; the first one raises PurchaseRefused for the caller when it is definite.
        for row in rows[1:]:
            with contextlib.suppress(PurchaseRefused):
                purchase_refused(row, exc, actor=membership.user)
        purchase_refused(rows[0], exc, actor=membership.user)
        return rows
    by_service = {number.service: number for number in numbers}
    for row in rows:
        number = by_service.get(row.service)
        if number is None:
            # Sold without this service (or answered oddly): let the poll cycle find out.
            touch_activation(
                row,
                status=ActivationStatus.UNKNOWN,
                error_message=phrase(
                    gettext_noop("The provider's answer did not name this service; checking.")
                ).stored(ERROR_MESSAGE_LENGTH),
            )
            continue
        record_purchase(
            row,
            NumberOrder(activation_id=number.activation_id, phone=number.phone, country=country),
            actor=membership.user,
            via=via,
        )
    return rows


def _group_of(activation: Activation) -> list[Activation]:
    if activation.multi_group is None:
        return [activation]
    return list(
        Activation.objects.filter(team=activation.team, multi_group=activation.multi_group).order_by("id")
    )


# --- an additional service on a forwarded number (getAdditionalService) --------------------------


def additional_buy(
    *,
    membership: Membership,
    parent: Activation,
    service: str,
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
) -> Activation:
    """Add `service` to a forwarded number that has received its first code. Same money rules as buying
    (`via` as in `activation_buy`)."""
    if parent.team_id != membership.team_id:
        raise PurchaseRefused(_("Unknown activation."))
    if not (parent.forward and parent.is_live and parent.sms_count and parent.upstream_id):
        raise PurchaseRefused(
            _("Only an active forwarded number that has received a code can take another service.")
        )
    if service == parent.service:
        raise PurchaseRefused(_("The number already serves this service."))
    api_key = parent.api_key
    _require_action(api_key, "getAdditionalService")
    # The provider's price list does not tell what an additional service costs (often a fixed fee):
    # the price stays pending until its list of live numbers shows it.
    activation, created = record_intent(
        membership=membership,
        api_key=api_key,
        request=BuyRequest(service=service, country=parent.country, operator=parent.operator),
        estimate=None,
        listed_price=False,
        request_token=request_token,
        via=via,
        parent=parent,
        phone=parent.phone,
    )
    if not created:
        return activation
    try:
        number = client_for_key(api_key).get_additional_service(service=service, id=parent.upstream_id)
    except errors.ProviderError as exc:
        return purchase_refused(activation, exc, actor=membership.user)
    record_purchase(
        activation,
        NumberOrder(
            activation_id=number.activation_id,
            phone=number.phone,
            country=parent.country,
            operator=parent.operator,
        ),
        actor=membership.user,
        via=via,
    )
    return activation


# --- re-activation of a used number (checkExtraActivation / getExtraActivation) ------------------


def extra_price(*, activation: Activation) -> ExtraActivationPrice:
    """What activating this used number again costs now. Raises ActionRefused in plain words."""
    if not activation.upstream_id:
        raise ActionRefused(_("The provider never confirmed this number."))
    if not profile_for_key(activation.api_key).supports_action("checkExtraActivation"):
        raise ActionRefused(_("This provider does not offer re-activation."))
    try:
        return client_for_key(activation.api_key).check_extra_activation(activation_id=activation.upstream_id)
    except errors.ProviderError as exc:
        # The provider's own refusal stays the cause, for callers that answer in the protocol.
        raise ActionRefused(describe_error(exc)) from exc


def extra_buy(
    *,
    membership: Membership,
    parent: Activation,
    request_token: uuid.UUID | None = None,
    via: Via | None = None,
) -> Activation:
    """Buy the same number again for the same service (a new activation id), at the checked price (`via` as
    in `activation_buy`)."""
    if parent.team_id != membership.team_id:
        raise PurchaseRefused(_("Unknown activation."))
    if request_token is not None:
        existing = Activation.objects.filter(team=membership.team, request_token=request_token).first()
        if existing is not None:
            return existing
    _require_action(parent.api_key, "getExtraActivation")
    try:
        price = extra_price(activation=parent)
    except ActionRefused as exc:
        cause = exc.__cause__
        raise PurchaseRefused(
            exc.message, error=cause if isinstance(cause, errors.ProviderError) else None
        ) from None
    api_key = parent.api_key
    activation, created = record_intent(
        membership=membership,
        api_key=api_key,
        request=BuyRequest(service=parent.service, country=parent.country, operator=parent.operator),
        estimate=price.cost,
        request_token=request_token,
        via=via,
        parent=parent,
        phone=parent.phone,
    )
    if not created:
        return activation
    try:
        order = client_for_key(api_key).get_extra_activation(activation_id=parent.upstream_id)
    except errors.ProviderError as exc:
        return purchase_refused(activation, exc, actor=membership.user)
    record_purchase(activation, order, actor=membership.user, via=via)
    return activation
