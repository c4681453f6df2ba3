"""The actions the gateway answers: each protocol action name maps to one handler.

Handlers live in `gateway/actions/` (one module per group) and register themselves with `@action`;
`gateway.protocol` authenticates the call and dispatches it here.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import QueryDict

from accounts.models import ApiKey, Membership
from gateway.answers import Answer
from gateway.models import GatewayKey
from purchases.models import Route
from purchases.routing import keys_of


@dataclass(frozen=True)
class Call:
    """One authenticated protocol request: the gateway key, its parameters (query string and form body
    merged, the body winning) and the dialect the upstream's profile speaks (`classic` or `hero`)."""

    gateway_key: GatewayKey
    params: QueryDict
    dialect: str

    @property
    def api_key(self) -> ApiKey:
        """The upstream key the script speaks to (a route's first key: its codes and dialect)."""
        return self.gateway_key.upstream

    @property
    def route(self) -> Route | None:
        return self.gateway_key.route

    def upstream_keys(self) -> list[ApiKey]:
        """Every key the script's purchases may be at: the bound key, or each key of the route."""
        return [self.api_key] if self.route is None else keys_of(self.route)

    @property
    def membership(self) -> Membership:
        return self.gateway_key.member

    @property
    def hero(self) -> bool:
        return self.dialect == "hero"

    def country(self) -> int | None:
        """The `country` parameter of a purchase: the seed's default is Russia (0) when none is sent; a
        malformed one is None (it sells nothing)."""
        raw = (self.params.get("country") or "").strip()
        if not raw:
            return 0
        return int(raw) if raw.isdigit() and len(raw) < 6 else None


Handler = Callable[[Call], Answer]


@dataclass(frozen=True)
class Action:
    handler: Handler
    # Spends money (or commits to spending): refused for read-only keys before anything else.
    spends: bool = False


ACTIONS: dict[str, Action] = {}


def action(name: str, *, spends: bool = False) -> Callable[[Handler], Handler]:
    """Register `handler` as the answer to the protocol action `name`."""

    def register(handler: Handler) -> Handler:
        ACTIONS[name] = Action(handler=handler, spends=spends)
        return handler

    return register
