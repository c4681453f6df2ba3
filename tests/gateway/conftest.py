"""The gateway's tests: a steady sandbox (prices do not drift between a gateway call and the sandbox's own)
and the team's members as gateway keys act for them."""

import pytest

from accounts.models import Membership


@pytest.fixture(autouse=True)
def _steady_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False
    # A byte comparison asks many actions at once; the rate limit has tests of its own.
    settings.GATEWAY_BURST = 1000


@pytest.fixture
def owner(team, alice) -> Membership:
    return Membership.objects.get(team=team, user=alice)


@pytest.fixture
def operator(team, bob) -> Membership:
    return Membership.objects.get(team=team, user=bob)


@pytest.fixture
def gateway_url(live_server) -> str:
    return f"{live_server.url}/stubs/handler_api.php"
