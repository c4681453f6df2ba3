"""In a real browser, on a phone-sized screen: a live board refreshes by morphing, so what the member is
typing inside it (its text and the focus) survives a refresh that changes the board."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from activations import polling
from activations.models import Activation
from activations.services import BuyRequest, activation_buy, activation_set_status
from tests.activations.conftest import register_key
from tests.browser.test_activations import log_in
from tests.conftest import sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_typing_in_a_board_survives_a_refresh_that_brings_a_new_code(
    team, alice, sandbox_url, new_page, settings
):
    settings.SANDBOX_PRICE_DRIFT = False
    api_key = register_key(team, sandbox_account("--balance", "1000", "--sms-delay", "3600"))
    owner = alice.memberships.get(team=team)
    # A forwarded number with a code: its row offers "Add a service", a form with a text field.
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="vk", country=0, forward=True)
    )
    call_command("sandbox_account", "sms", activation.upstream_id, "VK code 11111")
    polling.poll_key(api_key.pk)

    page = new_page()
    page.set_viewport_size({"width": 360, "height": 800})
    log_in(page)
    page.goto("/t/acme/activations/")
    row = page.locator(f"#act-{activation.public_id}")
    expect(row.locator(".act-code .code")).to_have_count(1)
    row.locator(f"#add-{activation.public_id} summary").click()
    field = row.locator("input[name=service]")
    field.click()
    field.press_sequentially("ma")
    expect(field).to_be_focused()

    # Meanwhile another code is asked for and arrives: the board's next polls render it.
    activation_set_status(
        membership=owner, activation=Activation.objects.get(pk=activation.pk), action="another"
    )
    call_command("sandbox_account", "sms", activation.upstream_id, "VK code 22222")
    polling.poll_key(api_key.pk)
    expect(row.locator(".act-code .code")).to_have_count(2, timeout=15_000)
    expect(row).to_contain_text("22222")
    expect(page.locator(".toast-code")).to_contain_text("22222")

    # The field is the same element: still focused, with what was typed, and typing goes on.
    expect(field).to_be_focused()
    expect(field).to_have_value("ma")
    page.keyboard.type("x")
    expect(field).to_have_value("max")
    box = row.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # the row fits a phone
