"""Names on the rental pages: the rent form takes a country and a service by name or code, an unknown name
rents nothing, the offers and the history show names with the code muted, the history finds rows by name."""

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse

from rentals.models import Rental, RentalStatus
from tests.accounts.conftest import make_key as make_plain_key
from tests.activations.test_names import _stored_catalogue
from tests.conftest import login


@pytest.fixture(autouse=True)
def _fresh_catalog_cache():
    cache.clear()
    yield
    cache.clear()


def rent_url(team) -> str:
    return reverse("rentals:rent", args=[team.slug])


def test_the_rent_form_takes_a_country_by_name_and_lists_services_by_name(make_key, team, alice):
    api_key, _ = make_key()
    client = login(alice)
    for country in ("Россия", "russia", "0"):
        page = client.get(
            rent_url(team), {"api_key": api_key.public_id, "country": country, "operator": "", "hours": 4}
        ).content.decode()
        assert "No country is called" not in page, country
        assert 'data-service="tg"' in page and "Telegram" in page
        assert '<span class="muted mono small code-tag">tg</span>' in page
    assert 'data-picker="one"' in page and '<option value="0">' in page


def test_an_unknown_country_name_is_said_beside_the_field(make_key, team, alice):
    api_key, _ = make_key()
    page = login(alice).get(
        rent_url(team), {"api_key": api_key.public_id, "country": "Нарния", "operator": "", "hours": 4}
    )
    assert "No country is called “Нарния”" in page.content.decode()


@pytest.mark.parametrize("service", ["Telegram", "TG"])
def test_it_rents_a_service_named_by_name_or_code(make_key, team, alice, service):
    api_key, _ = make_key("--sms-delay", "3600")
    data = {
        "api_key": str(api_key.public_id),
        "country": "Russia",
        "operator": "",
        "hours": 4,
        "service": service,
        "request_token": "7d7c1b7e-2f7a-4a57-9a4e-0b1d2c3e4f50",
    }
    response = login(alice).post(rent_url(team), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    rental = Rental.objects.get()
    assert (rental.service, rental.country) == ("tg", 0)


def test_an_unknown_service_name_rents_nothing(make_key, team, alice):
    api_key, _ = make_key()
    data = {
        "api_key": str(api_key.public_id),
        "country": "0",
        "operator": "",
        "hours": 4,
        "service": "Telegramm",
        "request_token": "7d7c1b7e-2f7a-4a57-9a4e-0b1d2c3e4f50",
    }
    response = login(alice).post(rent_url(team), data)
    assert response.status_code == 200 and "No service is called “Telegramm”" in response.content.decode()
    assert not Rental.objects.exists()


def _rental(team, api_key, *, service: str, country: int, phone: str) -> Rental:
    return Rental.objects.create(
        team=team, api_key=api_key, upstream_id=phone, phone=phone, service=service, country=country,
        cost=Decimal("5"), total_cost=Decimal("5"), currency="RUB", status=RentalStatus.FINISHED,
    )  # fmt: skip


def test_the_history_finds_rentals_by_name_and_shows_names(team, alice):
    api_key = make_plain_key(team)
    _stored_catalogue(api_key)
    _rental(team, api_key, service="tg", country=0, phone="79000000011")
    _rental(team, api_key, service="wa", country=1, phone="79000000012")
    client = login(alice)
    history = reverse("rentals:rent_history", args=[team.slug])
    for query in ({"service": "Telegram"}, {"service": "telegram"}, {"country": "Россия"}, {"country": "0"}):
        page = client.get(history, query).content.decode()
        assert "79000000011" in page and "79000000012" not in page, query
    page = client.get(history, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    row = page[page.index("79000000011") :]
    assert "Telegram" in row and '<span class="muted mono small code-tag">tg</span>' in row
    assert "Россия" in row
    export = client.get(
        reverse("rentals:export", args=[team.slug]), {"service": "WhatsApp", "format": "plain"}
    )
    body = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "79000000012" in body and "79000000011" not in body
