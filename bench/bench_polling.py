"""Upstream calls and time per poll cycle: one getActiveActivations per key vs one getStatus per activation.

Run: .venv/bin/python bench/bench_polling.py   (prints a table; asserts nothing)
"""

import time

from _harness import ratio, sandbox_team, serve_site, setup_django

setup_django()
serve_site()


from activations import polling  # noqa: E402
from activations.models import LIVE_STATUSES, Activation  # noqa: E402
from activations.services import BuyRequest, activation_buy  # noqa: E402
from providers.client import ProviderClient  # noqa: E402
from providers.keys import client_for_key  # noqa: E402

calls = {"n": 0}
_send = ProviderClient._send


def counting_send(self, action, params):
    calls["n"] += 1
    return _send(self, action, params)


ProviderClient._send = counting_send


def main() -> None:
    _secret, membership, api_key = sandbox_team("--balance", "100000", "--sms-delay", "3600")
    print(
        f"{'live':>6} | {'calls: simdesk':>14} {'getStatus each':>14} {'ratio':>7} | "
        f"{'ms: simdesk':>11} {'getStatus each':>14} {'ratio':>7}"
    )
    bought = 0
    for target in (1, 10, 50, 100):
        while bought < target:
            activation_buy(
                membership=membership, api_key=api_key, request=BuyRequest(service="tg", country=0)
            )
            bought += 1
        calls["n"] = 0
        started = time.perf_counter()
        polling.poll_key(api_key.pk)
        ours_ms, ours_calls = (time.perf_counter() - started) * 1000, calls["n"]

        client = client_for_key(api_key)
        live = list(
            Activation.objects.filter(api_key=api_key, status__in=LIVE_STATUSES).values_list(
                "upstream_id", flat=True
            )
        )
        calls["n"] = 0
        started = time.perf_counter()
        for upstream_id in live:
            client.get_status(id=upstream_id)
        naive_ms, naive_calls = (time.perf_counter() - started) * 1000, calls["n"]
        print(
            f"{target:>6} | {ours_calls:>14} {naive_calls:>14} {ratio(naive_calls, ours_calls):>7} | "
            f"{ours_ms:>11.1f} {naive_ms:>14.1f} {ratio(naive_ms, ours_ms):>7}"
        )


if __name__ == "__main__":
    main()
