"""Writes for favourite purchases (presets): save, delete, and buy one again in one click."""

import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import ApiKey, Membership
from accounts.permissions import can_use_key, is_granted
from accounts.services import ActionRefused, audit_record
from activations.models import Activation, Preset
from activations.services import BuyRequest, activation_buy
from kit.phrases import phrase


def preset_save(
    *,
    membership: Membership,
    api_key: ApiKey,
    name: str,
    service: str,
    country: int,
    operator: str = "",
    max_price: Decimal | None = None,
) -> Preset:
    """Save a choice of key, service, country, operator and max price under a name (replacing a namesake)."""
    if not membership.can_buy or not can_use_key(membership, api_key):
        raise ActionRefused(_("You cannot save presets for this key."))
    name = name.strip()
    preset = Preset.objects.filter(team=membership.team, name=name).first() or Preset(
        team=membership.team, name=name, created_by=membership.user
    )
    # A namesake is replaced only by a member who may use its key too.
    if preset.pk and not is_granted(membership, preset.api_key):
        raise ActionRefused(_("A preset with this name uses a key you may not use; choose another name."))
    preset.api_key, preset.service, preset.country = api_key, service, country
    preset.operator, preset.max_price = operator, max_price
    preset.save()
    audit_record(
        team=membership.team,
        actor=membership.user,
        action="preset.save",
        api_key=api_key,
        summary=phrase(
            gettext_noop("Saved the preset “%(name)s” (%(service)s, country %(country)s)"),
            name=name,
            service=service,
            country=country,
        ),
    )
    return preset


def preset_delete(*, membership: Membership, preset: Preset) -> None:
    """Remove a preset of the member's team, if the member may use its key."""
    if preset.team_id != membership.team_id or not is_granted(membership, preset.api_key):
        raise PermissionDenied
    audit_record(
        team=membership.team,
        actor=membership.user,
        action="preset.delete",
        api_key=preset.api_key,
        summary=phrase(gettext_noop("Deleted the preset “%(name)s”"), name=preset.name),
    )
    preset.delete()


def preset_buy(*, membership: Membership, preset: Preset, request_token: uuid.UUID | None) -> Activation:
    """Buy with a preset's choice; the usual limits and idempotency of `activation_buy` apply."""
    return activation_buy(
        membership=membership,
        api_key=preset.api_key,
        request=BuyRequest(
            service=preset.service,
            country=preset.country,
            operator=preset.operator,
            max_price=preset.max_price,
        ),
        request_token=request_token,
    )
