"""Gateway keys: made, checked and revoked here."""

import re
import secrets
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.crypto import secret_digest
from accounts.models import ApiKey, KeyStatus, Membership
from accounts.permissions import is_granted, visible_keys
from accounts.services import ActionRefused, audit_record
from gateway.models import GatewayKey
from kit.filters import INT_MAX
from kit.phrases import phrase

# Keys look like a provider's (32 hex characters), so client libraries that check the shape take them.
KEY_BYTES = 16
PREFIX_LENGTH = 8
# A key's last use is written at most this often: scripts poll every second or two.
LAST_USED_EVERY_SECONDS = 60


def new_key() -> tuple[str, str, str]:
    """(the key to show once, its prefix, its digest to store)."""
    plain = secrets.token_hex(KEY_BYTES)
    return plain, plain[:PREFIX_LENGTH], secret_digest(plain)


def authenticate(plain: str) -> GatewayKey | None:
    """The active gateway key for `plain` (None for an unknown or revoked one); notes its use."""
    if not plain or len(plain) > 128:
        return None
    gateway_key = (
        GatewayKey.objects.select_related("team", "api_key", "member__user", "member__team")
        .filter(digest=secret_digest(plain), revoked_at__isnull=True, member__isnull=False)
        .first()
    )
    if gateway_key is None:
        return None
    now = timezone.now()
    last = gateway_key.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_EVERY_SECONDS:
        GatewayKey.objects.filter(pk=gateway_key.pk).update(last_used_at=now)
        gateway_key.last_used_at = now
    return gateway_key


# The shapes the protocol's codes take: services are short lower-case codes ("tg", "full_ru"), countries numbers.
SERVICE_CODE = re.compile(r"[a-z0-9_]{1,16}")
LABEL_LENGTH = GatewayKey._meta.get_field("label").max_length


def _service_codes(services: Iterable[str]) -> list[str]:
    codes: list[str] = []
    for raw in services:
        code = str(raw).strip().lower()
        if not code:
            continue
        if not SERVICE_CODE.fullmatch(code):
            raise ActionRefused(_("“%s” is not a service code (e.g. tg).") % raw)
        if code not in codes:
            codes.append(code)
    return codes


def _country_codes(countries: Iterable[int | str]) -> list[int]:
    codes: list[int] = []
    for raw in countries:
        text = str(raw).strip()
        if not text:
            continue
        # ASCII digits only: int() also reads "٣" and "+3".
        if not re.fullmatch(r"[0-9]{1,10}", text) or int(text) > INT_MAX:
            raise ActionRefused(_("“%s” is not a country number (e.g. 0).") % raw)
        if int(text) not in codes:
            codes.append(int(text))
    return codes


def _amount(value: Decimal | None) -> Decimal | None:
    if value is not None and value < 0:
        raise ActionRefused(_("An amount cannot be negative."))
    return value


def gateway_key_create(
    *,
    membership: Membership,
    label: str,
    api_key: ApiKey,
    member: Membership | None = None,
    daily_budget: Decimal | None = None,
    max_price: Decimal | None = None,
    services: Iterable[str] = (),
    countries: Iterable[int | str] = (),
    read_only: bool = False,
) -> tuple[GatewayKey, str]:
    """Issue a gateway key of the member's team (owners and admins); returns it and the key to show once.

    It acts through `api_key` (the team's, not archived) as `member` (the acting admin when None), who must
    be allowed that key: read-write needs a member who may spend with it (`is_granted`), so a viewer only
    ever gets a read-only key; read-only needs a key the member sees. Only the digest and the first
    characters are stored; the audit log names the label and the prefix, never the key."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    member = member or membership
    if api_key.team_id != membership.team_id or member.team_id != membership.team_id:
        raise ActionRefused(_("The key and the member must both be of this team."))
    if api_key.status == KeyStatus.ARCHIVED:
        raise ActionRefused(_("The key “%s” is archived; choose one in use.") % api_key.label)
    label = label.strip()
    if not label or len(label) > LABEL_LENGTH:
        raise ActionRefused(_("Give the gateway key a label of 1 to %d characters.") % LABEL_LENGTH)
    if read_only:
        if not visible_keys(member).filter(pk=api_key.pk).exists():
            raise ActionRefused(
                _("%(user)s may not see the key “%(key)s”.")
                % {"user": member.user.username, "key": api_key.label}
            )
    elif not is_granted(member, api_key):
        raise ActionRefused(
            _(
                "%(user)s may not spend with the key “%(key)s”: make the gateway key read-only or choose another member."
            )
            % {"user": member.user.username, "key": api_key.label}
        )
    services = _service_codes(services)
    countries = _country_codes(countries)
    plain, prefix, digest = new_key()
    with transaction.atomic():
        gateway_key = GatewayKey.objects.create(
            team=membership.team,
            label=label,
            prefix=prefix,
            digest=digest,
            api_key=api_key,
            member=member,
            daily_budget=_amount(daily_budget),
            max_price=_amount(max_price),
            services=services,
            countries=countries,
            read_only=read_only,
            created_by=membership.user,
        )
        audit_record(
            team=membership.team,
            actor=membership.user,
            action="gateway_key.create",
            summary=phrase(
                gettext_noop("Issued the gateway key %(label)s (%(prefix)s…) acting as %(user)s"),
                label=label,
                prefix=prefix,
                user=member.user.username,
            ),
            api_key=api_key,
            details={
                "gateway_key": str(gateway_key.public_id),
                "read_only": read_only,
                "daily_budget": str(daily_budget) if daily_budget is not None else None,
                "max_price": str(max_price) if max_price is not None else None,
                "services": services,
                "countries": countries,
            },
        )
    return gateway_key, plain


def gateway_key_revoke(*, membership: Membership, gateway_key: GatewayKey) -> GatewayKey:
    """Revoke a gateway key of the member's team (owners and admins): its next request answers BAD_KEY."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    if gateway_key.team_id != membership.team_id:
        raise ActionRefused(_("That gateway key is not one of this team's."))
    now = timezone.now()
    with transaction.atomic():
        # Conditional: two admins revoking at once leave one revocation and one audit entry.
        if not GatewayKey.objects.filter(pk=gateway_key.pk, revoked_at__isnull=True).update(revoked_at=now):
            raise ActionRefused(_("The gateway key “%s” is already revoked.") % gateway_key.label)
        gateway_key.revoked_at = now
        audit_record(
            team=membership.team,
            actor=membership.user,
            action="gateway_key.revoke",
            summary=phrase(
                gettext_noop("Revoked the gateway key %(label)s (%(prefix)s…)"),
                label=gateway_key.label,
                prefix=gateway_key.prefix,
            ),
            api_key=gateway_key.api_key,
            details={"gateway_key": str(gateway_key.public_id)},
        )
    return gateway_key
