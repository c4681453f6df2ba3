"""In a real browser: log in as demo, create a second team, add a sandbox key (after a wrong one),
invite a second user through the link, make them a viewer, and see they cannot add keys or spend."""

import io
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import ApiKey, Membership, Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_data(settings, sandbox_url):
    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())
    settings.DEBUG = False


def _log_in(page, username: str, password: str) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("main button[type=submit]").click()


def test_owner_and_viewer_story(new_page, demo_data, sandbox_key, job_worker):
    owner = new_page()
    _log_in(owner, "demo", "demo")
    expect(owner).to_have_url(re.compile(r"/t/demo/$"))
    expect(owner.locator("h1")).to_have_text("Demo")

    # A second team, created from the team switcher.
    owner.locator(".switcher summary").click()
    owner.get_by_role("link", name="New team").click()
    owner.fill("input[name=name]", "Second team")
    owner.get_by_role("button", name="Create team").click()
    expect(owner).to_have_url(re.compile(r"/t/second-team/$"))
    owner.locator(".switcher summary").click()
    expect(owner.locator(".switcher .menu-panel")).to_contain_text("Demo")
    owner.keyboard.press("Escape")

    # A wrong key first: a clear message, nothing saved, the secret field comes back empty.
    owner.goto("/t/second-team/keys/")
    owner.get_by_role("link", name="Add API key").first.click()
    owner.fill("input[name=label]", "Sandbox")
    owner.select_option("select[name=profile]", "sandbox")
    owner.fill("input[name=secret]", "definitely-not-a-key-0000")
    owner.get_by_role("button", name="Check and save").click()
    expect(owner.locator("#key-form .alert-error")).to_contain_text("BAD_KEY")
    expect(owner.locator("input[name=secret]")).to_have_value("")
    assert "definitely-not-a-key" not in owner.content()

    owner.fill("input[name=secret]", sandbox_key)
    owner.get_by_role("button", name="Check and save").click()
    expect(owner).to_have_url(re.compile(r"/t/second-team/keys/[0-9a-f-]{36}/$"))
    expect(owner.locator(".balance .amount")).to_have_text("1,000.00 RUB")
    expect(owner.locator("main")).to_contain_text(f"••••{sandbox_key[-4:]}")
    assert sandbox_key not in owner.content()

    # Refresh on demand: the worker asks the provider while the balance cell says so, then the page
    # reloads with the outcome.
    owner.goto("/t/second-team/")
    owner.get_by_role("button", name="Refresh").click()
    expect(owner.locator(".flash-success")).to_contain_text("refreshed", timeout=30_000)

    # Invite through a link.
    owner.goto("/t/second-team/members/")
    owner.get_by_role("link", name="Invite a member").first.click()
    owner.select_option("select[name=role]", "operator")
    owner.get_by_role("button", name="Create invite link").click()
    link = owner.locator("#invite-link").input_value()
    assert "/invite/" in link

    guest = new_page()
    guest.goto(link)
    expect(guest.locator("h1")).to_contain_text("Join Second team")
    guest.get_by_role("link", name="Create an account and join").click()
    guest.fill("input[name=username]", "olga")
    guest.fill("input[name=password1]", "olga's long pass 9")
    guest.fill("input[name=password2]", "olga's long pass 9")
    guest.get_by_role("button", name="Sign up and join").click()
    expect(guest).to_have_url(re.compile(r"/t/second-team/$"))
    expect(guest.locator(".flash")).to_contain_text("Welcome to Second team")

    # The owner makes her a viewer.
    owner.goto("/t/second-team/members/")
    owner.locator("tr", has_text="olga").get_by_role("link", name="Edit").click()
    owner.select_option("select[name=role]", "viewer")
    owner.get_by_role("button", name="Save").click()
    expect(owner).to_have_url(re.compile(r"/t/second-team/members/$"))
    expect(owner.locator("tr", has_text="olga").locator(".badge")).to_have_text("Viewer")
    assert (
        Membership.objects.get(user=User.objects.get(username="olga"), team__slug="second-team").role
        == Role.VIEWER
    )

    # As a viewer she watches, but cannot add keys or buy.
    guest.reload()
    expect(guest.locator("main")).to_contain_text("cannot buy numbers or change keys")
    expect(guest.get_by_role("link", name="Add API key")).to_have_count(0)
    expect(guest.locator("#summary")).to_contain_text("1,000.00 RUB")
    response = guest.goto("/t/second-team/keys/new/")
    assert response.status == 403
    response = guest.goto("/t/demo/")
    assert response.status == 404


def _home_poll(response) -> bool:
    return "/t/demo/?v=" in response.url and response.request.headers.get("hx-request") == "true"


def test_the_team_home_refreshes_itself(new_page, demo_data):
    page = new_page()
    # The browser's clock lets the ten seconds between two polls pass; the test does not wait for them.
    page.clock.install()
    _log_in(page, "viewer", "viewer")
    expect(page).to_have_url(re.compile(r"/t/demo/$"))
    expect(page.locator("#summary")).to_be_visible()
    # htmx starts the poll's timer once its script has run: only then may the clock move.
    page.wait_for_load_state("load")
    # Nothing changes: the polls answer 204 (one of two may cross a minute and render the relative times).
    statuses = []
    for _ in range(2):
        with page.expect_response(_home_poll, timeout=5_000) as poll:
            page.clock.run_for(10_000)
        statuses.append(poll.value.status)
    assert 204 in statuses and set(statuses) <= {200, 204}
    # Something on the page changes: the next poll shows it without a reload.
    ApiKey.objects.filter(team__slug="demo").update(balance=Decimal("4321.5"))
    page.clock.run_for(10_000)
    expect(page.locator("#summary")).to_contain_text("4,321.50", timeout=5_000)
