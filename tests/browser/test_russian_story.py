"""The operator's whole story in Russian on a 390 x 844 phone: log in, buy a number by its names, see the
code arrive, finish, rent a number, export the history for a spreadsheet. On every page: no interface word
in English and nothing wider than the screen. A real Celery worker with beat runs the schedule meanwhile.

The browser speaks Russian (Accept-Language); the member has chosen no language, so that is the default.
"""

import csv
import io
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from accounts.models import LedgerEntry, Membership, Role, Team, User
from activations.models import Activation, ActivationStatus, Sms
from purchases.services import purchase_ref
from rentals.models import Rental
from tests.activations.conftest import register_key
from tests.conftest import PASSWORD, celery_worker, sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
# Set SIMDESK_SCREENSHOTS=/some/dir to keep a screenshot of every page the story checks.
SCREENSHOTS = os.environ.get("SIMDESK_SCREENSHOTS")

# Latin words a Russian page may show: names of things (brands, the product, units), not interface words.
NAMES = {
    "simdesk",
    "SMS",
    "API",
    "CSV",
    "Excel",
    "RFC",
    "RUB",
    "USD",
    "URL",
    "ID",
    "id",
    "Sandbox",
    "HeroSMS",
    "SMS-Activate",
    "full",
    "Europe",
    "Moscow",
    "UTC",
    "English",
    "beeline",
    "megafon",
    "mts",
    "rostelecom",
    "tele",
    "yota",
    "oleg",
}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]+")
MASKED_SECRET = re.compile(r"•+\w+")
ZONE_ID = re.compile(r"[A-Z][\w-]+/[\w/ -]+ \(UTC[+-]\d\d:\d\d\)")

# The text a reader sees or hears: visible text, plus the labels and hints of visible elements.
PAGE_WORDS = """() => {
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label], img[alt]')) {
    if (el.getClientRects().length === 0) continue;
    for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
      if (el.hasAttribute(a)) parts.push(el.getAttribute(a));
    }
  }
  return parts.join('\\n');
}"""


def english_words(page: Page) -> set[str]:
    """Latin words on the page that are not names of things (brands, codes, units)."""
    text = page.evaluate(PAGE_WORDS)
    # Numbers' own Latin (upstream ids, phone numbers) and the codes of the catalogue are names too.
    return english_words_in(text)


def scroll_width(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def check_page(page: Page, where: str) -> None:
    """The page is Russian through and through and fits the phone's width."""
    page.wait_for_load_state("networkidle")
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        name = re.sub(r"\W+", "-", where).strip("-")
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)
    words = english_words(page)
    if words:
        text = page.evaluate(PAGE_WORDS)
        context = [line for line in text.splitlines() if any(word in line for word in words)]
        raise AssertionError(f"{where}: English words {sorted(words)} in {context}")
    assert scroll_width(page) <= PHONE["width"], f"{where}: {scroll_width(page)} px wide"


@pytest.fixture(autouse=True)
def _steady_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False


@pytest.fixture
def desk(sandbox_url):
    """A Moscow team with one sandbox key (codes come 3 s after purchase) and its operator, Oleg."""
    team = Team.objects.create(name="Команда Олега", slug="komanda", time_zone="Europe/Moscow")
    user = User.objects.create_user(username="oleg", password=PASSWORD)
    Membership.objects.create(team=team, user=user, role=Role.OPERATOR)
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3")
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    api_key = register_key(team, secret, label="Основной")
    return team, api_key


@pytest.fixture
def workers(desk, live_server, tmp_path):
    with celery_worker(live_server, tmp_path, beat=True) as queue:
        yield queue


@pytest.fixture
def phone(chromium, live_server):
    context = chromium.new_context(
        base_url=live_server.url, viewport=PHONE, locale="ru-RU", timezone_id="Europe/Moscow", is_mobile=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def test_the_operators_story_in_russian_on_a_phone(phone, desk, workers, tmp_path):
    team, api_key = desk
    page = phone

    # Log in.
    page.goto("/accounts/login/")
    check_page(page, "login")
    page.fill("input[name=username]", "oleg")
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/t/komanda/$"))
    check_page(page, "overview")

    # The menu button opens every section.
    menu = page.locator("[aria-controls][aria-expanded]").first
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("link", name="Аренда").first).to_be_visible()
    check_page(page, "overview, menu open")

    # Buy Telegram in Russia, both chosen by their names.
    page.goto("/t/komanda/activations/buy/")
    check_page(page, "buy form")
    page.fill("#id_service", "Telegram")
    page.fill("#id_country", "Россия")
    expect(page.locator("#offer [data-price]")).to_be_visible()
    check_page(page, "buy form with the offer")
    page.locator("#buy-submit").click()
    expect(page).to_have_url(re.compile(r"/t/komanda/activations/$"))
    activation = Activation.objects.get()
    row = page.locator(f"#act-{activation.public_id}")
    expect(row).to_contain_text(f"+{activation.phone}")
    expect(row).to_contain_text("Россия")
    expect(page.locator(".flash-success")).to_contain_text(f"+{activation.phone} для Telegram")
    check_page(page, "board, waiting for the code")

    # The code arrives by itself.
    expect(row.locator(".act-code .code")).to_have_count(1, timeout=40_000)
    code = Sms.objects.get(activation=activation).code
    expect(row.locator(".act-code .code")).to_have_text(code)
    check_page(page, "board with the code")

    # Finish: thumb-sized, and the board says so in Russian.
    finish = row.locator("button[data-action=finish]")
    box = finish.bounding_box()
    assert box and box["height"] >= 40 and box["width"] >= 40, box
    finish.click()
    expect(page.locator(".act-recent")).to_contain_text(f"+{activation.phone}")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
    check_page(page, "board after finishing")

    # Rent a number: the price is asked about once, in Russian.
    page.goto("/t/komanda/rentals/")
    check_page(page, "rentals board")
    page.goto("/t/komanda/rentals/rent/")
    check_page(page, "rent form")
    expect(page.locator('button[data-rent="tg"]')).to_be_visible()
    asked: list[str] = []
    page.once("dialog", lambda dialog: asked.append(dialog.message))
    page.locator('button[data-rent="tg"]').click()
    expect(page).to_have_url(re.compile(r"/t/komanda/rentals/$"))
    rental = Rental.objects.get()
    expect(page.locator(f"#rental-{rental.public_id}")).to_contain_text(f"+{rental.phone}")
    assert asked and "Арендовать" in asked[0] and not english_words_in(asked[0]), asked
    check_page(page, "rentals board with the rent")

    # The history, and its export for a Russian spreadsheet: `;`, decimal commas, a BOM, Moscow times.
    page.goto("/t/komanda/activations/history/")
    check_page(page, "history")
    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")

    class RussianExcel(csv.excel):
        delimiter = ";"

    rows = list(csv.reader(io.StringIO(text), dialect=RussianExcel))
    header, body = rows[0], rows[1:]
    assert not {word for cell in header for word in LATIN_WORD.findall(cell)} - NAMES, header
    assert len(body) == 1
    # The rows speak Russian too: statuses as words, names beside codes; Latin only in names.
    cells = " ".join(cell for row in body for cell in row)
    assert not english_words_in(cells) - {"oleg"}, english_words_in(cells)
    assert "Завершён" in body[0]
    with translation.override("ru"):
        net = header.index(gettext("Net spent"))
    spent = sum(Decimal(r[net].replace(",", ".")) for r in body if r[net])
    ledger = sum(
        e.amount for e in LedgerEntry.objects.filter(team=team, purchase_ref=purchase_ref(activation))
    )
    assert spent == ledger == activation.cost

    for path in (
        "/t/komanda/activations/history/",
        "/t/komanda/rentals/history/",
        "/t/komanda/prices/",
        "/t/komanda/keys/",
        "/t/komanda/members/",
        "/me/preferences/",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        check_page(page, path)


def catalogue_names() -> set[str]:
    """The provider's own words: its services' names and codes and its operators (data, not interface)."""
    from sandbox.models import Service

    names = set()
    for code, name in Service.objects.values_list("code", "name"):
        names.add(code)
        names.update(word.strip("-'’") for word in LATIN_WORD.findall(name))
    return names


def english_words_in(text: str) -> set[str]:
    """Latin words in `text` that are not names ("SMS-коды" counts as SMS)."""
    text = MASKED_SECRET.sub("", text)  # a key's last four characters are hex
    text = ZONE_ID.sub("", text)  # the IANA names of time zones beyond the common ones are identifiers
    words = {word.strip("-'’") for word in LATIN_WORD.findall(text)}
    return {word for word in words if word and word not in NAMES and word not in catalogue_names()}
