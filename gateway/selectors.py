"""Team-scoped reads of gateway keys."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.models import Membership, Role, Team
from accounts.permissions import parse_public_id, sees_whole_team, visible_keys
from gateway.models import GatewayKey
from purchases.models import Route, RouteKey


def gateway_keys_for(membership: Membership) -> QuerySet[GatewayKey]:
    """The team's gateway keys the member sees: those acting through an upstream key the member sees, or
    through a route with such a key (every one for owners, admins and viewers; operators those of the keys
    granted to them). Active first."""
    seen = visible_keys(membership).values("pk")
    shown = Q(api_key__in=seen) | Q(route__in=Route.objects.filter(steps__api_key__in=seen).values("pk"))
    if sees_whole_team(membership):
        # A revoked key whose route was deleted since names no key: those who see every key see it.
        shown |= Q(api_key__isnull=True, route__isnull=True)
    through = GatewayKey.objects.filter(shown)
    return (
        GatewayKey.objects.filter(team=membership.team, pk__in=through.values("pk"))
        .select_related("api_key", "route", "member__user")
        .order_by("revoked_at", "label", "pk")
    )


def routes_for(membership: Membership) -> QuerySet[Route]:
    """The team's routes, with their keys in order and the gateway keys acting through each."""
    return (
        Route.objects.filter(team=membership.team)
        .prefetch_related(
            Prefetch("steps", queryset=RouteKey.objects.select_related("api_key").order_by("position", "id")),
            Prefetch("gateway_keys", queryset=GatewayKey.objects.filter(revoked_at__isnull=True)),
        )
        .order_by("name", "pk")
    )


def get_route(membership: Membership, public_id: Any, *, write: bool = False) -> Route:
    """A route of the member's team: 404 if foreign or unknown; with `write`, 403 unless the member manages
    the team's keys."""
    route = routes_for(membership).filter(public_id=parse_public_id(public_id)).first()
    if route is None:
        raise Http404
    if write and not membership.can_manage_keys:
        raise PermissionDenied
    return route


def get_gateway_key(membership: Membership, public_id: Any, *, write: bool = False) -> GatewayKey:
    """A gateway key the member sees: 404 if foreign, unknown or not visible; with `write`, 403 unless the
    member manages the team's keys."""
    gateway_key = gateway_keys_for(membership).filter(public_id=parse_public_id(public_id)).first()
    if gateway_key is None:
        raise Http404
    if write and not membership.can_manage_keys:
        raise PermissionDenied
    return gateway_key


def first_owner(team: Team) -> Membership | None:
    """The team's longest-standing owner: who a gateway key made from the command line acts as by default."""
    return (
        Membership.objects.select_related("user", "team")
        .filter(team=team, role=Role.OWNER)
        .order_by("created_at", "pk")
        .first()
    )
