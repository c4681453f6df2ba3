"""A gateway key's daily budget holds when many scripts buy with it at once: it is checked inside the
purchase core's locks with the money in flight counted. Real threads against PostgreSQL (row locks are
what is under test; SQLite has none), over real HTTP to the gateway and the sandbox."""

import json
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from django.db import connection
from django.db.models import Sum

from accounts.models import LedgerEntry, Membership
from activations.models import Activation
from tests.activations.conftest import provider_charged
from tests.gateway.test_activations import ask, gateway_key, upstream

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; CI runs it"),
]


def test_scripts_buying_at_once_never_pass_the_gateway_keys_budget(team, bob, sandbox_url, live_server):
    operator = Membership.objects.get(team=team, user=bob)
    api_key, secret = upstream(team)
    direct = f"{sandbox_url}/stubs/handler_api.php"
    price = Decimal(
        str(json.loads(ask(direct, secret, "getPrices", service="tg", country="0").text)["0"]["tg"]["cost"])
    )
    key = gateway_key(api_key, operator, daily_budget=price * Decimal("2.5"))
    url = f"{live_server.url}/stubs/handler_api.php"

    def buy(_: int) -> tuple[int, str]:
        answer = requests.get(
            url, params={"api_key": key, "action": "getNumber", "service": "tg", "country": "0"}, timeout=60
        )
        return answer.status_code, answer.text

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(buy, range(10)))
    bought = [text for status, text in answers if text.startswith("ACCESS_NUMBER:")]
    refused = [text for status, text in answers if text == "NO_BALANCE"]
    assert all(status == 200 for status, _ in answers)
    assert len(bought) == 2 and len(refused) == 8, answers
    assert provider_charged(secret) == 2 * price
    assert Activation.objects.filter(via__startswith="gateway:", upstream_id__isnull=False).count() == 2
    booked = LedgerEntry.objects.filter(api_key=api_key).aggregate(total=Sum("amount"))["total"]
    assert booked == 2 * price
