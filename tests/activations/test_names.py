"""Names instead of codes on the activation pages: the buy, several-services and preset forms take a name
(any case, any of the provider's languages) or a code; an unknown name is a form error that writes
nothing; the history finds rows by name; presets and history rows show the name with the code muted."""

import csv
import io
import json
import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import LedgerEntry
from activations import polling
from activations.models import Activation, ActivationStatus, Preset
from activations.services import BuyRequest, activation_buy
from providers.keys import provider_of
from providers.models import CatalogCountry, CatalogService
from tests.accounts.conftest import make_key as make_plain_key

from .test_views import buy_data, htmx, login, url


@pytest.fixture(autouse=True)
def _fresh_catalog_cache():
    cache.clear()
    yield
    cache.clear()


def _stored_catalogue(api_key) -> None:
    """The catalogue as the sweeper stores it, for a key whose provider is never reached."""
    provider = provider_of(api_key, create=True)
    CatalogCountry.objects.create(provider=provider, code=0, name_eng="Russia", name_rus="Россия")
    CatalogCountry.objects.create(provider=provider, code=1, name_eng="Ukraine", name_rus="Украина")
    CatalogService.objects.create(provider=provider, code="tg", name_en="Telegram")
    CatalogService.objects.create(provider=provider, code="wa", name_en="WhatsApp")
    provider.catalog_synced_at = timezone.now()
    provider.save()


def _activation(team, api_key, *, service: str, country: int, phone: str) -> Activation:
    return Activation.objects.create(
        team=team, api_key=api_key, service=service, country=country, phone=phone, cost=Decimal("10"),
        currency="RUB", status=ActivationStatus.FINISHED, upstream_id=phone,
    )  # fmt: skip


# --- forms over the sandbox ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "country"), [("telegram", "Россия"), ("TG", "0"), ("Telegram", "russia")]
)
def test_the_buy_form_takes_a_name_or_a_code(team, bob, make_key, service, country):
    api_key, _ = make_key("--sms-delay", "3600")
    response = login(bob).post(url("buy", team), buy_data(api_key, service=service, country=country))
    assert response.status_code == 302, response.content.decode()[:2000]
    activation = Activation.objects.get()
    assert (activation.service, activation.country) == ("tg", 0)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("service", "Telegramm", "No service is called"), ("country", "Narnia", "No country is called")],
)
def test_an_unknown_name_is_a_form_error_and_nothing_is_written(team, bob, make_key, field, value, message):
    api_key, _ = make_key()
    response = login(bob).post(url("buy", team), buy_data(api_key, **{field: value}), **htmx())
    page = response.content.decode()
    assert response.status_code == 200 and message in page and value in page
    assert not Activation.objects.exists() and not LedgerEntry.objects.exists()


def test_several_services_are_bought_by_name(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(bob)
    page = client.get(url("buy_multi", team)).content.decode()
    assert 'data-picker="multiple"' in page and '<option value="tg">Telegram</option>' in page
    data = {**buy_data(api_key, country="Russia"), "services": "Telegram, vk"}
    del data["service"]
    response = client.post(url("buy_multi", team), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(Activation.objects.values_list("service", flat=True)) == ["tg", "vk"]


def test_several_services_with_an_unknown_name_write_nothing(team, bob, make_key):
    api_key, _ = make_key()
    data = {**buy_data(api_key), "services": "Telegram, Telegramm"}
    response = login(bob).post(url("buy_multi", team), data)
    assert response.status_code == 200 and "No service is called “Telegramm”" in response.content.decode()
    assert not Activation.objects.exists()


def test_a_preset_is_saved_by_name_and_listed_by_name_with_the_code_muted(team, bob, make_key):
    api_key, _ = make_key()
    client = login(bob)
    response = client.post(
        url("preset_save", team), buy_data(api_key, name="TG", service="Telegram", country="Россия")
    )
    assert response.status_code == 302
    preset = Preset.objects.get()
    assert (preset.service, preset.country) == ("tg", 0)
    page = client.get(url("buy", team), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    presets = page[page.index('id="presets"') :]
    assert '<span class="muted mono small code-tag">tg</span>' in presets and "Telegram" in presets
    assert "country 0" not in presets and "Россия" in presets


def test_a_preset_with_an_unknown_name_is_not_saved(team, bob, make_key):
    api_key, _ = make_key()
    response = login(bob).post(url("preset_save", team), buy_data(api_key, name="X", service="Telegramm"))
    assert response.status_code == 200 and "No service is called" in response.content.decode()
    assert not Preset.objects.exists()


# --- the history --------------------------------------------------------------------------------


def test_the_history_finds_rows_by_the_services_name(team, alice):
    api_key = make_plain_key(team)
    _stored_catalogue(api_key)
    _activation(team, api_key, service="tg", country=0, phone="79000000001")
    _activation(team, api_key, service="wa", country=1, phone="79000000002")
    client = login(alice)
    for typed in ("Telegram", "telegram", "tg", "Teleg"):
        page = client.get(url("history", team), {"service": typed}).content.decode()
        assert "79000000001" in page and "79000000002" not in page, typed
    page = client.get(url("history", team), {"country": "Украина"}).content.decode()
    assert "79000000002" in page and "79000000001" not in page


def test_a_name_nothing_is_called_is_reported_beside_the_filter(team, alice):
    api_key = make_plain_key(team)
    _stored_catalogue(api_key)
    _activation(team, api_key, service="tg", country=0, phone="79000000001")
    page = login(alice).get(url("history", team), {"country": "Нарния"}).content.decode()
    assert "No country is called “Нарния”" in page


def test_the_history_csv_follows_a_filter_by_name(team, alice):
    api_key = make_plain_key(team)
    _stored_catalogue(api_key)
    _activation(team, api_key, service="tg", country=0, phone="79000000001")
    _activation(team, api_key, service="wa", country=0, phone="79000000002")
    response = login(alice).get(url("history_csv", team), {"service": "Telegram", "format": "plain"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "79000000001" in body and "79000000002" not in body
    assert len(list(csv.reader(io.StringIO(body)))) == 2  # the header and the one tg row


def test_history_rows_show_names_with_the_code_muted(team, alice):
    api_key = make_plain_key(team)
    _stored_catalogue(api_key)
    _activation(team, api_key, service="tg", country=0, phone="79000000001")
    page = login(alice).get(url("history", team), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    row = page[page.index("79000000001") :]
    assert "Telegram" in row and '<span class="muted mono small code-tag">tg</span>' in row
    assert "Россия" in row and '<span class="muted mono small code-tag">0</span>' in row


def test_a_service_is_added_to_a_forwarded_number_by_name_and_an_unknown_name_adds_nothing(
    team, bob, make_key, operator
):
    api_key, _ = make_key("--sms-delay", "0")
    parent = activation_buy(
        membership=operator, api_key=api_key, request=BuyRequest(service="vk", country=0, forward=True)
    )
    polling.poll_key(api_key.pk)
    client = login(bob)
    refused = client.post(
        url("additional_buy", team),
        {"activation": parent.public_id, "service": "Odnoklasniki", "request_token": str(uuid.uuid4())},
        **htmx(HTTP_HX_TARGET="board"),
    )
    toast = json.loads(refused.headers["HX-Trigger"])["toast"]
    assert toast["level"] == "error" and "No service is called “Odnoklasniki”" in toast["message"]
    assert not Activation.objects.filter(parent=parent).exists()
    client.post(
        url("additional_buy", team),
        {"activation": parent.public_id, "service": "odnoklassniki", "request_token": str(uuid.uuid4())},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert Activation.objects.get(parent=parent).service == "ok"
