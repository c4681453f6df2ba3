"""The per-key request budget: never more requests in a one-second window than the profile allows."""

import time
from collections import Counter

from providers.ratelimit import throttle_for


def test_it_spreads_requests_over_windows():
    throttle = throttle_for("k1", 2)
    windows = Counter()
    for _ in range(5):
        throttle()
        windows[int(time.time())] += 1
    assert max(windows.values()) <= 2
    assert len(windows) >= 3


def test_keys_have_separate_budgets():
    from django.core.cache import cache

    first, second = throttle_for("k2", 1), throttle_for("k3", 1)
    window = int(time.time())
    first()
    second()
    if int(time.time()) == window:  # both in one window: each key counted on its own
        assert cache.get(f"simdesk:rate:k2:{window}") == 1
        assert cache.get(f"simdesk:rate:k3:{window}") == 1
