"""The live board's comforts, over the Django client against the sandbox over HTTP: filters and sort that
survive the polling (204 with a filter), bulk finish and cancel with one confirmation, the cancel countdown
rounded up, the desktop-notification toggle, the key's balance on the buy forms and the price shown before
a preset's one-click buy."""

import html
import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, LedgerEntry, LedgerKind, Membership, Team
from activations import polling
from activations.models import Activation, ActivationStatus, Preset, Sms
from activations.services import BuyRequest, activation_buy
from kit.formats import countdown_text
from providers.keys import client_for_key
from tests.conftest import login, sandbox_account

from .conftest import register_key


@pytest.fixture(autouse=True)
def _fresh_catalog_cache():
    cache.clear()
    yield
    cache.clear()


def url(name: str, team) -> str:
    return reverse(f"activations:{name}", args=[team.slug])


def htmx(**extra) -> dict:
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "board", **extra}


def buy(membership: Membership, api_key: ApiKey, service: str = "tg") -> Activation:
    return activation_buy(
        membership=membership, api_key=api_key, request=BuyRequest(service=service, country=0)
    )


def poll_url(page: str) -> str:
    """The board's own poll URL (its hx-get), unescaped."""
    match = re.search(r'id="board"[^>]*?hx-get="([^"]+)"', page, re.S)
    assert match, "the board has no poll URL"
    return html.unescape(match.group(1))


def confirm_of(page: str, action: str) -> str:
    """The confirmation question of a bulk action's form."""
    match = re.search(
        r'<form[^>]*data-confirm="([^"]+)"[^>]*>\s*<input[^>]*>\s*<input type="hidden" name="action" '
        rf'value="{action}"',
        page,
    )
    assert match, f"no bulk {action} form"
    return html.unescape(match.group(1))


def phones_in_order(page: str, activations: list[Activation]) -> list[str]:
    return sorted((a.phone for a in activations), key=lambda phone: page.index(f"+{phone}"))


# --- filters and sort ----------------------------------------------------------------------------


@pytest.fixture
def two_keys(team, make_key):
    first, _ = make_key("--sms-delay", "3600")
    second, _ = make_key("--sms-delay", "3600")
    second.label = "Second"
    second.save()
    return first, second


def test_it_filters_the_board_by_service_member_key_and_mine(team, alice, bob, owner, operator, two_keys):
    first, second = two_keys
    tg = buy(owner, first, "tg")
    wa = buy(operator, second, "wa")
    client = login(alice)

    page = client.get(url("board", team), {"service": "TG"}).content.decode()
    assert f"+{tg.phone}" in page and f"+{wa.phone}" not in page
    page = client.get(url("board", team), {"api_key": second.public_id}).content.decode()
    assert f"+{wa.phone}" in page and f"+{tg.phone}" not in page
    page = client.get(url("board", team), {"member": bob.public_id}).content.decode()
    assert f"+{wa.phone}" in page and f"+{tg.phone}" not in page
    page = client.get(url("board", team), {"mine": "on"}).content.decode()
    assert f"+{tg.phone}" in page and f"+{wa.phone}" not in page
    page = login(bob).get(url("board", team), {"mine": "on"}).content.decode()
    assert f"+{wa.phone}" in page and f"+{tg.phone}" not in page


def test_a_key_or_member_of_another_team_filters_nothing_and_says_so(team, alice, charlie, two_keys, owner):
    first, _second = two_keys
    tg = buy(owner, first)
    foreign = register_key(
        Team.objects.get(slug="other"), sandbox_account("--balance", "10"), label="Elsewhere"
    )
    page = login(alice).get(url("board", team), {"api_key": foreign.public_id}).content.decode()
    assert f"+{tg.phone}" in page and "Ignored, so nothing is filtered by it" in page
    assert foreign.label not in page.split('id="board"')[0].split('id="board-filters"')[1]
    page = login(alice).get(url("board", team), {"member": charlie.public_id}).content.decode()
    assert f"+{tg.phone}" in page and "charlie" not in page


def test_an_operator_cannot_filter_their_way_to_a_key_not_granted(team, alice, bob, owner, two_keys):
    first, second = two_keys
    second.restrict_to_members = True
    second.save()
    hidden = buy(owner, second, "wa")
    page = login(bob).get(url("board", team), {"api_key": second.public_id}).content.decode()
    assert f"+{hidden.phone}" not in page


def test_it_sorts_newest_oldest_expiring_and_by_service(team, alice, owner, two_keys):
    first, _second = two_keys
    rows = [buy(owner, first, service) for service in ("wa", "tg", "vk")]
    # The middle one expires first, the newest last.
    for minutes, row in zip((10, 2, 15), rows, strict=True):
        Activation.objects.filter(pk=row.pk).update(expires_at=timezone.now() + timedelta(minutes=minutes))
    client = login(alice)

    def order(sort: str | None) -> list[str]:
        page = client.get(url("board", team), {"sort": sort} if sort else {}).content.decode()
        return phones_in_order(page.split("act-recent")[0], rows)

    newest = [rows[2].phone, rows[1].phone, rows[0].phone]
    assert order(None) == newest and order("newest") == newest
    assert order("oldest") == [rows[0].phone, rows[1].phone, rows[2].phone]
    assert order("expiring") == [rows[1].phone, rows[0].phone, rows[2].phone]
    assert order("service") == [rows[1].phone, rows[2].phone, rows[0].phone]  # tg, vk, wa
    assert order("sideways") == newest  # an unknown order is ignored


def test_the_poll_url_carries_the_filters_and_a_filtered_board_answers_204(
    team, alice, owner, two_keys, django_assert_max_num_queries
):
    first, second = two_keys
    tg = buy(owner, first, "tg")
    client = login(alice)
    first_poll = client.get(url("board", team), {"service": "tg", "sort": "oldest"}, **htmx())
    assert first_poll.status_code == 200
    poll = poll_url(first_poll.content.decode())
    assert "service=tg" in poll and "sort=oldest" in poll and "v=" in poll
    with django_assert_max_num_queries(4):
        assert client.get(poll, **htmx()).status_code == 204

    # A number of another service changes nothing the filtered board shows: still 204.
    buy(owner, second, "wa")
    assert client.get(poll, **htmx()).status_code == 204
    # The same token for another filter is not this board: it is rendered again.
    token = poll.split("v=")[1]
    other = client.get(url("board", team), {"service": "wa", "v": token}, **htmx())
    assert other.status_code == 200 and "service=wa" in poll_url(other.content.decode())
    # A change among the filtered rows renders the board again, with the filters kept.
    Activation.objects.filter(pk=tg.pk).update(updated_at=timezone.now() + timedelta(seconds=1))
    # Written past the purchase core: the cached version holds until it expires (a second; cleared here).
    cache.clear()
    changed = client.get(poll, **htmx())
    assert changed.status_code == 200 and f"+{tg.phone}" in changed.content.decode()
    assert "service=tg" in poll_url(changed.content.decode())


def test_a_lock_running_out_renders_the_board_again_for_the_bulk_cancel(team, alice, owner, two_keys):
    first, _second = two_keys
    waiting = buy(owner, first)
    client = login(alice)
    board = client.get(url("board", team), **htmx()).content.decode()
    assert 'data-bulk="cancel"' not in board
    poll = poll_url(board)
    assert client.get(poll, **htmx()).status_code == 204
    # No row changes when the provider's lock runs out; the board still has to offer the bulk cancel.
    Activation.objects.filter(pk=waiting.pk).update(cancel_allowed_at=timezone.now() - timedelta(seconds=1))
    Activation.objects.filter(pk=waiting.pk).update(updated_at=waiting.updated_at)
    # Time passing changes no row: the cached version expires after a second (cleared here), then it counts.
    cache.clear()
    again = client.get(poll, **htmx())
    assert again.status_code == 200
    assert confirm_of(again.content.decode(), "cancel").startswith("Cancel 1 number waiting past its lock?")


def test_a_code_of_a_filtered_out_number_neither_changes_nor_announces(team, alice, owner, make_key):
    quiet, _ = make_key("--sms-delay", "3600")
    chatty, _ = make_key("--sms-delay", "0")
    shown = buy(owner, quiet, "tg")
    buy(owner, chatty, "wa")
    client = login(alice)
    poll = poll_url(client.get(url("board", team), {"service": "tg"}, **htmx()).content.decode())
    polling.poll_key(chatty.pk)
    assert Sms.objects.exists()
    assert client.get(poll, **htmx()).status_code == 204
    assert f"+{shown.phone}" in client.get(url("board", team), {"service": "tg"}).content.decode()


def test_the_code_arrived_event_names_the_service(team, alice, owner, make_key):
    api_key, _ = make_key("--sms-delay", "0")
    activation = buy(owner, api_key, "tg")
    client = login(alice)
    poll = poll_url(client.get(url("board", team), **htmx()).content.decode())
    polling.poll_key(api_key.pk)
    response = client.get(poll, **htmx())
    event = json.loads(response["HX-Trigger"])["codeArrived"]
    code = Sms.objects.get(activation=activation).code
    assert event["code"] == code and event["service"] in ("Telegram", "tg")
    assert event["codes"][0]["service"] == event["service"]


# --- bulk actions --------------------------------------------------------------------------------


@pytest.fixture
def mixed_board(team, make_key, owner):
    """Two numbers with a code, two waiting past their lock, one still locked."""
    coded_key, _ = make_key("--sms-delay", "0")
    waiting_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    locked_key, _ = make_key("--sms-delay", "3600")
    coded = [buy(owner, coded_key), buy(owner, coded_key, "wa")]
    waiting = [buy(owner, waiting_key), buy(owner, waiting_key, "wa")]
    locked = buy(owner, locked_key)
    # Our side keeps the profile's lock (2 minutes); these two have waited that long.
    Activation.objects.filter(pk__in=[row.pk for row in waiting]).update(
        cancel_allowed_at=timezone.now() - timedelta(seconds=1)
    )
    polling.poll_key(coded_key.pk)
    for row in coded:
        row.refresh_from_db()
        assert row.status == ActivationStatus.CODE_RECEIVED
    return coded, waiting, locked


def test_bulk_buttons_state_their_count_in_one_confirmation(team, bob, vera, mixed_board):
    page = login(bob).get(url("board", team)).content.decode()
    assert confirm_of(page, "finish") == "Finish 2 numbers with a code?"
    assert confirm_of(page, "cancel").startswith("Cancel 2 numbers waiting past their lock?")
    assert 'data-bulk="finish"' in page and 'data-bulk="cancel"' in page
    assert "data-bulk" not in login(vera).get(url("board", team)).content.decode()


def test_bulk_finish_closes_only_the_numbers_with_a_code(team, bob, mixed_board):
    coded, waiting, locked = mixed_board
    everything = [row.public_id for row in (*coded, *waiting, locked)]
    response = login(bob).post(
        url("bulk", team), {"action": "finish", "activation": [*everything, "not-a-uuid"]}, **htmx()
    )
    assert response.status_code == 200
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["message"] == "Finished 2 numbers" and toast["level"] == "success"
    for row in coded:
        row.refresh_from_db()
        assert row.status == ActivationStatus.FINISHED
    for row in (*waiting, locked):
        row.refresh_from_db()
        assert row.status == ActivationStatus.WAITING
    assert 'data-bulk="finish"' not in response.content.decode()


def test_bulk_cancel_refunds_only_the_numbers_past_their_lock(team, bob, mixed_board):
    coded, waiting, locked = mixed_board
    everything = [row.public_id for row in (*coded, *waiting, locked)]
    client = login(bob)
    response = client.post(url("bulk", team), {"action": "cancel", "activation": everything})
    assert response.status_code == 302
    for row in waiting:
        row.refresh_from_db()
        assert row.status == ActivationStatus.CANCELLED
        assert LedgerEntry.objects.filter(api_key=row.api_key, kind=LedgerKind.REFUND).exists()
    locked.refresh_from_db()
    assert locked.status == ActivationStatus.WAITING
    for row in coded:
        row.refresh_from_db()
        assert row.status == ActivationStatus.CODE_RECEIVED
    page = client.get(url("board", team)).content.decode()
    assert "Cancelled 2 numbers" in page


def test_bulk_counts_each_refusal_and_goes_on(team, bob, mixed_board):
    coded, _waiting, _locked = mixed_board
    # The provider closed one of them already, behind our back.
    client_for_key(coded[0].api_key).set_status(id=coded[0].upstream_id, status=6)
    response = login(bob).post(
        url("bulk", team), {"action": "finish", "activation": [row.public_id for row in coded]}, **htmx()
    )
    toast = json.loads(response["HX-Trigger"])["toast"]
    assert toast["message"].startswith("Finished 1 number, 1 failed: +" + coded[0].phone)
    coded[1].refresh_from_db()
    assert coded[1].status == ActivationStatus.FINISHED


def test_bulk_touches_nothing_the_member_may_not_act_on(team, alice, bob, vera, charlie, make_key, owner):
    api_key, _ = make_key("--sms-delay", "0")
    api_key.restrict_to_members = True
    api_key.save()
    hidden = buy(owner, api_key)
    polling.poll_key(api_key.pk)
    response = login(bob).post(url("bulk", team), {"action": "finish", "activation": [hidden.public_id]})
    assert response.status_code == 302
    hidden.refresh_from_db()
    assert hidden.status == ActivationStatus.CODE_RECEIVED
    assert (
        login(vera)
        .post(url("bulk", team), {"action": "finish", "activation": [hidden.public_id]})
        .status_code
        == 403
    )
    assert login(charlie).post(url("bulk", team), {"action": "finish"}).status_code == 404
    hidden.refresh_from_db()
    assert hidden.status == ActivationStatus.CODE_RECEIVED


def test_bulk_keeps_the_board_filters(team, bob, mixed_board):
    coded, _waiting, _locked = mixed_board
    page = login(bob).get(url("board", team), {"service": "wa"}).content.decode()
    assert confirm_of(page, "finish") == "Finish 1 number with a code?"
    response = login(bob).post(
        url("bulk", team) + "?service=wa",
        {"action": "finish", "activation": [coded[1].public_id]},
        **htmx(),
    )
    assert "service=wa" in poll_url(response.content.decode())


# --- the cancel countdown ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (119.2, "2:00"),
        (120, "2:00"),
        (0.1, "0:01"),
        (0, "0:00"),
        (-3, "0:00"),
        (3599.5, "1:00:00"),
        (None, "—"),
    ],
)
def test_countdown_text_rounds_up(seconds, text):
    assert countdown_text(seconds) == text


def test_the_lock_shows_rounded_up_and_neutral(team, bob, make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = buy(owner, api_key)
    client = login(bob)
    client.get(url("board", team))  # the catalogue's names are read once, so the next page is quick
    Activation.objects.filter(pk=activation.pk).update(
        cancel_allowed_at=timezone.now() + timedelta(seconds=119, milliseconds=600)
    )
    page = client.get(url("board", team)).content.decode()
    lock = re.search(
        r'<span class="act-cancel-later" data-reveal-after="(\d+)">(.*?)</span>\s*<span class="when-unlocked"',
        page,
        re.S,
    )
    assert lock, "no cancel lock on the board"
    assert lock.group(1) == "120"  # revealed no earlier than the provider allows
    assert ">2:00<" in lock.group(2) and "act-lock" in lock.group(2)
    assert "data-countdown-low" not in lock.group(2) and "danger" not in lock.group(2)


# --- desktop notifications -----------------------------------------------------------------------


def test_the_board_offers_an_opt_in_notification_toggle(team, vera):
    page = login(vera).get(url("board", team)).content.decode()
    toggle = re.search(r'<label class="[^"]*notify-toggle[^"]*"[^>]*>\s*<input ([^>]*)>', page)
    assert toggle, "no notification toggle"
    assert "data-notify-toggle" in toggle.group(1) and "checked" not in toggle.group(1)
    assert re.search(
        r'<label class="[^"]*notify-toggle[^"]*"[^>]*hidden', page
    )  # shown by JS where supported


# --- the key's balance on the buy forms ----------------------------------------------------------


def test_the_key_balance_partial_shows_the_chosen_key(team, bob, charlie, two_keys):
    first, second = two_keys
    ApiKey.objects.filter(pk=first.pk).update(balance=Decimal("12.5"), balance_updated_at=timezone.now())
    ApiKey.objects.filter(pk=second.pk).update(balance=Decimal("777"), balance_updated_at=timezone.now())
    client = login(bob)
    part = client.get(url("key_balance", team), {"api_key": second.public_id}, HTTP_HX_REQUEST="true")
    assert part.status_code == 200 and "777.00 RUB" in part.content.decode()
    part = client.get(url("key_balance", team), {"api_key": first.public_id}, HTTP_HX_REQUEST="true")
    assert "12.50 RUB" in part.content.decode()
    foreign = register_key(Team.objects.get(slug="other"), sandbox_account("--balance", "10"))
    ApiKey.objects.filter(pk=foreign.pk).update(balance=Decimal("31337"))
    part = client.get(url("key_balance", team), {"api_key": foreign.public_id}).content.decode()
    assert "31,337" not in part
    assert login(charlie).get(url("key_balance", team)).status_code == 404


def test_every_buy_form_shows_the_key_balance_and_reads_it_again_on_a_key_change(team, bob, two_keys):
    first, _second = two_keys
    ApiKey.objects.filter(pk=first.pk).update(balance=Decimal("12.5"))
    client = login(bob)
    for name in ("buy", "buy_multi"):
        page = client.get(url(name, team), {"api_key": first.public_id}).content.decode()
        assert 'id="key-balance"' in page and "12.50 RUB" in page, name
    multi = client.get(url("buy_multi", team)).content.decode()
    assert f'hx-get="{url("key_balance", team)}"' in multi and "change from:#id_api_key" in multi
    rent = client.get(
        reverse("rentals:rent", args=[team.slug]), {"api_key": first.public_id, "country": 0, "hours": 4}
    )
    assert 'id="key-balance"' in rent.content.decode() and "12.50 RUB" in rent.content.decode()


# --- a preset's one-click buy shows the price first ----------------------------------------------


def test_a_preset_shows_its_price_and_spends_nothing_until_confirmed(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    preset = Preset.objects.create(team=team, api_key=api_key, name="TG", service="tg", country=0)
    client = login(bob)
    board = client.get(url("board", team)).content.decode()
    assert f"{url('preset_check', team)}?preset={preset.public_id}" in html.unescape(board)
    assert f'name="preset" value="{preset.public_id}"' not in board  # no spending form on the board itself

    offer = client_for_key(api_key).get_prices(service="tg", country=0)[0]
    check = client.get(
        url("preset_check", team), {"preset": preset.public_id, "target": "board"}, HTTP_HX_REQUEST="true"
    )
    page = check.content.decode()
    price = f"{offer.cost:,.2f} RUB"
    assert check.status_code == 200 and f"Buy for {price}" in page and f"Price now: {price}" in page
    assert 'hx-target="#board"' in page
    assert not Activation.objects.exists() and not LedgerEntry.objects.exists()

    token = re.search(r'name="request_token" value="([^"]+)"', page).group(1)
    data = {"preset": preset.public_id, "request_token": token}
    assert client.post(url("preset_buy", team), data, **htmx()).status_code == 200
    client.post(url("preset_buy", team), data, **htmx())  # a double click
    assert Activation.objects.count() == 1


def test_the_preset_check_works_without_javascript_and_respects_grants(team, alice, bob, vera, make_key):
    api_key, _ = make_key()
    preset = Preset.objects.create(team=team, api_key=api_key, name="TG", service="tg", country=0)
    page = login(alice).get(url("preset_check", team), {"preset": preset.public_id})
    assert page.status_code == 200 and "<html" in page.content.decode() and "Buy for" in page.content.decode()
    assert login(vera).get(url("preset_check", team), {"preset": preset.public_id}).status_code == 403
    api_key.restrict_to_members = True
    api_key.save()
    assert login(bob).get(url("preset_check", team), {"preset": preset.public_id}).status_code == 404
    assert login(bob).get(url("preset_check", team), {"preset": str(uuid.uuid4())}).status_code == 404


def test_an_unchanged_poll_reads_the_version_from_the_cache_until_something_changes(
    team, alice, owner, two_keys, django_assert_num_queries
):
    first, _second = two_keys
    buy(owner, first)
    client = login(alice)
    poll = poll_url(client.get(url("board", team), **htmx()).content.decode())
    assert client.get(poll, **htmx()).status_code == 204
    # The user and the membership (the session comes from the cache): no version query while it holds.
    with django_assert_num_queries(2):
        assert client.get(poll, **htmx()).status_code == 204
    # A purchase goes through the purchase core, which tells the boards: the next poll sees it at once.
    bought = buy(owner, first)
    changed = client.get(poll, **htmx())
    assert changed.status_code == 200 and f"+{bought.phone}" in changed.content.decode()
