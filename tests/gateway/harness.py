"""The byte-level judge of the gateway: the same call to the sandbox (with the sandbox account's own key) and
to the gateway (with a gateway key bound to a team key of that same account), compared as bytes.

    pair = gateway_pair(team, member, dialect="hero")
    pair.compare("getPrices", service="tg", country="0")   # asserts status, content type and body bytes

The sandbox's answers are the protocol's truth here: it shares no code with the gateway.
"""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import requests

from accounts.models import ApiKey, Membership, Team
from gateway.models import GatewayKey
from gateway.services import new_key
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account

T = TypeVar("T")

PATH = "/stubs/handler_api.php"


def make_gateway_key(api_key: ApiKey, member: Membership, **limits) -> str:
    """A gateway key for `api_key` acting as `member` (limits: services, countries, read_only, ...); the plain key."""
    plain, prefix, digest = new_key()
    GatewayKey.objects.create(
        team=api_key.team,
        label=limits.pop("label", "script"),
        prefix=prefix,
        digest=digest,
        api_key=api_key,
        member=member,
        **limits,
    )
    return plain


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: bytes


def call(url: str, key: str, action: str, *, method: str = "GET", **params: str) -> Reply:
    """One protocol call over HTTP, answered as raw bytes."""
    query = {"api_key": key, "action": action, **params}
    if method == "POST":
        response = requests.post(url, data=query, timeout=30)
    else:
        response = requests.get(url, params=query, timeout=30)
    return Reply(response.status_code, response.headers.get("Content-Type", ""), response.content)


@dataclass
class Pair:
    """One sandbox account seen two ways: directly, and through the gateway."""

    sandbox_url: str
    gateway_url: str
    secret: str
    gateway_key: str
    api_key: ApiKey
    seen: list[tuple[str, Reply]] = field(default_factory=list)

    def sandbox(self, action: str, **params: str) -> Reply:
        return call(self.sandbox_url + PATH, self.secret, action, **params)

    def gateway(self, action: str, *, method: str = "GET", **params: str) -> Reply:
        return call(self.gateway_url + PATH, self.gateway_key, action, method=method, **params)

    def compare(self, action: str, **params: str) -> Reply:
        """Ask both, assert the same status, content type and body bytes; the gateway's reply."""
        direct = self.sandbox(action, **params)
        through = self.gateway(action, **params)
        where = f"{action} {params}"
        assert through.status == direct.status, where
        assert through.content_type == direct.content_type, where
        assert through.body == direct.body, (
            f"{where}\nsandbox: {direct.body[:300]!r}\ngateway: {through.body[:300]!r}"
        )
        self.seen.append((action, through))
        return through


def gateway_pair(
    team: Team, member: Membership, *, live_url: str, sandbox_url: str, dialect: str = "classic", **limits
) -> Pair:
    """A fresh sandbox account (1000 of balance) in `dialect`, registered as a team key, with a gateway key."""
    options = ("--balance", "1000") + (("--dialect", "hero") if dialect == "hero" else ())
    secret = sandbox_account(*options)
    api_key = register_key(team, secret, profile="sandbox_hero" if dialect == "hero" else "sandbox")
    return Pair(
        sandbox_url=sandbox_url,
        gateway_url=live_url,
        secret=secret,
        gateway_key=make_gateway_key(api_key, member, **limits),
        api_key=api_key,
    )


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run an async client's coroutine to its end in a thread of its own: a browser test earlier in the same
    worker may have left this thread's event loop running (Playwright's sync API), where asyncio.run refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
