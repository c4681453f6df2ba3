"""No multiplied polling: fifty scripts polling getStatus and getActiveActivations through the gateway add no
upstream request; the upstream sees only the poll cycle's own, one getActiveActivations per key per cycle.

Upstream requests are counted on the wire: every request simdesk sends with the sandbox account's key,
whatever its action or whichever code sends it (the HTTP stays real, only counted)."""

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command

from activations import polling
from activations.models import Activation
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account
from tests.gateway.harness import make_gateway_key

CLIENTS = 50
ROUNDS = 2


@pytest.fixture
def upstream_requests(monkeypatch) -> dict[str, Counter]:
    """Every HTTP request sent in this process, by the upstream key it carries -> Counter of actions."""
    sent: dict[str, Counter] = {}
    original = requests.Session.send

    def counting_send(self, request, **kwargs):
        query = parse_qs(urlsplit(request.url).query)
        if "/sandbox/" in request.url and query.get("api_key"):
            sent.setdefault(query["api_key"][0], Counter())[query.get("action", [""])[0]] += 1
        return original(self, request, **kwargs)

    monkeypatch.setattr(requests.Session, "send", counting_send)
    return sent


def poll_from_clients(url: str, keys: list[str], upstream_id: str) -> list[tuple[str, str]]:
    """CLIENTS scripts at once, each with its own session and gateway key, ROUNDS rounds of getStatus and
    getActiveActivations; every (status answer, live list answer) they read."""

    def client(key: str) -> list[tuple[str, str]]:
        seen = []
        with requests.Session() as session:
            for _ in range(ROUNDS):
                status = session.get(url, params={"api_key": key, "action": "getStatus", "id": upstream_id})
                live = session.get(url, params={"api_key": key, "action": "getActiveActivations"})
                assert status.status_code == live.status_code == 200, (status.text, live.text)
                seen.append((status.text, live.text))
        return seen

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return [answer for answers in pool.map(client, keys) for answer in answers]


def live_rows(dialect: str, body: str) -> list[dict]:
    return json.loads(body)["data" if dialect == "hero" else "activeActivations"]


@pytest.mark.parametrize("dialect", ["classic", "hero"])
def test_fifty_polling_clients_add_no_upstream_request(
    dialect, team, operator, live_server, sandbox_url, upstream_requests
):
    hero = ("--dialect", "hero") if dialect == "hero" else ()
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600", *hero)
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    api_key = register_key(team, secret, profile="sandbox_hero" if dialect == "hero" else "sandbox")
    # Fifty scripts, each with its own gateway key (at the default rate limit) on the one upstream key.
    keys = [make_gateway_key(api_key, operator, label=f"script-{n}") for n in range(CLIENTS)]
    url = f"{live_server.url}/stubs/handler_api.php"
    bought = requests.get(
        url, params={"api_key": keys[0], "action": "getNumber", "service": "tg"}, timeout=30
    )
    assert bought.text.startswith("ACCESS_NUMBER:"), bought.text
    upstream_id = bought.text.split(":")[1]
    activation = Activation.objects.get(api_key=api_key, upstream_id=upstream_id)
    # The counter sees simdesk's requests: the purchase was one (getNumber or getNumberV2, as the profile buys).
    assert sum(upstream_requests[secret].values()) == 1
    assert set(upstream_requests[secret]) <= {"getNumber", "getNumberV2"}

    upstream_requests[secret].clear()
    seen = poll_from_clients(url, keys, upstream_id)
    assert len(seen) == CLIENTS * ROUNDS
    for status, live in seen:
        assert status == "STATUS_WAIT_CODE"
        rows = live_rows(dialect, live)
        assert [row["activationId"] for row in rows] == [upstream_id]
    assert upstream_requests[secret] == Counter()

    # The poll cycle (the worker's, driven here) is the one upstream reader: one list per key per cycle.
    assert polling.poll_key(api_key.id) == "ok"
    assert upstream_requests[secret] == Counter({"getActiveActivations": 1})

    # A code arrives upstream; the next cycle reads it once, and every client then sees it without asking.
    call_command("sandbox_account", "sms", upstream_id, "Your code 40417")
    upstream_requests[secret].clear()
    assert polling.poll_key(api_key.id) == "ok"
    activation.refresh_from_db()
    assert activation.last_code
    seen = poll_from_clients(url, keys, upstream_id)
    assert {status for status, _ in seen} == {f"STATUS_OK:{activation.last_code}"}
    # The classic list writes every code as a list, HeroSMS the last one as text.
    code = activation.last_code if dialect == "hero" else [activation.last_code]
    assert all(live_rows(dialect, live)[0]["smsCode"] == code for _, live in seen)
    assert upstream_requests[secret] == Counter({"getActiveActivations": 1})
