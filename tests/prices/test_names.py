"""Names on the price pages: alerts and charts take a service or country by name or code, an unknown name
is refused beside its field (an alert is then not added), and alert lists show names with codes muted."""

import pytest
from django.urls import reverse

from prices.models import PriceAlert
from tests.prices import test_views as views_tests
from tests.prices.conftest import client_for
from tests.prices.test_views import url

# The price pages' fixtures: a key, a second one, and stored prices with names.
key, second_key, priced = views_tests.key, views_tests.second_key, views_tests.priced

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("service", "country"), [("Telegram", "Россия"), ("tg", "0"), ("TELEGRAM", "russia")]
)
def test_an_alert_is_added_by_name_or_code(alice, team, key, priced, service, country):
    response = client_for(alice).post(
        url("alert_add", team),
        {"key": key.public_id, "service": service, "country": country, "price_below": "1"},
    )
    assert response.status_code == 302
    alert = PriceAlert.objects.get()
    assert (alert.service, alert.country) == ("tg", 0)


@pytest.mark.parametrize(("field", "value"), [("service", "Telegramm"), ("country", "Нарния")])
def test_an_alert_with_an_unknown_name_is_not_added_and_says_why(alice, team, key, priced, field, value):
    data = {"key": key.public_id, "service": "tg", "country": "0", "price_below": "1", field: value}
    response = client_for(alice).post(url("alert_add", team), data, follow=True)
    assert f"“{value}”" in response.content.decode()
    assert not PriceAlert.objects.exists()


def test_alert_lists_show_the_names_with_the_codes_muted(alice, team, key, priced):
    client = client_for(alice)
    client.post(
        url("alert_add", team), {"key": key.public_id, "service": "tg", "country": "0", "price_below": "26"}
    )
    page = client.get(url("overview", team), headers={"accept-language": "ru"}).content.decode()
    alerts = page[page.index('id="price-alerts"') :]
    assert "Телеграм" in alerts and '<span class="muted mono small code-tag">tg</span>' in alerts
    assert "Россия" in alerts and '<span class="muted mono small code-tag">0</span>' in alerts
    home = client.get(reverse("accounts:team_home", args=[team.slug]), headers={"accept-language": "ru"})
    block = home.content.decode()
    block = block[block.index('id="price-alerts-home"') :]
    assert "Россия" in block and "country 0" not in block and "code-tag" in block


def test_the_alert_form_and_the_charts_offer_the_picker(alice, team, key, priced):
    page = client_for(alice).get(url("overview", team)).content.decode()
    assert 'data-picker="one"' in page and '<option value="tg">Telegram</option>' in page
    assert '<option value="0">Russia</option>' in page


def test_a_chart_is_drawn_for_a_service_and_country_typed_by_name(alice, team, key, priced):
    client = client_for(alice)
    by_name = client.get(url("history_json", team, key=key.public_id, service="Telegram", country="Россия"))
    by_code = client.get(url("history_json", team, key=key.public_id, service="tg", country="0"))
    assert by_name.json()["rows"] and by_name.json()["rows"] == by_code.json()["rows"]
    compare = client.get(url("compare_json", team, service="telegram", country="Russia")).json()
    assert compare["rows"] and {row[3] for row in compare["rows"]} == {0}


def test_a_chart_for_an_unknown_name_says_so_beside_the_field(alice, team, key, priced):
    page = client_for(alice).get(url("compare", team, service="Telegramm")).content.decode()
    assert "No service is called “Telegramm”" in page


def test_the_overviews_two_pickers_have_their_own_ids(alice, team, key, priced):
    page = client_for(alice).get(url("overview", team)).content.decode()
    for id_ in (
        "id_service",
        "id_alert_service",
        "id_alert_country",
        "id_service-options",
        "id_alert_service-options",
    ):
        assert page.count(f'id="{id_}"') == 1, id_
