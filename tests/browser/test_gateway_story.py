"""The gateway's whole story on a 360 px phone: an owner makes a route of two keys (the first out of Telegram
numbers) and issues a gateway key through it; a script using the official `smsactivate` client, changed
only in its address and key, buys a number, receives its code, finishes it and rents a number, while the
board shows each step live; the history's CSV carries the purchase at the key that sold it. A real Celery
worker with beat runs the schedule meanwhile."""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import LedgerEntry, Membership, Role, Team, User
from activations.models import Activation, ActivationStatus, Sms
from purchases.services import purchase_ref
from rentals.models import Rental
from tests.activations.conftest import register_key
from tests.browser.test_phone_layout import PHONE, log_in, overflow
from tests.conftest import PASSWORD, celery_worker, sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _steady_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False


@pytest.fixture
def desk(sandbox_url):
    """A team with two sandbox keys: "Tiger", out of Telegram numbers, and "Hero", whose codes come 3 s after
    a purchase; and its owner, Olga."""
    team = Team.objects.create(name="Acme", slug="acme")
    owner = User.objects.create_user(username="olga", password=PASSWORD)
    Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    keys = {}
    for label, options in (("Tiger", ("--sold-out", "tg")), ("Hero", ("--sms-delay", "3"))):
        secret = sandbox_account("--balance", "1000", *options)
        call_command("sandbox_account", "set", secret, "--no-code-share", "0")
        keys[label] = register_key(team, secret, label=label)
    return team, keys


@pytest.fixture
def workers(desk, live_server, tmp_path):
    with celery_worker(live_server, tmp_path, beat=True) as queue:
        yield queue


def narrow_enough(page) -> None:
    width, wide = overflow(page)
    assert width <= PHONE["width"], wide


def test_a_script_buys_through_a_route_while_the_board_shows_it_live(new_page, desk, workers, live_server):
    from smsactivate.api import SMSActivateAPI

    team, keys = desk
    page = new_page()
    page.set_viewport_size(PHONE)
    log_in(page, "olga")

    # A route: Tiger first, Hero next.
    page.goto("/t/acme/gateway/routes/new/")
    page.fill("#id_name", "Telegram")
    page.select_option("#id_rule", "priority")
    page.select_option("#id_key_0", label="Tiger (RUB)")
    page.select_option("#id_key_1", label="Hero (RUB)")
    narrow_enough(page)
    page.locator("main button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Fixed order")
    narrow_enough(page)

    # A gateway key through it, shown once.
    page.goto("/t/acme/gateway/new/")
    page.fill("input[name=label]", "signup-bot")
    page.select_option("#id_route", label="Telegram")
    page.locator("main button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Buys through the route “Telegram”")
    plain = page.locator("#gateway-key").input_value()
    gateway_url = page.locator("#gateway-url").input_value()

    # The script: the official client, its address and key changed, nothing else.
    script = SMSActivateAPI(plain)
    script._SMSActivateAPI__api_url = gateway_url
    page.goto("/t/acme/activations/")
    bought = script.getNumber(service="tg", country=0)
    assert set(bought) == {"activation_id", "phone"}, bought

    # Tiger refused (no numbers), Hero sold; the board shows it without a reload.
    activation = Activation.objects.get(api_key=keys["Hero"])
    assert str(bought["activation_id"]) == activation.upstream_id
    refused = Activation.objects.get(api_key=keys["Tiger"])
    assert (refused.status, refused.error_code) == (ActivationStatus.FAILED, "NO_NUMBERS")
    row = page.locator(f"#act-{activation.public_id}")
    expect(row).to_contain_text(f"+{activation.phone}")
    expect(row).to_contain_text("route Telegram")
    narrow_enough(page)

    # The code arrives through the worker; the board and the script see it.
    expect(row.locator(".act-code .code")).to_have_count(1, timeout=40_000)
    code = Sms.objects.get(activation=activation).code
    expect(row.locator(".act-code .code")).to_have_text(code)
    assert script.getStatus(id=bought["activation_id"]) == f"STATUS_OK:{code}"

    # The script finishes it; the board moves it to the recent ones.
    assert script.setStatus(id=bought["activation_id"], status=6) == "ACCESS_ACTIVATION"
    expect(page.locator(".act-recent")).to_contain_text(f"+{activation.phone}")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED

    # A rent through the same key (Tiger still rents), on the rentals board.
    page.goto("/t/acme/rentals/")
    rent = script.getRentNumber(service="tg", time=4)
    assert rent["phone"]["number"], rent
    rental = Rental.objects.get()
    assert (rental.api_key, rental.route.name) == (keys["Tiger"], "Telegram")
    expect(page.locator(f"#rental-{rental.public_id}")).to_contain_text(f"+{rental.phone}")
    narrow_enough(page)

    # The history's CSV: the purchase at the key that sold it, its net equal to the ledger.
    page.goto("/t/acme/activations/history/")
    expect(page.locator("main")).to_contain_text("through the route Telegram")
    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    text = Path(download_info.value.path()).read_bytes().decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(text.splitlines()[0], delimiters=";,")
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    sold = [r for r in rows if r["Phone"].lstrip("+") == activation.phone]
    assert len(sold) == 1 and sold[0]["Key"] == "Hero", rows
    ledger = sum(
        e.amount for e in LedgerEntry.objects.filter(team=team, purchase_ref=purchase_ref(activation))
    )
    assert re.sub(",", ".", sold[0]["Net spent"]) == f"{ledger:.2f}" or sold[0]["Net spent"] == str(ledger)
