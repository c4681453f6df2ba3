"""Byte for byte: every catalogue read through the gateway answers what the sandbox answers its own key —
the same HTTP status, content type and body bytes (JSON compared as bytes, never parsed) — in both dialects.

`tests.gateway.harness.gateway_pair(...).compare(action, **params)` is the harness; cases for other actions
are added the same way.
"""

from decimal import Decimal

import pytest

from gateway import actions  # noqa: F401  (registers every action the gateway serves)
from gateway.registry import ACTIONS
from tests.activations.conftest import set_sandbox
from tests.gateway.harness import Pair, gateway_pair

# Catalogue reads with the parameters real clients send (protocol.md a.1, a.3).
CASES: list[tuple[str, dict[str, str]]] = [
    ("getNumbersStatus", {}),
    ("getNumbersStatus", {"country": "0"}),
    ("getNumbersStatus", {"country": "6", "operator": "telkomsel"}),
    ("getNumbersStatus", {"country": "99999"}),
    ("getPrices", {}),
    ("getPrices", {"service": "tg"}),
    ("getPrices", {"country": "0"}),
    ("getPrices", {"service": "tg", "country": "0"}),
    ("getPrices", {"service": "zzzz", "country": "0"}),
    ("getPrices", {"country": "abc"}),
    ("getPricesExtended", {"service": "tg"}),
    ("getPricesExtended", {"country": "6"}),
    ("getPricesVerification", {}),
    ("getPricesVerification", {"service": "tg"}),
    ("getTopCountriesByService", {"service": "tg"}),
    ("getTopCountriesByService", {"service": "tg", "freePrice": "true"}),
    ("getTopCountriesByService", {}),
    ("getTopCountriesByService", {"service": "zzzz"}),
    ("getTopCountriesByServiceRank", {"service": "tg", "freePrice": "true"}),
    ("getListOfTopCountriesByService", {"service": "tg"}),
    ("getListOfTopCountriesByService", {"service": "zzzz"}),
    ("getCountries", {}),
    ("getServicesList", {}),
    ("getServicesList", {"country": "0"}),
    ("getServicesList", {"country": "99999"}),
    ("getOperators", {}),
    ("getOperators", {"country": "0"}),
    ("getOperators", {"country": "99999"}),
    ("getRentServicesAndCountries", {}),
    ("getRentServicesAndCountries", {"country": "0", "rent_time": "12"}),
    ("getRentServicesAndCountries", {"country": "6", "time": "24"}),
    ("getRentServicesAndCountries", {"country": "0", "duration": "4"}),
    ("getHistory", {}),
    ("getHistory", {"start": "abc"}),
]


@pytest.fixture(params=["classic", "hero"])
def pair(request, team, owner, live_server, sandbox_url) -> Pair:
    return gateway_pair(team, owner, live_url=live_server.url, sandbox_url=sandbox_url, dialect=request.param)


def test_it_answers_every_catalogue_read_as_the_sandbox_does(pair):
    for action, params in CASES:
        pair.compare(action, **params)
    # The cases did reach real answers, not a wall of identical errors.
    bodies = {body for _, body in ((a, r.body) for a, r in pair.seen)}
    assert len(bodies) > len(CASES) // 2
    # Only the refusals (an unknown service's top list, a malformed date) may be errors.
    assert sum(reply.status != 200 for _, reply in pair.seen) <= 2


def test_it_answers_the_history_with_a_purchase_in_it_as_the_sandbox_does(pair):
    bought = pair.sandbox("getNumber", service="tg", country="0")
    assert bought.body.startswith(b"ACCESS_NUMBER:")
    reply = pair.compare("getHistory")
    assert bought.body.split(b":")[2] in reply.body


def test_it_answers_a_slug_keyed_top_list_as_the_sandbox_does(pair):
    # SMSBower's shape of getTopCountriesByService (countries by slug, then partner ids).
    set_sandbox(pair.secret, "--top-countries-by-slug")
    pair.compare("getTopCountriesByService", service="tg")
    pair.compare("getTopCountriesByService", service="tg", freePrice="true")


def test_it_answers_a_post_with_the_parameters_in_the_body_like_a_get(pair):
    direct = pair.sandbox("getPrices", service="tg", country="0")
    through = pair.gateway("getPrices", method="POST", service="tg", country="0")
    assert (through.status, through.content_type, through.body) == (
        direct.status,
        direct.content_type,
        direct.body,
    )


@pytest.mark.skipif("getBalance" not in ACTIONS, reason="getBalance is not served by the gateway yet")
def test_it_answers_the_balance_as_the_sandbox_does(pair):
    pair.compare("getBalance")


def test_it_answers_an_action_the_upstream_lacks_as_the_upstream_does(pair):
    # SMSBower has no getNumbersStatus: BAD_ACTION (HeroSMS: 404 "Method Not Found"), not a server error.
    set_sandbox(pair.secret, "--no-active-list")
    reply = pair.compare("getNumbersStatus", country="0")
    assert b"BAD_ACTION" in reply.body


def test_it_answers_the_balance_with_cashback_as_the_sandbox_does(pair):
    from sandbox.models import Account

    # Cashback on the account: the two balances differ, and the gateway asks for the one with cashback.
    Account.objects.filter(key=pair.secret).update(cashback=Decimal("12.5"))
    with_cashback = pair.compare("getBalanceAndCashBack")
    assert with_cashback.body != pair.gateway("getBalance").body
    assert with_cashback.body.startswith(b"ACCESS_BALANCE:1012.5")
