"""The gateway's rate limit per gateway key: past its bucket a script is answered at once, as its upstream
answers a flood (the sandbox's own flood answer is the judge), nothing is carried out, and another key is
unaffected."""

import time

import pytest
import requests
from django.core.management import call_command

from activations.models import Activation
from tests.gateway.harness import call, gateway_pair, make_gateway_key


@pytest.fixture(autouse=True)
def _tiny_bucket(settings):
    # Two requests at once, then one every ~17 minutes: the third request of a test is always refused.
    settings.GATEWAY_REQUESTS_PER_SECOND = 0.001
    settings.GATEWAY_BURST = 2
    settings.SANDBOX_PRICE_DRIFT = False


@pytest.mark.parametrize("dialect", ["classic", "hero"])
def test_a_flooding_key_is_answered_as_the_upstream_answers_a_flood(
    dialect, team, operator, live_server, sandbox_url
):
    pair = gateway_pair(team, operator, live_url=live_server.url, sandbox_url=sandbox_url, dialect=dialect)
    other_key = make_gateway_key(pair.api_key, operator, label="other-script")

    balance = pair.sandbox("getBalance").body
    assert balance.startswith(b"ACCESS_BALANCE:1000")
    for _ in range(2):
        assert pair.gateway("getBalance").body == balance
    started = time.monotonic()
    flooded = pair.gateway("getBalance")
    # Answered at once: the request never waits ~17 minutes (nor the upstream client's 10 s) for a token.
    assert time.monotonic() - started < 5
    assert flooded.status == 429
    # Another script's key has its own bucket.
    other = pair.gateway_url + "/stubs/handler_api.php"
    assert call(other, other_key, "getBalance").body == balance

    # The sandbox, told to answer floods, is the judge of the bytes.
    call_command("sandbox_account", "set", pair.secret, "--fault", "rate_limit=1")
    direct = pair.sandbox("getBalance")
    assert direct.status == 429
    assert (flooded.status, flooded.content_type, flooded.body) == (
        direct.status,
        direct.content_type,
        direct.body,
    )
    expected = b'{"title":"RATE_LIMIT","details":""}' if dialect == "hero" else b"Too Many Requests"
    assert flooded.body == expected


def test_retry_after_says_when_the_next_request_is_due(team, operator, live_server, sandbox_url, settings):
    settings.GATEWAY_REQUESTS_PER_SECOND = 0.5  # one token every 2 s
    settings.GATEWAY_BURST = 1
    pair = gateway_pair(team, operator, live_url=live_server.url, sandbox_url=sandbox_url)
    url = pair.gateway_url + "/stubs/handler_api.php"
    query = {"api_key": pair.gateway_key, "action": "getStatus", "id": "1"}
    assert requests.get(url, params=query, timeout=30).content == b"NO_ACTIVATION"
    refused = requests.get(url, params=query, timeout=30)
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] in ("1", "2")


def test_a_flooded_purchase_buys_nothing(team, operator, live_server, sandbox_url):
    pair = gateway_pair(team, operator, live_url=live_server.url, sandbox_url=sandbox_url, dialect="hero")
    balance = pair.sandbox("getBalance").body
    for _ in range(2):
        pair.gateway("getStatus", id="1")
    refused = pair.gateway("getNumber", method="POST", service="tg", country="0")
    assert refused.status == 429
    assert refused.body == b'{"title":"RATE_LIMIT","details":""}'
    assert not Activation.objects.filter(api_key=pair.api_key).exists()
    assert pair.sandbox("getBalance").body == balance


def test_no_limit_when_the_rate_is_zero(team, operator, live_server, sandbox_url, settings):
    settings.GATEWAY_REQUESTS_PER_SECOND = 0
    pair = gateway_pair(team, operator, live_url=live_server.url, sandbox_url=sandbox_url)
    for _ in range(5):
        assert pair.gateway("getStatus", id="1").body == b"NO_ACTIVATION"
