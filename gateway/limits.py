"""A gateway key's own limits, checked before any upstream call and answered with the protocol's tokens.

What is checked here needs no lock: the allowed services and countries, and the key's maximum price
against the price the provider lists now. The daily budget is money, so it is checked by the purchase
core under the member's and key's locks with every purchase in flight counted (`purchases.services.Via`);
this module only says how its refusal, and any refusal by the team's own rules, reads in the protocol.

Which token for which refusal (protocol.md sections c and d: what clients handle):

* a service outside the allowed list: `BAD_SERVICE`, the seed's own token for a service that cannot be
  bought;
* a country outside the allowed list: `NO_NUMBERS`, what the provider itself answers for a country it does
  not sell. The seed has no `BAD_COUNTRY`, and the official client (`smsactivate` 1.5) knows no such error:
  it would try to read it as a number and fail;
* a price above the key's maximum: `WRONG_MAX_PRICE:<price>` to a script that sent its own `maxPrice` (it
  speaks Free Price, so it understands the answer), `NO_BALANCE` to one that did not (every client knows
  it; `WRONG_MAX_PRICE:` crashes the official client's getNumber);
* a budget or limit spent (the gateway key's, the upstream key's, the member's): `NO_BALANCE`;
* the upstream key disabled or not granted to the member: `BAD_KEY`; banned: `BANNED:<until>`;
* the price unknown while a limit applies: `ERROR_SQL` (a passing server error: the script tries again);
* more requests than the key's rate (`flood_refusal`): what the upstream answers a flood (protocol.md quirk
  12): HTTP 429 with the plain text `Too Many Requests` (classic: SMS-Activate documents no limit, so the
  answer of the compatible providers that do, Tiger's edge; clients that raise on HTTP errors see a 429,
  the others an unknown word, never a token they would mistake for a sale), or HeroSMS's 429 `RATE_LIMIT`
  envelope; both with `Retry-After` in seconds.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings

from accounts.permissions import SpendDenied
from gateway import answers
from gateway.answers import Answer
from gateway.models import GatewayKey
from providers import ratelimit
from providers.keys import profile_for_key
from purchases.services import Via


@dataclass(frozen=True)
class Refusal:
    """A protocol error: its code, the text after `:` in the classic dialect, HeroSMS's `info`."""

    code: str
    suffix: str | None = None
    info: dict[str, Any] | None = None

    def answer(self, hero: bool) -> Answer:
        if self.code == SERVER_ERROR_CODE:
            return answers.upstream_failed(hero)
        return answers.error(hero, self.code, self.suffix, self.info)


# A passing failure, answered as the dialect's server error (`ERROR_SQL`, HeroSMS's 500).
SERVER_ERROR_CODE = "SERVER_ERROR"
SERVER_ERROR = Refusal(SERVER_ERROR_CODE)


def via_of(gateway_key: GatewayKey) -> Via:
    """The purchase core's view of a gateway key: stored on its purchases, its label in the audit log, its
    daily budget checked under the core's locks."""
    return Via(
        code=f"gateway:{gateway_key.public_id}",
        label=gateway_key.label,
        daily_budget=gateway_key.daily_budget,
    )


def _allowed_countries(gateway_key: GatewayKey) -> set[int]:
    allowed = set()
    for value in gateway_key.countries or []:
        try:
            allowed.add(int(value))
        except (TypeError, ValueError):
            continue
    return allowed


def check_service_country(gateway_key: GatewayKey, *, service: str, country: int | None) -> Refusal | None:
    """The allowed services and countries (empty lists allow everything the upstream sells)."""
    allowed_services = {str(code).strip().lower() for code in gateway_key.services or []}
    if allowed_services and service.strip().lower() not in allowed_services:
        return Refusal("BAD_SERVICE")
    allowed_countries = _allowed_countries(gateway_key)
    if allowed_countries and country not in allowed_countries:
        return Refusal("NO_NUMBERS")
    return None


def price_refusal(price: Decimal, *, asked_max_price: bool) -> Refusal:
    """A price above a maximum the script did not set itself, or one it did (see the module's table)."""
    if not asked_max_price:
        return Refusal("NO_BALANCE")
    minimum = answers.num(price)
    return Refusal("WRONG_MAX_PRICE", suffix=str(minimum), info={"min": minimum})


def check_price(gateway_key: GatewayKey, *, price: Decimal | None, asked_max_price: bool) -> Refusal | None:
    """The key's maximum price per purchase against the price listed now (unknown: the upstream is capped
    with the maximum instead, so it refuses a dearer number itself)."""
    if gateway_key.max_price is None or price is None or price <= gateway_key.max_price:
        return None
    return price_refusal(price, asked_max_price=asked_max_price)


def spend_refusal(
    exc: SpendDenied, *, gateway_key: GatewayKey, asked_max_price: bool, price: Decimal | None
) -> Refusal:
    """A refusal by the team's own rules (`accounts.permissions.check_spend_allowed`, the purchase core),
    in the protocol's words; `price` is the money that was at stake, if known."""
    api_key = gateway_key.upstream
    if exc.code in ("disabled", "not_granted"):
        return Refusal("BAD_KEY")
    if exc.code == "banned" and api_key.banned_until is not None:
        zone = ZoneInfo(profile_for_key(api_key).timezone)
        until = api_key.banned_until.astimezone(zone).strftime("%Y-%m-%d %H-%M-%S")
        return Refusal("BANNED", suffix=until, info={"banned_until": int(api_key.banned_until.timestamp())})
    if exc.code == "max_price" and api_key.max_price is not None:
        return price_refusal(price or api_key.max_price, asked_max_price=asked_max_price)
    if exc.code == "price_unknown":
        return SERVER_ERROR
    return Refusal("NO_BALANCE")


def flood_refusal(gateway_key: GatewayKey, *, hero: bool) -> Answer | None:
    """Take one request from the gateway key's bucket (`settings.GATEWAY_REQUESTS_PER_SECOND`, up to
    `GATEWAY_BURST` at once; the providers' token bucket, so every web process shares it): None when
    taken, else the dialect's flood answer. Never waits: a script that floods is told so at once, and a
    web worker is not held by it."""
    rate = float(getattr(settings, "GATEWAY_REQUESTS_PER_SECOND", 10.0))
    if not rate > 0:
        return None
    burst = max(1, int(getattr(settings, "GATEWAY_BURST", 20)))
    wait = ratelimit.take(f"gateway:{gateway_key.public_id}", rate, burst)
    if wait <= 0:
        return None
    answer = answers.error(True, "RATE_LIMIT") if hero else Answer("Too Many Requests", 429, answers.TEXT)
    answer.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return answer
