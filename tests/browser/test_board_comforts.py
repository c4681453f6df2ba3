"""In a real browser on a 390 px phone: the live board's copy, finish and cancel are thumb-sized; bulk
finish asks once, stating the count, and closes exactly the numbers with a code; the desktop-notification
toggle asks for permission only when ticked and remembers the choice."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from accounts.models import Membership
from activations import polling
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from tests.activations.conftest import register_key
from tests.conftest import PASSWORD, sandbox_account, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Set SIMDESK_SCREENSHOTS=/some/dir to keep a screenshot of the board on the phone for a look.
SCREENSHOTS = os.environ.get("SIMDESK_SCREENSHOTS")


@pytest.fixture(autouse=True)
def _steady_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False


def log_in(page: Page) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/accounts/login/"))


@pytest.fixture
def board_rows(team, alice, sandbox_url):
    """Two numbers with a code and one waiting past its lock."""
    owner = Membership.objects.get(team=team, user=alice)
    coded_secret = sandbox_account("--balance", "1000", "--sms-delay", "0")
    call_command("sandbox_account", "set", coded_secret, "--no-code-share", "0")
    coded_key = register_key(team, coded_secret)
    waiting_key = register_key(
        team, sandbox_account("--balance", "1000", "--sms-delay", "3600", "--cancel-lock", "0")
    )
    coded = [
        activation_buy(membership=owner, api_key=coded_key, request=BuyRequest(service=service, country=0))
        for service in ("tg", "wa")
    ]
    waiting = activation_buy(
        membership=owner, api_key=waiting_key, request=BuyRequest(service="vk", country=0)
    )
    Activation.objects.filter(pk=waiting.pk).update(cancel_allowed_at=timezone.now() - timedelta(seconds=1))
    polling.poll_key(coded_key.pk)
    return coded, waiting


def test_bulk_finish_asks_once_and_the_actions_fit_a_thumb(chromium, live_server, board_rows):
    coded, waiting = board_rows
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE, has_touch=True)
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        log_in(page)
        page.goto("/t/acme/activations/")
        expect(page.locator('[data-bulk="finish"]')).to_be_visible()
        if SCREENSHOTS:
            Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(SCREENSHOTS) / "board-phone.png"), full_page=True)

        # Copy, finish and cancel: at least 44 x 44 px, and no two of them overlap.
        targets = page.locator(
            '.act-live [data-copy-text], .act-live [data-action="finish"], .act-live [data-action="cancel"], .act-bulk .btn'
        )
        boxes = [targets.nth(i).bounding_box() for i in range(targets.count())]
        boxes = [box for box in boxes if box]
        assert len(boxes) >= 6
        for box in boxes:
            assert box["width"] >= 44 and box["height"] >= 44, box
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                apart = (
                    a["x"] + a["width"] <= b["x"]
                    or b["x"] + b["width"] <= a["x"]
                    or a["y"] + a["height"] <= b["y"]
                    or b["y"] + b["height"] <= a["y"]
                )
                assert apart, (a, b)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # Declined: nothing happens. Accepted: one request closes the two numbers with a code.
        questions = []
        page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.dismiss()))
        page.locator('[data-bulk="finish"]').click()
        page.wait_for_timeout(500)
        assert questions == ["Finish 2 numbers with a code?"]
        assert Activation.objects.filter(status=ActivationStatus.FINISHED).count() == 0

        page.once("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
        page.locator('[data-bulk="finish"]').click()
        expect(page.locator(".toast", has_text="Finished 2 numbers")).to_be_visible()
        assert wait_for(lambda: Activation.objects.filter(status=ActivationStatus.FINISHED).count() == 2)
        waiting.refresh_from_db()
        assert waiting.status == ActivationStatus.WAITING
        expect(page.locator('[data-bulk="finish"]')).to_have_count(0)
        expect(page.locator('[data-bulk="cancel"]')).to_be_visible()
    finally:
        context.close()


def test_the_notification_toggle_asks_only_when_ticked(chromium, live_server, team, alice):
    context = chromium.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(15_000)
    try:
        context.grant_permissions(["notifications"])
        page = context.new_page()
        log_in(page)
        page.goto("/t/acme/activations/")
        toggle = page.locator("[data-notify-toggle]")
        expect(toggle).to_be_visible()
        expect(toggle).not_to_be_checked()
        assert page.evaluate("localStorage.getItem('simdesk.codeNotify')") is None
        toggle.check()
        assert wait_for(lambda: page.evaluate("localStorage.getItem('simdesk.codeNotify')") == "1", timeout=5)
        page.reload()
        expect(page.locator("[data-notify-toggle]")).to_be_checked()
        page.locator("[data-notify-toggle]").uncheck()
        assert page.evaluate("localStorage.getItem('simdesk.codeNotify')") == "0"
    finally:
        context.close()
