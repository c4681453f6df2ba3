"""Price pages and chart data: JSON shape, CSV, team scoping, the compare table's buy links, alerts."""

import csv
import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, AuditEntry, LedgerEntry, Team
from prices.models import PriceAlert
from prices.services import (
    Offer,
    alerts_evaluate,
    snapshot_store,
)
from providers.keys import provider_of
from providers.models import CatalogCountry, CatalogService
from providers.services import balance_sample_record
from tests.prices.conftest import client_for

pytestmark = pytest.mark.django_db

UNREACHABLE_URL = "http://127.0.0.1:9"


def make_key(team: Team, label: str, *, base_url: str = UNREACHABLE_URL, currency: str = "RUB") -> ApiKey:
    return ApiKey.objects.create(
        team=team,
        label=label,
        profile="custom",
        base_url=base_url,
        secret_encrypted=encrypt_secret(f"secret-{label}-0000"),
        secret_last4="0000",
        currency=currency,
        balance=Decimal("100"),
    )


@pytest.fixture
def key(team) -> ApiKey:
    return make_key(team, "Main")


@pytest.fixture
def second_key(team) -> ApiKey:
    return make_key(team, "Second", base_url="http://127.0.0.1:10")


def store(api_key: ApiKey, prices: dict[tuple[int, str], tuple[str, int]], *, at=None):
    offers = [
        Offer(country=c, service=s, cost=Decimal(cost), count=n) for (c, s), (cost, n) in prices.items()
    ]
    return snapshot_store(provider=provider_of(api_key, create=True), offers=offers, taken_at=at)


@pytest.fixture
def priced(key, second_key):
    """Two snapshots at Main's provider (tg in Russia got cheaper) and one at Second's, with names."""
    provider = provider_of(key, create=True)
    CatalogCountry.objects.create(
        provider=provider, code=0, name_eng="Russia", name_rus="Россия", name_chn="俄罗斯"
    )
    CatalogCountry.objects.create(provider=provider, code=6, name_eng="Indonesia", name_rus="Индонезия")
    CatalogService.objects.create(provider=provider, code="tg", name_en="Telegram", name_ru="Телеграм")
    earlier = timezone.now() - timedelta(hours=3)
    store(key, {(0, "tg"): ("30", 500), (6, "tg"): ("12", 40), (0, "wa"): ("20", 10)}, at=earlier)
    store(key, {(0, "tg"): ("25", 450), (6, "tg"): ("12", 40), (0, "wa"): ("20", 10)})
    store(second_key, {(0, "tg"): ("24", 5), (6, "tg"): ("15", 0)})


def url(name: str, team: Team, **query) -> str:
    base = reverse(f"prices:{name}", args=[team.slug])
    if not query:
        return base
    from urllib.parse import urlencode

    return base + "?" + urlencode(query, doseq=True)


def test_the_history_json_has_a_price_and_a_stock_series_per_country(alice, team, key, priced):
    response = client_for(alice).get(
        url("history_json", team, key=key.public_id, service="tg", country=[0, 6], days=7)
    )

    assert response.status_code == 200
    data = response.json()
    assert data["type"] == "line" and data["x"] == "time"
    assert [d["axis"] for d in data["datasets"]] == ["price", "stock", "price", "stock"]
    russia = data["datasets"][0]
    assert "Russia" in russia["label"]
    assert [p["y"] for p in russia["data"]] == [30.0, 25.0, 25.0]  # the last value carried to now
    assert data["datasets"][1]["data"][0]["y"] == 500
    assert data["columns"][0] == "Time"
    assert len(data["rows"]) == 3  # Russia twice (a change), Indonesia once


def test_country_names_follow_the_active_language(alice, team, key, priced):
    client = client_for(alice)
    response = client.get(
        url("history_json", team, key=key.public_id, service="tg", country=0),
        headers={"accept-language": "ru"},
    )
    assert "Россия" in response.json()["datasets"][0]["label"]


def test_several_keys_on_one_chart(alice, team, key, second_key, priced):
    query = {"key": [key.public_id, second_key.public_id], "service": "tg", "country": 0}
    data = client_for(alice).get(url("history_json", team, **query)).json()

    labels = [d["label"] for d in data["datasets"] if d["axis"] == "price"]
    assert any(label.startswith("Main") for label in labels) and any(
        label.startswith("Second") for label in labels
    )


def test_the_history_csv_repeats_the_table(alice, team, key, priced):
    response = client_for(alice).get(
        url("history_csv", team, key=key.public_id, service="tg", country=0, format="plain")
    )

    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["Time", "Key", "Country", "Service", "Price"]
    assert [row[4] for row in rows[1:]] == ["30.0000", "25.0000"]


def test_cheapest_now_ranks_countries_in_stock_with_the_team_success_rate(alice, team, key, priced):
    from activations.models import Activation, Sms

    bought = timezone.now() - timedelta(hours=1)
    for index, codes in enumerate([1, 1, 0, 1]):
        activation = Activation.objects.create(
            team=team,
            api_key=key,
            service="tg",
            country=6,
            currency="RUB",
            bought_at=bought,
            sms_count=codes,
            upstream_id=str(index),
            status="finished",
        )
        if codes:
            Sms.objects.create(
                team=team,
                activation=activation,
                code="1",
                received_at=bought + timedelta(seconds=30 * (index + 1)),
            )

    data = client_for(alice).get(url("cheapest_json", team, key=key.public_id, service="tg")).json()

    assert data["labels"] == ["Indonesia", "Russia"]
    assert [d["axis"] for d in data["datasets"]] == ["price", "stock"]
    assert data["datasets"][0]["data"] == [12.0, 25.0]
    indonesia = data["rows"][0]
    assert indonesia[5] == 4  # bought
    assert indonesia[6] == 75.0  # 3 of 4 got a code
    assert indonesia[7] == 60  # median of 30, 60, 120 seconds


def test_the_compare_table_ranks_keys_and_links_to_the_buy_form(alice, team, key, second_key, priced):
    response = client_for(alice).get(url("compare", team, service="tg"))

    assert response.status_code == 200
    rows = response.context["chart"].rows
    # Second's Indonesia offer has no stock, so it is left out; cheapest first.
    assert [(r[0], r[3], r[4]) for r in rows] == [
        ("Main", 6, Decimal("12")),
        ("Second", 0, Decimal("24")),
        ("Main", 0, Decimal("25")),
    ]
    buy = reverse("activations:buy", args=[team.slug])
    expected = f"{buy}?key={key.public_id}&service=tg&country=6"
    assert rows[0][7] == expected
    assert expected.replace("&", "&amp;") in response.content.decode()


def test_the_compare_csv_has_the_buy_links(alice, team, key, priced):
    response = client_for(alice).get(url("compare_csv", team, service="tg", country=6))
    text = b"".join(response.streaming_content).decode()
    assert "Buy" in text.splitlines()[0] and f"key={key.public_id}" in text


def test_compare_never_mixes_currencies(alice, team, key, priced):
    usd = make_key(team, "Dollar", base_url="http://127.0.0.1:11", currency="USD")
    store(usd, {(0, "tg"): ("0.30", 9)})

    rows = client_for(alice).get(url("compare", team, service="tg")).context["chart"].rows

    assert [r[5] for r in rows] == ["RUB", "RUB", "RUB", "USD"]


def test_balance_and_spend_charts_keep_currencies_apart(alice, bob, team, key):
    usd = make_key(team, "Dollar", base_url="http://127.0.0.1:11", currency="USD")
    for amount, when in (("100", 3), ("80", 2), ("80", 1)):
        key.balance = Decimal(amount)
        balance_sample_record(api_key=key, at=timezone.now() - timedelta(hours=when))
    usd.balance = Decimal("5")
    balance_sample_record(api_key=usd)
    for index, (api_key, member, amount) in enumerate(
        [(key, alice, "20"), (key, bob, "5"), (usd, alice, "1")]
    ):
        LedgerEntry.objects.create(
            team=team,
            api_key=api_key,
            member=member,
            kind="purchase",
            amount=Decimal(amount),
            currency=api_key.currency,
            event_key=f"e{index}",
        )
    client = client_for(alice)

    balance = client.get(url("balance_json", team, currency="RUB")).json()
    spend = client.get(url("spend_json", team, currency="RUB", by="member")).json()

    assert [d["label"] for d in balance["datasets"]] == ["Main"]
    assert [p["y"] for p in balance["datasets"][0]["data"]] == [
        100.0,
        80.0,
        80.0,
    ]  # the repeat was not stored
    assert sorted(d["label"] for d in spend["datasets"]) == ["alice", "bob"]
    assert sum(sum(d["data"]) for d in spend["datasets"]) == 25.0
    usd_spend = client.get(url("spend_json", team, currency="USD")).json()
    assert [d["label"] for d in usd_spend["datasets"]] == ["Dollar"]


CHART_ENDPOINTS = [
    "history_json",
    "history_csv",
    "cheapest_json",
    "cheapest_csv",
    "compare_json",
    "compare_csv",
    "balance_json",
    "balance_csv",
    "spend_json",
    "spend_csv",
]
PAGES = ["overview", "over_time", "compare", "money", "catalog"]


@pytest.mark.parametrize("name", CHART_ENDPOINTS + PAGES)
def test_outsiders_get_404_and_members_200(name, team, alice, vera, charlie, key, priced):
    assert client_for(charlie).get(url(name, team)).status_code == 404
    assert client_for(vera).get(url(name, team)).status_code == 200
    assert client_for(None).get(url(name, team)).status_code == 302


def test_a_foreign_key_in_the_query_is_404(alice, team, charlie, key, priced):
    foreign = make_key(Team.objects.get(slug="other"), "Foreign")
    response = client_for(alice).get(url("history_json", team, key=foreign.public_id, service="tg"))
    assert response.status_code == 404


def test_the_pages_render_charts_and_tables(alice, team, key, priced):
    client = client_for(alice)
    page = client.get(url("overview", team, key=key.public_id, service="tg")).content.decode()
    assert 'data-chart="/t/acme/prices/data/cheapest.json?' in page
    assert "Indonesia" in page and "Excel (CSV)" in page and "format=plain" in page
    assert "vendor/chart.js/chart.umd" in page
    history = client.get(url("over_time", team, key=key.public_id, service="tg")).content.decode()
    assert 'data-chart="/t/acme/prices/data/history.json?' in history


def test_the_catalog_page_lists_countries_in_the_users_language(alice, team, key, priced):
    page = client_for(alice).get(url("catalog", team, key=key.public_id), headers={"accept-language": "ru"})
    content = page.content.decode()
    assert "Россия" in content and "Телеграм" in content


# --- alerts ---------------------------------------------------------------------------------


def test_an_alert_fires_once_while_its_condition_holds(alice, team, key, priced):
    alert = PriceAlert.objects.create(
        team=team, api_key=key, service="tg", country=0, price_below=Decimal("26")
    )

    first = alerts_evaluate(team=team)
    again = alerts_evaluate(team=team)

    assert [a.pk for a in first] == [alert.pk] and again == []
    assert AuditEntry.objects.filter(team=team, action="prices.alert").count() == 1
    alert.refresh_from_db()
    assert alert.firing and alert.fired_count == 1 and alert.last_cost == Decimal("25")


def test_an_alert_re_arms_after_its_condition_stopped_holding(alice, team, key, priced):
    PriceAlert.objects.create(team=team, api_key=key, service="tg", country=0, price_below=Decimal("26"))
    alerts_evaluate(team=team)

    store(key, {(0, "tg"): ("27", 450), (6, "tg"): ("12", 40), (0, "wa"): ("20", 10)})
    assert alerts_evaluate(team=team) == []
    store(key, {(0, "tg"): ("25", 450), (6, "tg"): ("12", 40), (0, "wa"): ("20", 10)})
    assert len(alerts_evaluate(team=team)) == 1

    assert AuditEntry.objects.filter(team=team, action="prices.alert").count() == 2


def test_stock_alerts_and_both_thresholds(alice, team, key, priced):
    stock = PriceAlert.objects.create(team=team, api_key=key, service="tg", country=6, stock_above=30)
    both = PriceAlert.objects.create(
        team=team, api_key=key, service="tg", country=6, stock_above=30, price_below=Decimal("10")
    )

    fired = alerts_evaluate(team=team)

    assert [a.pk for a in fired] == [stock.pk]
    both.refresh_from_db()
    assert not both.firing


def test_a_firing_alert_shows_on_the_team_home(alice, team, key, priced):
    client = client_for(alice)
    client.post(
        url("alert_add", team), {"key": key.public_id, "service": "tg", "country": 0, "price_below": "26"}
    )

    home = client.get(reverse("accounts:team_home", args=[team.slug])).content.decode()

    assert 'id="price-alerts-home"' in home and "tg" in home
    assert f"key={key.public_id}&amp;service=tg&amp;country=0" in home


def test_no_alert_block_when_nothing_fires(alice, team, key, priced):
    PriceAlert.objects.create(team=team, api_key=key, service="tg", country=0, price_below=Decimal("1"))
    alerts_evaluate(team=team)
    home = client_for(alice).get(reverse("accounts:team_home", args=[team.slug])).content.decode()
    assert 'id="price-alerts-home"' not in home


def test_viewers_cannot_add_alerts_and_foreign_alerts_are_404(vera, alice, charlie, team, key, priced):
    response = client_for(vera).post(
        url("alert_add", team), {"key": key.public_id, "service": "tg", "country": 0, "price_below": "26"}
    )
    assert response.status_code == 403
    other = Team.objects.get(slug="other")
    foreign = PriceAlert.objects.create(
        team=other, api_key=make_key(other, "F"), service="tg", country=0, price_below=1
    )
    assert client_for(alice).post(url("alert_remove", team), {"alert": foreign.public_id}).status_code == 404
    assert PriceAlert.objects.filter(pk=foreign.pk).exists()


def test_an_alert_is_removed(alice, team, key, priced):
    alert = PriceAlert.objects.create(
        team=team, api_key=key, service="tg", country=0, price_below=Decimal("26")
    )
    response = client_for(alice).post(url("alert_remove", team), {"alert": alert.public_id})
    assert response.status_code == 302 and not PriceAlert.objects.filter(pk=alert.pk).exists()


def test_settings_change_the_interval(alice, bob, team, key):
    assert (
        client_for(bob).post(url("settings", team), {"enabled": "on", "interval_minutes": 15}).status_code
        == 403
    )
    client_for(alice).post(url("settings", team), {"enabled": "on", "interval_minutes": 15})
    assert team.price_settings.interval_minutes == 15


def test_price_pages_refuse_a_key_the_operator_is_not_granted(team, bob, key, second_key, priced):
    """An operator sees and uses only the keys granted to him: a restricted key's prices, catalogue sync
    and alerts are a 404, and it is not offered in the key lists."""
    second_key.restrict_to_members = True
    second_key.save(update_fields=["restrict_to_members"])
    alert = PriceAlert.objects.create(team=team, api_key=second_key, service="tg", country=0, stock_above=1)
    client = client_for(bob)
    for name in ("overview", "over_time", "catalog", "cheapest_json", "cheapest_csv", "history_json"):
        assert client.get(url(name, team, key=str(second_key.public_id))).status_code == 404, name
    assert client.post(url("catalog_refresh", team), {"key": str(second_key.public_id)}).status_code == 404
    added = client.post(
        url("alert_add", team),
        {"key": str(second_key.public_id), "service": "tg", "country": 0, "stock_above": 1},
    )
    assert added.status_code == 302 and PriceAlert.objects.count() == 1
    assert client.post(url("alert_remove", team), {"alert": str(alert.public_id)}).status_code == 404
    assert PriceAlert.objects.filter(pk=alert.pk).exists()
    page = client.get(url("overview", team)).content.decode()
    assert "Second" not in page and "Main" in page
    compare = client.get(url("compare", team, service="tg")).context["chart"].rows
    assert {row[0] for row in compare} == {"Main"}


def test_price_csv_cells_a_spreadsheet_would_run_are_neutralised(alice, team, key, priced):
    key.label = '=HYPERLINK("http://x","y")'
    key.save(update_fields=["label"])
    response = client_for(alice).get(url("compare_csv", team, service="tg"))
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK(" in text
    assert not any(line.startswith("=") or ",=" in line for line in text.splitlines())


def test_the_price_csv_in_russian_excel_has_a_bom_semicolons_decimal_commas_and_russian_names(
    alice, team, key, priced
):
    query = {"key": key.public_id, "service": "tg", "country": 0}
    response = client_for(alice).get(url("history_csv", team, **query), headers={"accept-language": "ru"})
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=";"))
    assert [row[4] for row in rows[1:]] == ["30,0000", "25,0000"]
    assert {row[2] for row in rows[1:]} == {"Россия"}
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0]) for row in rows[1:])
    # The plain flavour stays English, comma-separated, UTC ISO 8601, whoever asks.
    plain = client_for(alice).get(
        url("history_csv", team, format="plain", **query), headers={"accept-language": "ru"}
    )
    text = b"".join(plain.streaming_content).decode()
    assert not text.startswith("\ufeff") and ",Russia," in text and ",30.0000," in text and "+00:00," in text
