"""In a real browser: the price pages draw their charts from the JSON endpoints, with data."""

import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import LedgerEntry
from prices.services import Offer, snapshot_store
from prices.tasks import snapshot_team_prices
from providers.keys import provider_of
from providers.services import balance_sample_record
from tests.activations.conftest import register_key
from tests.conftest import PASSWORD, sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHART_POINTS = """(selector) => {
  const canvas = document.querySelector(selector);
  const chart = canvas && window.Chart && Chart.getChart(canvas);
  return chart ? chart.data.datasets[0].data.length : -1;
}"""


@pytest.fixture
def priced_team(team, alice, sandbox_url, settings):
    """Acme with a sandbox key, a real snapshot of its prices, an older one, balances and spend."""
    settings.SANDBOX_PRICE_DRIFT = False
    key = register_key(team, sandbox_account("--balance", "100"))
    provider = provider_of(key, create=True)
    earlier = timezone.now() - timedelta(days=2)
    snapshot_store(
        provider=provider,
        offers=[Offer(country=0, service="tg", cost=Decimal("40"), count=900)],
        complete=False,
        taken_at=earlier,
    )
    snapshot_team_prices(team.pk)
    for amount, hours in (("100", 30), ("72", 5)):
        key.balance = Decimal(amount)
        balance_sample_record(api_key=key, at=timezone.now() - timedelta(hours=hours))
    LedgerEntry.objects.create(
        team=team,
        api_key=key,
        member=alice,
        kind="purchase",
        amount=Decimal("28"),
        currency="RUB",
        event_key="b1",
    )
    return key


def _log_in(page) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/t/acme/$"))


def _points(page, selector: str) -> int:
    # Polled from here: wait_for_function evaluates a string, which the page's CSP (no eval) refuses.
    deadline = time.monotonic() + 15
    while (points := page.evaluate(CHART_POINTS, selector)) <= 0 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    return points


def test_the_price_charts_render_with_data(new_page, priced_team):
    page = new_page()
    _log_in(page)

    page.get_by_role("link", name="Prices").first.click()
    expect(page).to_have_url(re.compile(r"/t/acme/prices/"))
    page.goto("/t/acme/prices/?service=tg")
    assert _points(page, "#chart-cheapest canvas") > 5
    expect(page.locator("#chart-cheapest .chart-table")).to_contain_text("Indonesia")

    page.goto(f"/t/acme/prices/history/?service=tg&country=0&key={priced_team.public_id}")
    # The older stored price, the current one, and the current one carried to now.
    assert _points(page, "#chart-history canvas") == 3
    labels = page.evaluate(
        "() => Chart.getChart(document.querySelector('#chart-history canvas')).data.datasets.map(d => d.label)"
    )
    assert labels[0].endswith("price") and labels[1].endswith("stock")

    page.goto("/t/acme/prices/compare/?service=tg")
    assert _points(page, "#compare-table canvas") > 0
    buy = page.locator("#compare-table a", has_text="Buy").first
    expect(buy).to_have_attribute(
        "href", re.compile(rf"/t/acme/activations/buy/\?key={priced_team.public_id}&service=tg&country=\d+")
    )

    page.goto("/t/acme/prices/money/")
    assert _points(page, "#chart-balance canvas") == 3
    assert _points(page, "#chart-spend canvas") == 1


TICKS = """(selector) => {
  const chart = Chart.getChart(document.querySelector(selector));
  return chart.scales.x.ticks.map((t) => [t.value, t.label]);
}"""


def test_time_labels_are_in_the_readers_zone_on_a_24_hour_clock(new_page, priced_team, alice):
    # Kathmandu is UTC+05:45: a label right to the minute can only come from this zone.
    alice.time_zone = "Asia/Kathmandu"
    alice.language = "en"
    alice.save()
    page = new_page()
    _log_in(page)
    page.goto("/t/acme/prices/money/")
    assert _points(page, "#chart-balance canvas") == 3
    ticks = page.evaluate(TICKS, "#chart-balance canvas")
    assert len(ticks) >= 2
    zone = ZoneInfo("Asia/Kathmandu")
    for value, label in ticks:
        moment = datetime.fromtimestamp(value / 1000, tz=UTC).astimezone(zone)
        assert moment.strftime("%H:%M") in label, (value, label)
        assert not re.search(r"\b(AM|PM)\b", label, re.IGNORECASE), label
