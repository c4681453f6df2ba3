"""In a real browser on a 360 px phone: an owner issues a gateway key (shown once, with copy buttons for the
key and the gateway URL), finds it in the list and revokes it after confirming."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Membership, Role, Team, User
from gateway.models import GatewayKey
from gateway.services import authenticate
from tests.accounts.conftest import make_key
from tests.browser.test_phone_layout import PHONE, log_in, overflow
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG_LABEL = "Скрипт регистрации аккаунтов для круглосуточной работы"


def test_an_owner_issues_and_revokes_a_gateway_key_on_a_phone(new_page, live_server, settings):
    settings.SITE_URL = live_server.url
    owner = User.objects.create_user(username="olga", password=PASSWORD)
    team = Team.objects.create(name="Acme", slug="acme")
    Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    make_key(team, label="Основной ключ песочницы для круглосуточной работы операторов")
    page = new_page()
    page.set_viewport_size(PHONE)
    log_in(page, "olga")

    page.goto("/t/acme/gateway/new/")
    assert overflow(page)[0] <= PHONE["width"]
    page.fill("input[name=label]", LONG_LABEL)
    page.fill("input[name=services]", "tg, wa")
    page.fill("input[name=max_price]", "25")
    page.locator("main button[type=submit]").click()

    shown = page.locator("#gateway-key")
    expect(shown).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    plain = shown.input_value()
    assert authenticate(plain) is not None
    expect(page.locator(f'[data-copy-text="{plain}"]')).to_be_visible()
    expect(page.locator("#gateway-url")).to_have_value(f"{live_server.url}/stubs/handler_api.php")
    assert overflow(page)[0] <= PHONE["width"]

    page.get_by_role("link", name="Done").click()
    expect(page.locator("main")).to_contain_text(LONG_LABEL)
    expect(page.locator("main")).not_to_contain_text(plain)
    assert overflow(page)[0] <= PHONE["width"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("main")).to_contain_text("Revoked")
    assert GatewayKey.objects.get().revoked_at is not None
    assert authenticate(plain) is None
    width, wide = overflow(page)
    assert width <= PHONE["width"], wide
