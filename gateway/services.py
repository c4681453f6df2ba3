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
from purchases.models import Route, RouteKey, RouteRule
from purchases.routing import keys_of

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
        GatewayKey.objects.select_related("team", "api_key", "route", "member__user", "member__team")
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
ROUTE_NAME_LENGTH = Route._meta.get_field("name").max_length


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


def _check_member_may_use(member: Membership, api_keys: list[ApiKey], *, read_only: bool) -> None:
    """Read-write needs a member who may spend with the key (with one key of a route at least), so a
    viewer only ever gets a read-only key; read-only needs one the member sees."""
    if read_only:
        if not visible_keys(member).filter(pk__in=[key.pk for key in api_keys]).exists():
            raise ActionRefused(
                _("%(user)s may not see the key “%(key)s”.")
                % {"user": member.user.username, "key": api_keys[0].label}
            )
    elif not any(is_granted(member, key) for key in api_keys):
        raise ActionRefused(
            _(
                "%(user)s may not spend with the key “%(key)s”: make the gateway key read-only or choose another member."
            )
            % {"user": member.user.username, "key": api_keys[0].label}
        )


def gateway_key_create(
    *,
    membership: Membership,
    label: str,
    api_key: ApiKey | None = None,
    route: Route | None = None,
    member: Membership | None = None,
    daily_budget: Decimal | None = None,
    max_price: Decimal | None = None,
    services: Iterable[str] = (),
    countries: Iterable[int | str] = (),
    read_only: bool = False,
) -> tuple[GatewayKey, str]:
    """Issue a gateway key of the member's team (owners and admins); returns it and the key to show once.

    It acts through `api_key` (the team's, not archived) or across the keys of `route` (exactly one of the
    two) as `member` (the acting admin when None), who must be allowed the key (`_check_member_may_use`).
    Only the digest and the first characters are stored; the audit log names the label and the prefix,
    never the key."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    member = member or membership
    if (api_key is None) == (route is None):
        raise ActionRefused(_("Choose either an upstream key or a route."))
    upstream_keys = [api_key] if api_key is not None else keys_of(route)
    team_ids = {key.team_id for key in upstream_keys} | {member.team_id}
    if route is not None:
        team_ids.add(route.team_id)
    if team_ids != {membership.team_id} or not upstream_keys:
        raise ActionRefused(_("The key and the member must both be of this team."))
    if api_key is not None and api_key.status == KeyStatus.ARCHIVED:
        raise ActionRefused(_("The key “%s” is archived; choose one in use.") % api_key.label)
    label = label.strip()
    if not label or len(label) > LABEL_LENGTH:
        raise ActionRefused(_("Give the gateway key a label of 1 to %d characters.") % LABEL_LENGTH)
    _check_member_may_use(member, upstream_keys, read_only=read_only)
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
            route=route,
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
                "route": route.name if route is not None else None,
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


# --- routes ----------------------------------------------------------------------------------------------


def route_save(
    *,
    membership: Membership,
    name: str,
    rule: str,
    api_keys: list[ApiKey],
    route: Route | None = None,
) -> Route:
    """Create a route of the member's team (owners and admins), or change `route`: its name, its rule and
    its keys in their fixed order. Its keys charge in one currency, so prices, maximum prices and budgets
    compare across them."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    name = name.strip()
    if not name or len(name) > ROUTE_NAME_LENGTH:
        raise ActionRefused(_("Give the route a name of 1 to %d characters.") % ROUTE_NAME_LENGTH)
    if rule not in RouteRule.values:
        raise ActionRefused(_("Choose how the route picks a key."))
    keys = list(dict.fromkeys(api_keys))
    if not keys:
        raise ActionRefused(_("A route needs at least one key."))
    if any(key.team_id != membership.team_id for key in keys) or (
        route is not None and route.team_id != membership.team_id
    ):
        raise ActionRefused(_("The key and the member must both be of this team."))
    archived = [key.label for key in keys if key.status == KeyStatus.ARCHIVED]
    if archived:
        raise ActionRefused(_("The key “%s” is archived; choose one in use.") % archived[0])
    if len({key.currency for key in keys}) > 1:
        raise ActionRefused(
            _(
                "The keys of a route must charge in one currency: prices, maximum prices and budgets are compared in it."
            )
        )
    taken = Route.objects.filter(team=membership.team, name__iexact=name)
    if route is not None:
        taken = taken.exclude(pk=route.pk)
    if taken.exists():
        raise ActionRefused(_("The team already has a route named “%s”.") % name)
    with transaction.atomic():
        created = route is None
        if route is None:
            route = Route.objects.create(
                team=membership.team, name=name, rule=rule, created_by=membership.user
            )
        else:
            route.name, route.rule = name, rule
            route.save(update_fields=["name", "rule"])
            route.steps.all().delete()
        RouteKey.objects.bulk_create(
            RouteKey(route=route, api_key=key, position=position) for position, key in enumerate(keys)
        )
        audit_record(
            team=membership.team,
            actor=membership.user,
            action="route.create" if created else "route.change",
            summary=phrase(
                gettext_noop("Created the route %(name)s: %(keys)s")
                if created
                else gettext_noop("Changed the route %(name)s: %(keys)s"),
                name=name,
                keys=", ".join(key.label for key in keys),
            ),
            details={"route": str(route.public_id), "rule": rule},
        )
    return route


def route_delete(*, membership: Membership, route: Route) -> None:
    """Delete a route no active gateway key uses; purchases made through it keep their keys and records."""
    if not membership.can_manage_keys:
        raise PermissionDenied
    if route.team_id != membership.team_id:
        raise ActionRefused(_("That route is not one of this team's."))
    # Revoked keys keep their history without the route (it is set to NULL); any other key stops it.
    users = list(route.gateway_keys.filter(revoked_at__isnull=True).values_list("label", flat=True))
    if users:
        raise ActionRefused(
            _("Gateway keys use this route (%(keys)s): revoke them first.") % {"keys": ", ".join(users)}
        )
    with transaction.atomic():
        audit_record(
            team=membership.team,
            actor=membership.user,
            action="route.delete",
            summary=phrase(gettext_noop("Deleted the route %(name)s"), name=route.name),
            details={"route": str(route.public_id)},
        )
        route.delete()
