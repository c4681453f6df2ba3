"""In a real browser: two purchases whose answers were lost, one unknown number each could be. The owner
chooses the right one on the board (on a phone-sized screen), and the other settles by itself."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from activations import polling
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from tests.activations.conftest import ledger_net, provider_charged, register_key
from tests.browser.test_activations import log_in
from tests.conftest import sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_chooses_the_number_of_a_lost_purchase_on_the_board(
    team, alice, sandbox_url, new_page, settings
):
    settings.SANDBOX_PRICE_DRIFT = False
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600")
    api_key = register_key(team, secret)
    membership = alice.memberships.get(team=team)
    call_command("sandbox_account", "set", secret, "--fault", "after_commit=1")
    lost = [
        activation_buy(membership=membership, api_key=api_key, request=BuyRequest(service="tg", country=0))
        for _ in range(2)
    ]
    call_command("sandbox_account", "set", secret, "--fault", "after_commit=0")
    polling.poll_key(api_key.pk)

    page = new_page()
    page.set_viewport_size({"width": 360, "height": 800})
    log_in(page, "alice")
    page.goto("/t/acme/activations/")
    choices = page.locator("form.purchase-choice")
    expect(choices).to_have_count(2)
    first = choices.first
    box = first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360  # the choice fits a phone
    first.locator("input[type=radio]").first.check()
    first.locator("button[data-action=resolve]").click()
    remaining = page.locator("form.purchase-choice")
    expect(remaining).to_have_count(1)  # the other has one candidate left...
    expect(remaining.locator("input[type=radio]")).to_have_count(1)
    polling.poll_key(api_key.pk)  # ...which the next poll settles by itself
    page.reload()
    expect(page.locator("form.purchase-choice")).to_have_count(0)
    statuses = sorted(Activation.objects.filter(pk__in=[a.pk for a in lost]).values_list("status", flat=True))
    assert statuses == [ActivationStatus.WAITING, ActivationStatus.WAITING]
    assert ledger_net(api_key) == provider_charged(secret)
