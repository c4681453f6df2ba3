"""The access module: called first in every view and every service that spends money.

One helper per resource, one naming: `get_<thing>(membership, public_id, *, write=False)`. Outsiders
get a 404 (never a 403 that would confirm the object exists); members without the capability, or
without a grant on the key a write would use, get a 403. Apps build their `get_<thing>` on
`get_owned`, so the rule is written once.
"""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, time
from decimal import Decimal
from functools import wraps
from typing import Any
from uuid import UUID

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.middleware import activate_team_zone
from accounts.models import ApiKey, Invite, KeyStatus, LedgerEntry, Membership, Role, Team
from kit.phrases import Money, Phrase, phrase, phrase_text

CAPABILITIES = ("can_buy", "can_manage_keys", "can_manage_members", "can_view_audit")


def get_membership(request: HttpRequest, team_slug: str, *, capability: str | None = None) -> Membership:
    """The request user's membership in the team named by the URL: 404 for outsiders, 403 without `capability`."""
    if not request.user.is_authenticated:
        raise Http404
    membership = (
        Membership.objects.select_related("team").filter(team__slug=team_slug, user=request.user).first()
    )
    if membership is None:
        raise Http404
    # The user is the request's, loaded already: no second copy through a join.
    membership.user = request.user
    if capability is not None:
        assert capability in CAPABILITIES, capability
        if not getattr(membership, capability):
            raise PermissionDenied
    return membership


TeamView = Callable[..., HttpResponse]


def team_view(
    capability: str | None = None, *, methods: Iterable[str] = ("GET",)
) -> Callable[[TeamView], TeamView]:
    """Declare and enforce who may open a page under `/t/<team_slug>/`.

    The wrapped view receives the member's `Membership` instead of the slug. Order of checks:
    anonymous -> redirect to login; outsider -> 404; member without `capability` -> 403;
    method not in `methods` -> 405. The declaration stays readable on the view
    (`required_capability`, `allowed_methods`) so the URL x role test derives its expectations from it.
    """
    if capability is not None and capability not in CAPABILITIES:
        raise ValueError(f"unknown capability {capability!r}")
    allowed = tuple(sorted({m.upper() for m in methods} | ({"HEAD"} if "GET" in methods else set())))

    def decorator(view: TeamView) -> TeamView:
        @wraps(view)
        def wrapper(request: HttpRequest, team_slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = get_membership(request, team_slug, capability=capability)
            activate_team_zone(request, membership.team)
            if request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            return view(request, membership, *args, **kwargs)

        wrapper.required_capability = capability  # type: ignore[attr-defined]
        wrapper.allowed_methods = allowed  # type: ignore[attr-defined]
        return wrapper

    return decorator


def get_invite(membership: Membership, public_id) -> Invite:
    """A pending invite of the member's team, for revoking it (owners and admins only)."""
    if not membership.can_manage_members:
        raise PermissionDenied
    return get_object_or_404(Invite, public_id=public_id, team=membership.team)


def parse_public_id(raw: Any) -> UUID:
    """A public id from a URL or a form; a missing or malformed one is a 404 like an unknown one."""
    try:
        return UUID(str(raw))
    except (TypeError, ValueError):
        raise Http404 from None


def is_granted(membership: Membership, api_key: ApiKey) -> bool:
    """Whether the member may act with the key (buy, renew, alerts, catalogue reads upstream): owners and
    admins every key of the team, operators the keys granted to them, viewers none. Status aside."""
    if api_key.team_id != membership.team_id or not membership.can_buy:
        return False
    if membership.role in (Role.OWNER, Role.ADMIN) or not api_key.restrict_to_members:
        return True
    return api_key.allowed_members.filter(pk=membership.pk).exists()


def get_api_key(membership: Membership, public_id: Any, *, write: bool = False) -> ApiKey:
    """A key the member sees (`visible_keys`): 404 if foreign, unknown or not granted to an operator;
    with `write`, 403 unless the member may act with it (`is_granted`)."""
    api_key = visible_keys(membership).filter(public_id=parse_public_id(public_id)).first()
    if api_key is None:
        raise Http404
    if write and not is_granted(membership, api_key):
        raise PermissionDenied
    return api_key


def get_owned(membership: Membership, rows: QuerySet, public_id: Any, *, write: bool = False) -> Any:
    """The one access check behind every `get_<thing>` of a key-owned row (activation, rental, preset,
    alert). `rows` is what the member sees of that model; 404 when the row is not among them; with
    `write`, 403 unless the member may act with the row's key or bought the row themselves."""
    row = rows.select_related("api_key", "team").filter(public_id=parse_public_id(public_id)).first()
    if row is None:
        raise Http404
    if write and not (
        is_granted(membership, row.api_key)
        or (membership.can_buy and getattr(row, "member_id", None) == membership.user_id)
    ):
        raise PermissionDenied
    return row


def get_team_member(membership: Membership, public_id) -> Membership:
    """Another membership of the same team, for member management (owners and admins only)."""
    if not membership.can_manage_members:
        raise PermissionDenied
    return get_object_or_404(
        Membership.objects.select_related("user"), public_id=public_id, team=membership.team
    )


def keys_usable_by(membership: Membership) -> QuerySet[ApiKey]:
    """Active keys the member may spend with: all of them for admins, granted ones for operators."""
    if not membership.can_buy:
        return ApiKey.objects.none()
    keys = ApiKey.objects.filter(team=membership.team, status=KeyStatus.ACTIVE)
    if membership.role in (Role.OWNER, Role.ADMIN):
        return keys
    return keys.filter(Q(restrict_to_members=False) | Q(allowed_members=membership)).distinct()


def can_use_key(membership: Membership, api_key: ApiKey) -> bool:
    return keys_usable_by(membership).filter(pk=api_key.pk).exists()


class SpendDenied(Exception):
    """A purchase refused by the team's own rules, before any upstream call. `phrase` is the reason to
    store (`kit.phrases`, said in each reader's language); `message` the reason for whoever reads it now;
    `code` which rule refused (`disabled`, `not_granted`, `banned`, `max_price`, `key_budget`,
    `member_limit`, `price_unknown`, `via_budget`), for callers that answer in the provider protocol."""

    def __init__(self, reason: Phrase, *, code: str = ""):
        super().__init__(reason.msgid)
        self.phrase = reason
        self.code = code

    @property
    def message(self) -> str:
        return phrase_text(self.phrase)


def start_of_today(team: Team | None = None) -> datetime:
    """Midnight today in the team's time zone (UTC without a team): daily limits, key budgets and
    "today's spend" count from here, whatever zone the reader chose for showing times."""
    zone = team.zone if team is not None else UTC
    today = timezone.now().astimezone(zone).date()
    # Midnight may not exist or exist twice on a day the clocks move; fold=0 takes the first one.
    return datetime.combine(today, time.min, tzinfo=zone).astimezone(UTC)


def spent_today(
    *, api_key: ApiKey | None = None, membership: Membership | None = None, currency: str | None = None
) -> Decimal:
    """Net spend since midnight in the team's time zone (refunds subtract), by key or by member within the
    team, in one currency."""
    team = membership.team if membership is not None else api_key.team if api_key is not None else None
    entries = LedgerEntry.objects.filter(created_at__gte=start_of_today(team))
    if currency is not None:
        entries = entries.filter(currency=currency)
    if api_key is not None:
        entries = entries.filter(api_key=api_key)
    if membership is not None:
        entries = entries.filter(team=membership.team, member=membership.user)
    return entries.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def check_spend_allowed(
    *,
    membership: Membership,
    api_key: ApiKey,
    amount: Decimal | None,
    pending_key: Decimal = Decimal("0"),
    pending_member: Decimal = Decimal("0"),
) -> None:
    """Raise SpendDenied unless the member may spend `amount` (the price, or the max price) with the key now.

    `pending_key` / `pending_member` are money already committed by purchases whose outcome is not
    recorded yet (with this key; by this member with any key), so quick purchases cannot slip under a
    limit together.
    """
    if api_key.team_id != membership.team_id:
        raise Http404
    if not membership.can_buy:
        raise PermissionDenied
    if not api_key.is_usable:
        raise SpendDenied(
            phrase(gettext_noop("The key “%(label)s” is disabled."), label=api_key.label), code="disabled"
        )
    if not can_use_key(membership, api_key):
        raise SpendDenied(
            phrase(gettext_noop("You are not allowed to use the key “%(label)s”."), label=api_key.label),
            code="not_granted",
        )
    if api_key.banned_until and api_key.banned_until > timezone.now():
        raise SpendDenied(
            phrase(
                gettext_noop("The provider has banned this key until %(until)s."), until=api_key.banned_until
            ),
            code="banned",
        )
    if amount is None:
        return
    currency = api_key.currency
    if api_key.max_price is not None and amount > api_key.max_price:
        raise SpendDenied(
            phrase(
                gettext_noop("%(amount)s is above this key's maximum price per purchase (%(max)s)."),
                amount=Money(amount, currency),
                max=Money(api_key.max_price, currency),
            ),
            code="max_price",
        )
    if api_key.daily_budget is not None:
        left = api_key.daily_budget - spent_today(api_key=api_key) - pending_key
        if amount > left:
            raise SpendDenied(
                phrase(
                    gettext_noop("This key's daily budget is used up (%(left)s left of %(budget)s)."),
                    left=Money(max(left, Decimal("0")), currency),
                    budget=Money(api_key.daily_budget, currency),
                ),
                code="key_budget",
            )
    if membership.daily_spend_limit is not None:
        left = (
            membership.daily_spend_limit
            - spent_today(membership=membership, currency=api_key.currency)
            - pending_member
        )
        if amount > left:
            raise SpendDenied(
                phrase(
                    gettext_noop("Your daily spend limit is reached (%(left)s left of %(limit)s)."),
                    left=Money(max(left, Decimal("0")), currency),
                    limit=Money(membership.daily_spend_limit, currency),
                ),
                code="member_limit",
            )


def sees_whole_team(membership: Membership) -> bool:
    """Owners, admins and viewers see every key's numbers; operators only those of keys they may use."""
    return membership.role in (Role.OWNER, Role.ADMIN, Role.VIEWER)


def visible_keys(membership: Membership, *, include_archived: bool = True) -> QuerySet[ApiKey]:
    """Keys whose numbers the member sees: all of the team's, or (operators) the ones granted to them."""
    keys = ApiKey.objects.filter(team=membership.team)
    if not include_archived:
        keys = keys.exclude(status=KeyStatus.ARCHIVED)
    if sees_whole_team(membership):
        return keys
    return keys.filter(Q(restrict_to_members=False) | Q(allowed_members=membership)).distinct()


def visible_to(membership: Membership, rows: QuerySet) -> QuerySet:
    """The team's rows of a key-owned model (activations, rentals) that the member may see.

    An IN subquery, not a join through the grants, so rows are never duplicated.
    """
    rows = rows.filter(team=membership.team)
    if sees_whole_team(membership):
        return rows
    return rows.filter(Q(api_key__in=visible_keys(membership).values("pk")) | Q(member=membership.user))
