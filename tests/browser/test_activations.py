"""In a real browser against the sandbox: buy a number, watch its code arrive by itself, ask for another,
finish; cancel once the provider allows it; let one expire and see the refund; export the day as CSV.

A real Celery worker with beat runs the product's schedule (the poll fan-out every second) meanwhile.
"""

import csv
import io
import os
import re
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import ApiKey
from activations.models import Activation, ActivationStatus, Sms
from tests.activations.conftest import register_key
from tests.conftest import PASSWORD, celery_worker, sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Set SIMDESK_SCREENSHOTS=/some/dir to keep screenshots of the board for a look.
SCREENSHOTS = os.environ.get("SIMDESK_SCREENSHOTS")


@pytest.fixture(autouse=True)
def _steady_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def sandbox_team_key(team, sandbox_url) -> Iterator[tuple[ApiKey, str]]:
    """The team's key for a sandbox account whose codes come 3 s after purchase; the account may cancel after 2 s."""
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3", "--cancel-lock", "2")
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    yield register_key(team, secret), secret


@pytest.fixture
def poller(sandbox_team_key, live_server, tmp_path) -> Iterator[Callable[[], None]]:
    """A real Celery worker running the whole beat schedule (poll fan-out every second, the sandbox's clock,
    webhooks); yields a function that stops it."""
    workers = ExitStack()
    workers.enter_context(celery_worker(live_server, tmp_path, beat=True))
    yield workers.close
    workers.close()


def log_in(page: Page, username: str = "alice") -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


def buy_from_form(page: Page, service: str = "tg", country: str = "0") -> None:
    page.goto("/t/acme/activations/buy/")
    page.fill("#id_service", service)
    page.fill("#id_country", country)
    expect(page.locator("#offer [data-price]")).to_be_visible()
    expect(page.locator("#offer [data-stock]")).to_contain_text("in stock")
    page.locator("#buy-submit").click()
    expect(page).to_have_url(re.compile(r"/t/acme/activations/$"))


def test_buy_see_the_code_arrive_ask_for_another_and_finish(new_page, team, sandbox_team_key, poller):
    page = new_page()
    log_in(page)
    buy_from_form(page)
    activation = Activation.objects.get()
    row = page.locator(f"#act-{activation.public_id}")
    expect(row).to_contain_text(f"+{activation.phone}")
    expect(row).to_contain_text("Telegram")
    expect(row).to_contain_text("Russia")
    expect(row.locator(".act-waiting")).to_be_visible()
    _shot(page, "board-waiting")

    # The code arrives by itself: no reload, a toast and a title badge.
    expect(row.locator(".act-code .code")).to_have_count(1, timeout=40_000)
    code = Sms.objects.get(activation=activation).code
    expect(row.locator(".act-code .code")).to_have_text(code)
    expect(page.locator(".toast-code")).to_contain_text(code)
    expect(page).to_have_title(re.compile(r"^\(1\) "))
    _shot(page, "board-code")

    row.locator("button[data-action=another]").click()
    expect(row).to_contain_text("Waiting for another code")
    call_command("sandbox_account", "sms", activation.upstream_id, "Telegram code 77777")
    expect(row.locator(".act-code .code")).to_have_count(2, timeout=40_000)
    expect(row).to_contain_text("77777")
    row.locator("button[data-action=finish]").click()
    expect(page.locator(".act-recent")).to_contain_text(f"+{activation.phone}")
    expect(page.locator(".act-live")).to_contain_text("No live numbers right now.")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED and activation.sms_count == 2
    _shot(page, "board-finished")


def test_cancel_appears_when_the_provider_allows_it(new_page, team, sandbox_team_key):
    api_key, secret = sandbox_team_key
    call_command("sandbox_account", "set", secret, "--sms-delay", "3600")
    page = new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    log_in(page)
    buy_from_form(page, service="wa")
    activation = Activation.objects.get()
    row = page.locator(f"#act-{activation.public_id}")
    expect(row.locator(".when-locked")).to_contain_text("cancel in")
    expect(row.locator("button[data-action=cancel]")).to_be_hidden()
    # simdesk knows the profile's 2-minute lock; this sandbox account allows cancelling after 2 s: say so.
    Activation.objects.filter(pk=activation.pk).update(
        cancel_allowed_at=activation.bought_at + timedelta(seconds=2), updated_at=timezone.now()
    )
    expect(row.locator("button[data-action=cancel]")).to_be_visible(timeout=15_000)
    _shot(page, "board-cancel")
    row.locator("button[data-action=cancel]").click()
    expect(page.locator(".act-recent")).to_contain_text("Cancelled")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CANCELLED


def test_export_the_day_as_csv(new_page, team, sandbox_team_key, poller):
    page = new_page()
    log_in(page)
    buy_from_form(page, service="tg")
    buy_from_form(page, service="wa")
    for activation in Activation.objects.all():
        expect(page.locator(f"#act-{activation.public_id} .act-code").first).to_be_visible(timeout=40_000)

    poller()  # no more codes from here on: the export must match the database exactly
    today = timezone.now().date().isoformat()
    page.goto(f"/t/acme/activations/history/?date_from={today}&date_to={today}")
    expect(page.locator("[data-row]")).to_have_count(2)
    with page.expect_download() as download_info:
        page.locator("#export-csv-plain").click()
    download = download_info.value
    assert download.suggested_filename.startswith("activations-acme-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    expected = {a.upstream_id: a for a in Activation.objects.all()}
    assert {r["upstream_id"] for r in rows} == set(expected)
    for r in rows:
        activation = expected[r["upstream_id"]]
        assert r["phone"] == activation.phone and r["service"] == activation.service
        codes = " ".join(activation.messages.order_by("received_at", "id").values_list("code", flat=True))
        assert codes and r["codes"] == codes
        assert r["key"] == "Sandbox" and r["member"] == "alice"
        assert r["created_at"].startswith(today) and r["created_at"].endswith("+00:00")


def test_an_expired_number_is_refunded(new_page, team, sandbox_team_key, poller):
    from accounts.models import LedgerEntry, LedgerKind
    from sandbox.models import Activation as SandboxActivation

    api_key, secret = sandbox_team_key
    call_command("sandbox_account", "set", secret, "--sms-delay", "3600")
    page = new_page()
    log_in(page)
    buy_from_form(page, service="vk")
    activation = Activation.objects.get()
    # Twenty minutes pass, for the provider (whose clock expires the number and refunds it) and for us.
    past = timezone.now() - timedelta(minutes=21)
    SandboxActivation.objects.filter(pk=int(activation.upstream_id)).update(created_at=past, expires_at=past)
    Activation.objects.filter(pk=activation.pk).update(expires_at=past)
    expect(page.locator(".act-recent")).to_contain_text("Expired", timeout=40_000)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.EXPIRED
    refund = LedgerEntry.objects.get(kind=LedgerKind.REFUND)
    assert refund.amount == -activation.cost
    page.goto("/t/acme/")
    expect(page.locator("main")).to_contain_text("0.00 RUB")
