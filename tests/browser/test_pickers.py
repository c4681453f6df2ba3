"""The catalogue picker in a real browser at 360 px: typed by keyboard, a code shows its name beside the
field (in Russian when Russian is active), a typed name rents by name, and nothing is wider than the screen."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from rentals.models import Rental
from tests.activations.conftest import register_key
from tests.browser.test_activations import log_in
from tests.conftest import sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(new_page):
    page = new_page()
    page.set_viewport_size({"width": 360, "height": 740})
    return page


@pytest.fixture
def key(team, sandbox_url):
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600")
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    return register_key(team, secret)


def _no_side_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width


def test_a_typed_code_shows_its_name_and_the_field_is_labelled(phone, key, bob):
    log_in(phone, "bob")
    phone.goto("/t/acme/activations/buy/")
    service = phone.get_by_label("Service", exact=True)
    service.focus()
    phone.keyboard.type("tg")
    expect(phone.locator("#id_service-name")).to_have_text("Telegram")
    country = phone.get_by_label("Country", exact=True)
    country.focus()
    phone.keyboard.type("0")
    expect(phone.locator("#id_country-name")).to_have_text("Russia")
    assert service.get_attribute("aria-describedby") == "id_service-name"
    _no_side_scroll(phone)


def test_the_rent_form_in_russian_takes_a_country_name(phone, key, bob):
    log_in(phone, "bob")
    phone.context.set_extra_http_headers({"Accept-Language": "ru"})
    phone.goto("/t/acme/rentals/rent/")
    country = phone.locator("#id_country")
    country.fill("")
    country.focus()
    phone.keyboard.type("Россия")
    country.press("Tab")  # a change re-reads the offers for the country typed by name
    expect(phone.locator("#id_country-name")).to_have_text("Россия")
    expect(phone.locator('tr[data-service="tg"]')).to_contain_text("Telegram")
    _no_side_scroll(phone)
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.locator('button[data-rent="tg"]').click()
    phone.wait_for_url("**/rentals/")
    assert Rental.objects.get().service == "tg"
