"""The gateway's overhead: getNumber and getStatus through simdesk's gateway vs straight at the sandbox.

One sandbox account seen two ways over real HTTP, on the same local server, in one run: directly at
/sandbox/stubs/handler_api.php with the account's own key, and through /stubs/handler_api.php with a
gateway key (no limits, GATEWAY_REQUESTS_PER_SECOND=0) bound to a team key of that account. The calls
alternate, so both sides see the same machine; prints mean / p95 ms per call and the ratios, asserts nothing.
A purchase through the gateway is simdesk's purchase plus the sandbox's; getStatus through the gateway is
answered from simdesk's own records without an upstream call, so its ratio may be under 1.

Run: .venv/bin/python bench/bench_gateway.py [--purchases 50] [--polls 500]
"""

import argparse
import os
import statistics
import time

from _harness import ratio, sandbox_team, serve_site, setup_django

# No request budget: the bench measures the gateway's work, not its waiting.
os.environ["GATEWAY_REQUESTS_PER_SECOND"] = "0"
setup_django()
BASE_URL = serve_site()

import requests  # noqa: E402
from django.conf import settings  # noqa: E402

from gateway.services import gateway_key_create  # noqa: E402

PATH = "/stubs/handler_api.php"
SANDBOX = f"{BASE_URL}/sandbox{PATH}"
GATEWAY = f"{BASE_URL}{PATH}"
WARM_UP = 3


def keys() -> tuple[str, str]:
    """(the sandbox account's own key, a gateway key through a team key of that same account)."""
    # A big balance for every purchase, and no code for an hour: every activation stays waiting.
    secret, owner, api_key = sandbox_team("--balance", "1000000", "--sms-delay", "3600")
    _, plain = gateway_key_create(membership=owner, label="bench", api_key=api_key)
    return secret, plain


def timed_call(url: str, key: str, action: str, **params: str) -> tuple[float, str]:
    """One protocol call on a fresh connection: (milliseconds, body); a non-200 answer stops the bench."""
    # Not a kept-alive session: against this development server its replies wait out the client's delayed
    # ACK (~40 ms a call), which would drown the difference measured here.
    started = time.perf_counter()
    response = requests.get(url, params={"api_key": key, "action": action, **params}, timeout=30)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} {action}: HTTP {response.status_code} {response.text[:200]!r}")
    return elapsed, response.text


def buy(url: str, key: str) -> tuple[float, str]:
    """(milliseconds, activation id) of one getNumber."""
    elapsed, body = timed_call(url, key, "getNumber", service="tg", country="0")
    if not body.startswith("ACCESS_NUMBER:"):
        raise SystemExit(f"{url} getNumber: {body[:200]!r}")
    return elapsed, body.split(":")[1]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18]


def row(name: str, calls: int, ours: list[float], direct: list[float]) -> float:
    print(
        f"{name:<22} {calls:>6} | {statistics.mean(ours):>12.2f} {p95(ours):>11.2f} | "
        f"{statistics.mean(direct):>12.2f} {p95(direct):>11.2f} | "
        f"{ratio(statistics.mean(ours), statistics.mean(direct)):>7}"
    )
    return statistics.mean(ours) / statistics.mean(direct)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--purchases", type=int, default=50, help="getNumber calls on each side")
    parser.add_argument("--polls", type=int, default=500, help="getStatus calls on each side")
    args = parser.parse_args()
    # The same prices on both sides of every pair.
    settings.SANDBOX_PRICE_DRIFT = False
    secret, gateway_key = keys()

    ours_ids: list[str] = []
    direct_ids: list[str] = []
    ours_buy: list[float] = []
    direct_buy: list[float] = []
    for index in range(WARM_UP + args.purchases):
        # Alternate which side goes first, so neither always meets the other's after-effects.
        sides = [(GATEWAY, gateway_key, ours_buy, ours_ids), (SANDBOX, secret, direct_buy, direct_ids)]
        for url, key, times, ids in sides if index % 2 == 0 else reversed(sides):
            elapsed, activation_id = buy(url, key)
            ids.append(activation_id)
            if index >= WARM_UP:
                times.append(elapsed)

    ours_poll: list[float] = []
    direct_poll: list[float] = []
    for index in range(WARM_UP + args.polls):
        sides = [
            (GATEWAY, gateway_key, ours_poll, ours_ids[index % len(ours_ids)]),
            (SANDBOX, secret, direct_poll, direct_ids[index % len(direct_ids)]),
        ]
        for url, key, times, activation_id in sides if index % 2 == 0 else reversed(sides):
            elapsed, body = timed_call(url, key, "getStatus", id=activation_id)
            if not body.startswith("STATUS_"):
                raise SystemExit(f"{url} getStatus: {body[:200]!r}")
            if index >= WARM_UP:
                times.append(elapsed)

    print(
        f"{'ms per call':<22} {'calls':>6} | {'gateway mean':>12} {'p95':>11} | "
        f"{'sandbox mean':>12} {'p95':>11} | {'ratio':>7}"
    )
    purchase_ratio = row("purchase (getNumber)", args.purchases, ours_buy, direct_buy)
    status_ratio = row("status poll (getStatus)", args.polls, ours_poll, direct_poll)
    print(f"gateway purchase_ratio={purchase_ratio:.2f} status_ratio={status_ratio:.2f}")


if __name__ == "__main__":
    main()
