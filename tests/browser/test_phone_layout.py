"""In a real browser at 360 x 740 (a small phone): every page fits the screen (no horizontal scroll) with
real data and long names, and the menu button opens every section of the team, by touch and by keyboard."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Membership, Role, Team, User
from accounts.services import invite_create
from activations import polling
from activations.models import Activation, Preset
from activations.services import BuyRequest, activation_buy, activation_set_status
from prices.models import PriceAlert
from prices.tasks import snapshot_team_prices
from rentals.models import Rental
from rentals.services import RentRequest, rental_rent
from tests.activations.conftest import register_key
from tests.conftest import PASSWORD, sandbox_account

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 360, "height": 740}
LONG_TEAM = "Международная команда операторов по приёму SMS-кодов"
LONG_USER = "konstantin.vladimirovich.rozhdestvensky"
LONG_LABEL = "Основной ключ песочницы для круглосуточной работы операторов"


@pytest.fixture
def desk(sandbox_url, settings):
    """A team with a long name, a long-named operator and key, numbers, rentals and audit entries."""
    settings.SANDBOX_PRICE_DRIFT = False
    owner = User.objects.create_user(username=LONG_USER, password=PASSWORD, email="k@example.com")
    team = Team.objects.create(name=LONG_TEAM, slug="phone")
    membership = Membership.objects.create(team=team, user=owner, role=Role.OWNER)
    other = Team.objects.create(name="Вторая команда с очень длинным названием для меню", slug="second")
    Membership.objects.create(team=other, user=owner, role=Role.VIEWER)
    operator = User.objects.create_user(username="anastasia.alexandrovna.operator", password=PASSWORD)
    Membership.objects.create(team=team, user=operator, role=Role.OPERATOR)
    api_key = register_key(
        team, sandbox_account("--balance", "5000", "--sms-delay", "3600"), label=LONG_LABEL
    )
    bought = [
        activation_buy(membership=membership, api_key=api_key, request=BuyRequest(service=service, country=0))
        for service in ("vk", "tg", "wa")
    ]
    # One of them gets its code and is finished (a slow machine may leave a purchase unsettled: not that one).
    activation = next(a for a in bought if a.upstream_id)
    call_command(
        "sandbox_account", "sms", activation.upstream_id, "Your code 123456, do not share it with anyone"
    )
    polling.poll_key(api_key.pk)
    activation_set_status(
        membership=membership, activation=Activation.objects.get(pk=activation.pk), action="finish"
    )
    for service in ("tg", "wa"):
        rental_rent(membership=membership, api_key=api_key, request=RentRequest(service=service, country=0))
    Preset.objects.create(
        team=team, api_key=api_key, name="Телеграм для регистрации аккаунтов " * 2, service="tg", country=0
    )
    PriceAlert.objects.create(team=team, api_key=api_key, service="tg", country=0, price_below=100)
    invite_create(
        membership=membership, role=Role.OPERATOR, email="a.very.long.address.for.testing@example.com"
    )
    snapshot_team_prices(team.pk)
    return team, api_key, owner


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("main button[type=submit]").click()
    expect(page).not_to_have_url("/accounts/login/")


def overflow(page) -> tuple[int, list[str]]:
    """The document's scroll width and the elements that stick out past the screen's right edge."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const wide = [];
            const sticksOut = (el) => el.getBoundingClientRect().right > width + 0.5;
            for (const el of document.querySelectorAll('body *')) {
                const box = el.getBoundingClientRect();
                // The outermost element that sticks out (its parent fits), not each of its ancestors.
                if (box.width && sticksOut(el) && !sticksOut(el.parentElement) && !el.closest('details:not([open]) > :not(summary)')) {
                    wide.push(el.tagName.toLowerCase() + '.' + el.className + ' ' + Math.round(box.right));
                }
            }
            return [document.documentElement.scrollWidth, wide.slice(0, 8)];
        }"""
    )


def team_pages(team, api_key, owner) -> list[str]:
    base = f"/t/{team.slug}/"
    member = Membership.objects.filter(team=team).exclude(user=owner).first()
    rental = Rental.objects.filter(team=team).first()
    pages = [
        base,
        base + "activations/",
        base + "activations/buy/",
        base + "activations/buy/multi/",
        base + "activations/history/",
        base + "rentals/",
        base + "rentals/rent/",
        base + "rentals/history/",
        base + "prices/",
        base + "prices/history/",
        base + "prices/compare/",
        base + "prices/money/",
        base + "prices/catalog/",
        base + "keys/",
        base + f"keys/{api_key.public_id}/",
        base + f"keys/{api_key.public_id}/edit/",
        base + f"keys/{api_key.public_id}/rotate/",
        base + "keys/new/",
        base + "gateway/",
        base + "gateway/new/",
        base + "members/",
        base + f"members/{member.public_id}/",
        base + "members/invite/",
        base + "settings/",
        base + "audit/",
        reverse("password_change"),
        reverse("accounts:team_create"),
        base + "activations/history/?page=nowhere&service=zz",
    ]
    pages += [base + f"rentals/{rental.public_id}/extend/", base + f"rentals/{rental.public_id}/auto-renew/"]
    return pages


def test_every_page_fits_a_small_phone(new_page, desk):
    team, api_key, owner = desk
    page = new_page()
    page.set_viewport_size(PHONE)
    too_wide = {}
    for url in ["/accounts/login/", reverse("password_reset"), "/nowhere/"]:  # before logging in
        page.goto(url)
        width, wide = overflow(page)
        if width > PHONE["width"]:
            too_wide[url] = (width, wide)
    log_in(page, LONG_USER)
    for url in team_pages(team, api_key, owner):
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("networkidle")
        width, wide = overflow(page)
        if width > PHONE["width"]:
            too_wide[url] = (width, wide)
    # A stacked row says what each value is: the column's heading stands above it.
    page.goto(f"/t/{team.slug}/activations/history/")
    status = page.locator("table.table-stack tbody tr").first.locator("td:has(.badge)").first
    label = status.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert label == '"Status"'
    assert too_wide == {}, "\n".join(f"{url}: {width}px {wide}" for url, (width, wide) in too_wide.items())


def test_error_pages_fit_a_small_phone_and_keep_the_menu(new_page, desk, settings):
    settings.DEBUG = False
    team, _api_key, _owner = desk
    page = new_page()
    page.set_viewport_size(PHONE)
    log_in(page, LONG_USER)
    response = page.goto(f"/t/{team.slug}/activations/nowhere/")
    assert response.status == 404
    assert overflow(page)[0] <= PHONE["width"]
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#teamnav").get_by_role("link", name="Rentals")).to_be_visible()


def test_the_menu_button_opens_every_section_by_touch_and_keyboard(new_page, desk):
    team, _api_key, _owner = desk
    page = new_page()
    page.set_viewport_size(PHONE)
    log_in(page, LONG_USER)
    page.goto(f"/t/{team.slug}/activations/history/")
    button = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Team")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "teamnav")
    expect(nav).to_be_hidden()

    # By keyboard: Tab reaches the button, Enter opens the panel, Escape closes it and keeps the focus.
    page.locator("body").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.hasAttribute('data-navtoggle')"):
            break
    expect(button).to_be_focused()
    page.keyboard.press("Enter")
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    sections = {
        "Overview": f"/t/{team.slug}/",
        "Activations": f"/t/{team.slug}/activations/",
        "History": f"/t/{team.slug}/activations/history/",
        "Rentals": f"/t/{team.slug}/rentals/",
        "Prices": f"/t/{team.slug}/prices/",
        "API keys": f"/t/{team.slug}/keys/",
        "Gateway": f"/t/{team.slug}/gateway/",
        "Members": f"/t/{team.slug}/members/",
        "Audit log": f"/t/{team.slug}/audit/",
    }
    for name, href in sections.items():
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        expect(link).to_have_attribute("href", href)
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], name
    assert overflow(page)[0] <= PHONE["width"]
    page.keyboard.press("Tab")  # the first section is next in the tab order
    expect(nav.get_by_role("link", name="Overview")).to_be_focused()
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    expect(button).to_be_focused()

    # By touch: a tap opens it, a tap on a section goes there; a tap elsewhere closes it.
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Rentals").click()
    expect(page).to_have_url(re.compile(rf"/t/{team.slug}/rentals/$"))
    button = page.get_by_role("button", name="Menu")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(nav).to_be_visible()
    page.mouse.click(PHONE["width"] // 2, PHONE["height"] - 20)  # below the panel
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()

    # On a wide screen the sections are in the bar and the button is gone.
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(button).to_be_hidden()
    expect(nav.get_by_role("link", name="Members")).to_be_visible()
