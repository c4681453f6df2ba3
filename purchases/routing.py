"""Routes: one purchase, several upstream keys, possibly at different providers.

A route ranks its keys for each purchase by its rule (`RouteRule`): the lowest current price among keys
with stock, the team's own success rate for that service and country, or the fixed order. The purchase
goes to the first key; it moves on to the next only after a definite refusal that sold nothing
(`FAILOVER_CODES`, or one key refused by the team's own rules), never after an ambiguous answer: a lost
answer may have sold, and buying again elsewhere could pay twice.

Codes are those of a reference key (the one whose lists the buyer read) and are mapped to each key's
provider through its own lists (`providers.selectors.equivalent_codes`); a key whose provider does not list
the service or country is skipped without a call. All keys of a route charge in one currency, so prices,
maximum prices and budgets compare.

The feature (activations) supplies the purchase itself and the success rates; this module only ranks and
decides when to go on.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.utils.translation import gettext as _

from accounts.models import ApiKey, Membership
from accounts.permissions import SpendDenied, keys_usable_by
from kit.phrases import phrase_loads, phrase_text
from providers import selectors as catalog
from purchases.models import FAILED, Purchase, Route, RouteRule
from purchases.services import PurchaseRefused

Row = TypeVar("Row", bound=Purchase)

# The provider's refusals after which the next key is tried: nothing was sold, and another provider may
# sell (the seed's tokens for no stock, no money, a price above the maximum, a service or country it does
# not sell).
FAILOVER_CODES = frozenset(
    {
        "NO_NUMBERS",
        "NO_BALANCE",
        "NO_BALANCE_FORWARD",
        "WRONG_MAX_PRICE",
        "BAD_SERVICE",
        "WRONG_SERVICE",
        "BAD_COUNTRY",
    }
)
# The team's own rules refusing one key (nothing was asked upstream; another key may be allowed). The
# member's daily limit and a gateway key's budget refuse every key alike: those end the route.
KEY_REFUSALS = frozenset({"disabled", "not_granted", "banned", "max_price", "key_budget", "price_unknown"})
# The success rate counts this many recent closed purchases per key, service and country.
SUCCESS_WINDOW = 50


@dataclass(frozen=True)
class Candidate:
    """One key of a route for one purchase: the service and country in its provider's codes, its place in
    the fixed order, and what the rule ranks by."""

    api_key: ApiKey
    service: str
    country: int
    position: int
    offer: catalog.Offer | None = None
    success: float | None = None


# (candidates) -> {api_key id: share of its recent purchases that received a code}
SuccessRates = Callable[[list[Candidate]], dict[int, float]]


def keys_of(route: Route) -> list[ApiKey]:
    """The route's keys in its fixed order."""
    return [step.api_key for step in route.steps.select_related("api_key")]


def route_keys(route: Route, membership: Membership) -> list[ApiKey]:
    """The route's keys in its fixed order, those the member may buy with."""
    usable = set(keys_usable_by(membership).values_list("pk", flat=True))
    return [api_key for api_key in keys_of(route) if api_key.pk in usable]


def reference_key(route: Route) -> ApiKey | None:
    """The route's first key: its provider's codes and dialect are the route's own for a script."""
    step = route.steps.select_related("api_key").first()
    return step.api_key if step is not None else None


def candidates(
    route: Route, membership: Membership, *, reference: ApiKey, service: str, country: int
) -> list[Candidate]:
    """The route's keys that sell `service` in `country` (codes of `reference`), in the fixed order."""
    found = []
    for position, api_key in enumerate(route_keys(route, membership)):
        codes = catalog.equivalent_codes(reference, api_key, service=service, country=country)
        if codes is not None:
            found.append(Candidate(api_key=api_key, service=codes[0], country=codes[1], position=position))
    return found


def number_offer(candidate: Candidate) -> catalog.Offer | None:
    """A number's price and stock at the candidate's provider now (the price list, cached briefly)."""
    try:
        return catalog.offer(candidate.api_key, service=candidate.service, country=candidate.country)
    except catalog.CatalogUnavailable:
        return None


def rank(
    route: Route,
    found: list[Candidate],
    *,
    success_rates: SuccessRates,
    offers: Callable[[Candidate], catalog.Offer | None] = number_offer,
) -> list[Candidate]:
    """`found` in the order the route's rule tries them; ties keep the fixed order. `offers` prices one
    candidate for the price rule (a number's by default; rentals price a rent)."""
    if route.rule == RouteRule.PRICE:
        priced = [Candidate(**{**candidate.__dict__, "offer": offers(candidate)}) for candidate in found]

        def by_price(candidate: Candidate) -> tuple:
            offer = candidate.offer
            if offer is None:
                return (1, 0, candidate.position)  # price unknown: after every priced key with stock
            if offer.count <= 0:
                return (2, offer.cost, candidate.position)  # listed without stock: last, still tried
            return (0, offer.cost, candidate.position)

        return sorted(priced, key=by_price)
    if route.rule == RouteRule.SUCCESS:
        rates = success_rates(found)
        rated = [
            Candidate(**{**candidate.__dict__, "success": rates.get(candidate.api_key.pk)})
            for candidate in found
        ]
        return sorted(rated, key=lambda candidate: (-(candidate.success or 0.0), candidate.position))
    return list(found)


def laplace(succeeded: int, total: int) -> float:
    """A success rate that does not trust a handful of purchases: a key without history counts as 50%."""
    return (succeeded + 1) / (total + 2)


def success_rates(model: type[Purchase]) -> SuccessRates:
    """The team's own success rates from `model`'s history (activations, rentals): per key, the share of its
    last `SUCCESS_WINDOW` closed purchases of the candidate's service and country that received a code or
    an SMS, smoothed (`laplace`)."""

    def rates(found: list[Candidate]) -> dict[int, float]:
        shares = {}
        for candidate in found:
            recent = list(
                model.objects.filter(
                    api_key=candidate.api_key,
                    service=candidate.service,
                    country=candidate.country,
                    closed_at__isnull=False,
                    upstream_id__isnull=False,
                )
                .order_by("-closed_at")
                .values_list("sms_count", flat=True)[:SUCCESS_WINDOW]
            )
            shares[candidate.api_key.pk] = laplace(sum(1 for count in recent if count), len(recent))
        return shares

    return rates


def attempt_token(request_token: uuid.UUID | None, api_key: ApiKey) -> uuid.UUID | None:
    """One idempotency token per key of a route purchase: a form sent twice replays each attempt instead
    of buying again, and the attempts never collide with each other."""
    if request_token is None:
        return None
    return uuid.uuid5(request_token, str(api_key.public_id))


def _refused_definitely(row: Purchase) -> bool:
    return row.status == FAILED and row.error_code in FAILOVER_CODES


def buy_through(
    route: Route,
    ranked: list[Candidate],
    buy: Callable[[Candidate], Row],
) -> Row:
    """Buy with the first of `ranked` that sells; the next only after a definite refusal. Raises the last
    refusal when every key refused, and PurchaseRefused when no key of the route sells it at all."""
    if not ranked:
        raise PurchaseRefused(
            _("No key of the route “%(route)s” sells this service in this country.") % {"route": route.name}
        )
    last: Exception | None = None
    for candidate in ranked:
        try:
            row = buy(candidate)
        except PurchaseRefused as exc:
            if exc.error is None or exc.error.code not in FAILOVER_CODES:
                raise
            last = exc
            continue
        except SpendDenied as exc:
            if exc.code not in KEY_REFUSALS:
                raise
            last = exc
            continue
        if _refused_definitely(row):
            # A replayed attempt (the same form sent again) that was refused the first time.
            last = PurchaseRefused(phrase_text(phrase_loads(row.error_message)), row=row)
            continue
        return row
    assert last is not None
    raise last
