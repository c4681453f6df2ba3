"""Rents through a route-bound gateway key: the next key only after a definite refusal, the rent recorded at
the key that rented with the route, and the script's later calls finding it there."""

import json
from decimal import Decimal

from accounts.models import LedgerEntry
from gateway.services import gateway_key_create, route_save
from providers.keys import client_for_key
from purchases.models import RouteRule
from rentals.models import Rental, RentalStatus
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account

from .harness import call


def test_a_rent_falls_over_from_a_key_without_money_to_the_next(
    team, owner, operator, sandbox_url, gateway_url
):
    broke = register_key(team, sandbox_account("--balance", "0"), label="Broke")
    funded = register_key(team, sandbox_account("--balance", "1000"), label="Funded")
    route = route_save(membership=owner, name="Rent", rule=RouteRule.PRIORITY, api_keys=[broke, funded])
    _key, plain = gateway_key_create(membership=owner, label="renter", route=route, member=operator)

    answer = json.loads(
        call(gateway_url, plain, "getRentNumber", service="tg", country="0", rent_time="4").body
    )

    assert answer["status"] == "success", answer
    refused = Rental.objects.get(api_key=broke)
    rented = Rental.objects.get(api_key=funded)
    assert (refused.status, refused.error_code, refused.route) == (RentalStatus.FAILED, "NO_BALANCE", route)
    assert (rented.status, rented.route, rented.upstream_id) == (
        RentalStatus.ACTIVE,
        route,
        str(answer["phone"]["id"]),
    )
    # The ledger holds what the second provider charged, the first charged nothing.
    charged = 1000 - client_for_key(funded).get_balance().amount
    assert sum(entry.amount for entry in LedgerEntry.objects.filter(api_key=funded)) == charged
    assert not LedgerEntry.objects.filter(api_key=broke).exists()
    # The script's next calls find the rent at the key that rented it.
    status = json.loads(call(gateway_url, plain, "getRentList").body)
    assert [row["id"] for row in status["values"].values()] == [str(rented.upstream_id)]


def test_a_capped_route_key_passes_over_dearer_rents_without_asking(
    team, owner, operator, sandbox_url, gateway_url
):
    first = register_key(team, sandbox_account("--balance", "1000"), label="First")
    route = route_save(membership=owner, name="Rent", rule=RouteRule.PRIORITY, api_keys=[first])
    _key, plain = gateway_key_create(
        membership=owner, label="renter", route=route, member=operator, max_price=Decimal("0.01")
    )

    reply = call(gateway_url, plain, "getRentNumber", service="tg", country="0", rent_time="4")

    assert json.loads(reply.body) == {"status": "error", "message": "NO_BALANCE"}
    assert not Rental.objects.exists()
    assert client_for_key(first).get_balance().amount == 1000
