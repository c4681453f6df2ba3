"""In a real browser: rent a sandbox number, watch its SMS arrive on the board, extend it, set auto-renew
and watch a renewal happen, cancel another one within 20 minutes and see the refund, and export the
rentals as CSV. A real Celery worker
with beat runs the product's schedule meanwhile (rent polls, the sandbox's clock and webhooks)."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import LedgerEntry, LedgerKind, Membership, Role, Team, User
from rentals.models import Rental
from rentals.tasks import renew_rentals
from tests.activations.conftest import register_key
from tests.conftest import PASSWORD, celery_worker, sandbox_account
from tests.rentals.conftest import shift_end

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(sandbox_url, settings):
    settings.SANDBOX_PRICE_DRIFT = False
    user = User.objects.create_user(username="rita", password=PASSWORD)
    team = Team.objects.create(name="Rent desk", slug="rent-desk")
    Membership.objects.create(team=team, user=user, role=Role.OWNER)
    api_key = register_key(team, sandbox_account("--balance", "1000", "--sms-delay", "3600"))
    return team, api_key


def _log_in(page) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "rita")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()


def _rent(page, service: str) -> None:
    page.goto("/t/rent-desk/rentals/")
    page.get_by_role("link", name="Rent a number").first.click()
    expect(page.locator(f'tr[data-service="{service}"]')).to_be_visible()
    price = page.locator(f'tr[data-service="{service}"] td.num').first.inner_text().strip()
    asked: list[str] = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    # The confirmation is the page's script's: a click before it has run would send the form unasked.
    page.wait_for_load_state("load")
    page.locator(f'button[data-rent="{service}"]').click()
    expect(page).to_have_url(re.compile(r"/t/rent-desk/rentals/$"))
    assert len(asked) == 1 and price in asked[0], (asked, price)  # asked once, with the price


@pytest.fixture
def workers(live_server, tmp_path):
    with celery_worker(live_server, tmp_path, beat=True) as queue:
        yield queue


def test_rent_receive_extend_cancel_and_export(new_page, desk, workers):
    team, api_key = desk
    page = new_page()
    _log_in(page)
    page.goto("/t/rent-desk/")
    page.get_by_role("link", name="Rentals").click()
    expect(page.locator("h1")).to_have_text("Rentals")

    # Rent a number: it appears on the board with its countdown.
    _rent(page, "tg")
    first = Rental.objects.get()
    card = page.locator(f"#rental-{first.public_id}")
    expect(card.locator(".rent-phone")).to_have_text(f"+{first.phone}")
    expect(card.locator(".rent-countdown")).to_contain_text(":")

    # Two SMS arrive upstream; the worker stores them and the board shows them without a reload.
    call_command("sandbox_account", "sms", first.upstream_id, "Telegram code 246810")
    call_command("sandbox_account", "sms", first.upstream_id, "Your login code 135790")
    expect(card.locator(".rent-sms")).to_have_count(2, timeout=40_000)
    expect(card.locator("mark.code").first).to_have_text(re.compile(r"246810|135790"))
    expect(page.locator("#toasts")).to_contain_text(f"+{first.phone}")

    # Extend it by 12 hours: the price is shown first.
    card.get_by_role("link", name="Extend").click()
    page.fill("input[name=hours]", "12")
    expect(page.locator(".rent-price")).to_be_visible()
    page.get_by_role("button", name="Extend").click()
    expect(page).to_have_url(re.compile(r"/t/rent-desk/rentals/$"))
    expect(page.locator(".flash")).to_contain_text("extended by 12 h")
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1

    # Set auto-renew; when the end comes near, the worker renews it and the board shows the new end.
    card.get_by_role("link", name="Auto-renew").first.click()
    page.check("input[name=enabled]")
    page.fill("input[name=before_hours]", "1")
    page.fill("input[name=hours]", "4")
    page.fill("input[name=budget]", "500")
    page.locator("#auto-renew-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/t/rent-desk/rentals/$"))
    expect(card).to_contain_text("auto-renew on")
    soon = timezone.now() + timedelta(minutes=30)
    shift_end(first, to=soon)  # time travel, here and at the provider: 30 minutes left
    renew_rentals.apply_async(queue=workers)
    expect(card.locator(".rent-countdown")).to_contain_text(re.compile(r"^4:[0-3]\d:"), timeout=40_000)
    first.refresh_from_db()
    assert abs(first.ends_at - (soon + timedelta(hours=4))) < timedelta(seconds=5)
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 2

    # Rent another and cancel it within 20 minutes: refunded.
    _rent(page, "full")
    second = Rental.objects.exclude(pk=first.pk).get()
    other = page.locator(f"#rental-{second.public_id}")
    page.once("dialog", lambda dialog: dialog.accept())
    other.locator('button[data-action="cancel"]').click()
    expect(page.locator("#toasts")).to_contain_text("comes back")
    second.refresh_from_db()
    assert second.status == "cancelled"
    assert LedgerEntry.objects.get(kind=LedgerKind.REFUND).amount == -second.cost

    # Export the rentals as CSV.
    with page.expect_download() as download:
        page.locator("#export-rentals-plain").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("id,rent_id,previous_rent_id,phone")
    assert first.phone in text and second.phone in text
