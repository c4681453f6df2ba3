"""The buy form, the live board and its actions, presets: over the Django client, against the sandbox over HTTP."""

import uuid
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey, KeyHealth, LedgerEntry, Membership
from activations import polling
from activations.models import Activation, ActivationStatus, Preset, Sms
from activations.services import BuyRequest, activation_buy
from providers.keys import client_for_key
from tests.conftest import login

from .conftest import set_sandbox


@pytest.fixture(autouse=True)
def _fresh_catalog_cache():
    # The catalogue is cached per provider URL; every test starts from a cold cache.
    cache.clear()
    yield
    cache.clear()


def url(name: str, team) -> str:
    return reverse(f"activations:{name}", args=[team.slug])


def htmx(**extra) -> dict:
    return {"HTTP_HX_REQUEST": "true", **extra}


def upstream_balance(api_key: ApiKey) -> Decimal:
    return client_for_key(api_key).get_balance().amount


def buy_data(api_key: ApiKey, **fields) -> dict:
    return {
        "api_key": str(api_key.public_id),
        "service": "tg",
        "country": "0",
        "request_token": str(uuid.uuid4()),
        **fields,
    }


# --- access --------------------------------------------------------------------------------------


def test_outsiders_get_404_everywhere(team, charlie):
    client = login(charlie)
    for name in ("board", "buy", "buy_offer"):
        assert client.get(url(name, team)).status_code == 404
    for name in ("buy", "action", "preset_save", "preset_buy", "preset_delete"):
        assert client.post(url(name, team), {}).status_code == 404


def test_viewers_watch_but_cannot_buy_or_act(team, vera, make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    client = login(vera)
    response = client.get(url("board", team))
    assert response.status_code == 200
    assert activation.phone in response.content.decode()
    assert 'data-action="cancel"' not in response.content.decode()
    assert client.get(url("buy", team)).status_code == 403
    assert client.post(url("buy", team), buy_data(api_key)).status_code == 403
    response = client.post(url("action", team), {"activation": activation.public_id, "action": "finish"})
    assert response.status_code == 403
    assert Activation.objects.count() == 1


def test_a_foreign_activation_is_404(team, alice, charlie, sandbox_url):
    from accounts.models import Team
    from tests.conftest import sandbox_account

    from .conftest import register_key

    other = Team.objects.get(slug="other")
    foreign_key = register_key(other, sandbox_account("--balance", "100", "--sms-delay", "3600"))
    foreign = activation_buy(
        membership=Membership.objects.get(team=other, user=charlie),
        api_key=foreign_key,
        request=BuyRequest(service="tg", country=0),
    )
    response = login(alice).post(url("action", team), {"activation": foreign.public_id, "action": "finish"})
    assert response.status_code == 404
    response = login(alice).post(url("action", team), {"activation": "not-a-uuid", "action": "finish"})
    assert response.status_code == 404


def test_operators_see_only_the_activations_of_keys_they_may_use(team, bob, make_key, owner):
    open_key, _ = make_key("--sms-delay", "3600")
    closed_key, _ = make_key("--sms-delay", "3600")
    closed_key.restrict_to_members = True
    closed_key.save()
    mine = activation_buy(membership=owner, api_key=open_key, request=BuyRequest(service="tg", country=0))
    hidden = activation_buy(membership=owner, api_key=closed_key, request=BuyRequest(service="wa", country=0))
    page = login(bob).get(url("board", team)).content.decode()
    assert mine.phone in page and hidden.phone not in page
    response = login(bob).post(url("action", team), {"activation": hidden.public_id, "action": "finish"})
    assert response.status_code == 404


# --- buying --------------------------------------------------------------------------------------


def test_the_buy_form_lists_usable_keys_and_the_catalogue(team, bob, make_key):
    api_key, _ = make_key()
    disabled, _ = make_key()
    disabled.status = "disabled"
    disabled.label = "Off"
    disabled.save()
    page = login(bob).get(url("buy", team)).content.decode()
    assert str(api_key.public_id) in page and str(disabled.public_id) not in page
    assert '<option value="tg">Telegram</option>' in page
    assert '<option value="0">Russia</option>' in page
    assert 'name="request_token"' in page


def test_the_offer_partial_shows_price_stock_and_operators(team, bob, make_key):
    api_key, _ = make_key()
    price = client_for_key(api_key).get_prices(service="tg", country=0)[0]
    response = login(bob).get(
        url("buy_offer", team),
        {"api_key": api_key.public_id, "service": "Telegram", "country": "Russia"},
        **htmx(),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Telegram" in page and "Russia" in page
    assert f"{price.cost:,.2f} RUB" in page
    assert "in stock" in page
    assert 'name="operator" value="mts"' in page


def test_the_offer_partial_without_a_choice_is_empty(team, bob, make_key):
    make_key()
    response = login(bob).get(url("buy_offer", team), **htmx())
    assert response.status_code == 200
    assert "Choose a service and a country" in response.content.decode()


def test_it_buys_and_redirects_to_the_board(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(bob)
    response = client.post(
        url("buy", team), buy_data(api_key, service="Telegram", country="Russia", operator=["mts"])
    )
    assert response.status_code == 302 and response["Location"] == url("board", team)
    activation = Activation.objects.get()
    assert (activation.status, activation.service, activation.country) == (ActivationStatus.WAITING, "tg", 0)
    assert activation.operator == "mts"
    assert activation.member == bob
    board = client.get(url("board", team)).content.decode()
    assert f"+{activation.phone}" in board


def test_htmx_buy_redirects_the_whole_page(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    response = login(bob).post(url("buy", team), buy_data(api_key), **htmx())
    assert response.status_code == 200
    assert response["HX-Redirect"] == url("board", team)


def test_a_double_submit_buys_once(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(bob)
    data = buy_data(api_key)
    client.post(url("buy", team), data)
    client.post(url("buy", team), data)
    assert Activation.objects.count() == 1
    assert len(client_for_key(api_key).get_active_activations()) == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    # A service or country the provider's catalogue does not list is refused by the form before any purchase
    # (tests/activations/test_names.py); one it lists but has no numbers for is refused by the provider.
    [({"max_price": "0.01"}, "lowest price now is"), ({"out_of_stock": True}, "no free numbers")],
)
def test_provider_refusals_show_on_the_form_and_spend_nothing(team, bob, make_key, fields, message):
    from sandbox.models import Price

    api_key, _ = make_key()
    if fields.pop("out_of_stock", False):
        Price.objects.filter(country__pk=0, service__code="tg").update(base_count=0)
    response = login(bob).post(url("buy", team), buy_data(api_key, **fields), **htmx())
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page and 'id="buy-errors"' in page
    assert not LedgerEntry.objects.exists()
    assert upstream_balance(api_key) == Decimal("1000")
    # A fresh token, so the corrected form can be sent again.
    assert Activation.objects.get().request_token.hex not in page.replace("-", "")


def test_no_balance_is_explained(team, bob, sandbox_url):
    from tests.conftest import sandbox_account

    from .conftest import register_key

    api_key = register_key(team, sandbox_account("--balance", "0"))
    response = login(bob).post(url("buy", team), buy_data(api_key))
    assert response.status_code == 200
    assert "not enough balance" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_our_own_limits_refuse_before_the_provider(team, bob, make_key):
    api_key, _ = make_key()
    api_key.max_price = Decimal("0.50")
    api_key.save()
    response = login(bob).post(url("buy", team), buy_data(api_key, max_price="5"))
    assert response.status_code == 200
    assert "above this key&#x27;s maximum price" in response.content.decode()
    assert not Activation.objects.exists()
    assert upstream_balance(api_key) == Decimal("1000")


def test_a_banned_account_is_explained(team, bob, make_key):
    api_key, secret = make_key()
    set_sandbox(secret, "--banned-until", "2099-01-01T00:00:00+00:00")
    response = login(bob).post(url("buy", team), buy_data(api_key))
    assert response.status_code == 200
    assert "banned this account until 2099-01-01" in response.content.decode()
    assert not LedgerEntry.objects.exists()


def test_an_invalid_form_rerenders_with_200(team, bob, make_key):
    make_key()
    response = login(bob).post(url("buy", team), {})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Activation.objects.exists()


def test_a_key_the_member_may_not_use_is_refused(team, bob, make_key):
    api_key, _ = make_key()
    api_key.restrict_to_members = True
    api_key.save()
    response = login(bob).post(url("buy", team), buy_data(api_key))
    assert response.status_code == 200
    assert (
        "Select a valid choice" in response.content.decode() or "may not use any" in response.content.decode()
    )
    assert not Activation.objects.exists()


# --- the live board ------------------------------------------------------------------------------


def _poll(client: Client, team, token: str | None):
    query = {"v": token} if token is not None else {}
    return client.get(url("board", team), query, **htmx(HTTP_HX_TARGET="board"))


def _token(response) -> str:
    page = response.content.decode()
    marker = "?v="
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_the_board_answers_204_when_nothing_changed(
    team, bob, make_key, owner, django_assert_max_num_queries
):
    api_key, _ = make_key("--sms-delay", "3600")
    activation_buy(membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0))
    client = login(bob)
    first = _poll(client, team, None)
    assert first.status_code == 200
    token = _token(first)
    # Session, user and membership lookups, plus the single version query.
    with django_assert_max_num_queries(4):
        again = _poll(client, team, token)
    assert again.status_code == 204 and again.content == b""


def test_the_board_rerenders_when_something_changed(team, bob, make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(bob)
    token = _token(_poll(client, team, None))
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    response = _poll(client, team, token)
    assert response.status_code == 200
    assert f"+{activation.phone}" in response.content.decode()
    assert "HX-Trigger" not in response


def test_a_new_code_raises_code_arrived(team, bob, make_key, owner):
    api_key, _ = make_key("--sms-delay", "0")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    client = login(bob)
    token = _token(_poll(client, team, None))
    polling.poll_key(api_key.pk)
    code = Sms.objects.get(activation=activation).code
    response = _poll(client, team, token)
    assert response.status_code == 200
    assert code in response.content.decode()
    import json

    event = json.loads(response["HX-Trigger"])["codeArrived"]
    assert event["phone"] == activation.phone and event["code"] == code
    # The next poll with the new version has nothing new.
    assert _poll(client, team, _token(response)).status_code == 204


def test_the_board_shows_pending_and_unknown_rows_with_their_message(team, bob, make_key, owner):
    api_key, _ = make_key()
    Activation.objects.create(
        team=team,
        api_key=api_key,
        service="tg",
        country=0,
        currency="RUB",
        status=ActivationStatus.UNKNOWN,
        error_message="The provider's answer was lost (TIMEOUT); checking whether the number was bought.",
    )
    page = login(bob).get(url("board", team)).content.decode()
    assert "checking…" in page and "answer was lost" in page


def test_key_health_warnings_show_on_the_board(team, vera, make_key):
    api_key, _ = make_key()
    ApiKey.objects.filter(pk=api_key.pk).update(health=KeyHealth.BANNED)
    page = login(vera).get(url("board", team)).content.decode()
    assert "banned by the provider" in page


def test_actions_follow_the_protocol(team, bob, make_key, owner):
    api_key, _ = make_key("--sms-delay", "0", "--cancel-lock", "0")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    client = login(bob)
    page = client.get(url("board", team)).content.decode()
    assert 'data-action="ready"' in page and 'data-action="cancel"' in page
    assert 'data-action="finish"' not in page

    polling.poll_key(api_key.pk)
    page = client.get(url("board", team)).content.decode()
    assert 'data-action="finish"' in page and 'data-action="another"' in page

    response = client.post(
        url("action", team),
        {"activation": activation.public_id, "action": "another"},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    assert "waiting for another code" in response["HX-Trigger"]
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.WAIT_RETRY

    response = client.post(url("action", team), {"activation": activation.public_id, "action": "finish"})
    assert response.status_code == 302
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED


def test_cancel_waits_for_the_lock_and_the_server_enforces_it(team, bob, make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    client = login(bob)
    page = client.get(url("board", team)).content.decode()
    assert "cancel in" in page and "data-reveal-after" in page
    response = client.post(
        url("action", team),
        {"activation": activation.public_id, "action": "cancel"},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    assert "allows cancelling from" in response["HX-Trigger"]
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.WAITING


def test_an_empty_action_post_goes_back_to_the_board(team, bob):
    response = login(bob).post(url("action", team), {})
    assert response.status_code == 302


# --- presets -------------------------------------------------------------------------------------


def test_it_saves_a_preset_and_buys_it_again_in_one_click(team, bob, make_key):
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(bob)
    response = client.post(
        url("preset_save", team), buy_data(api_key, name="TG Russia", operator=["mts"], max_price="100")
    )
    assert response.status_code == 302
    preset = Preset.objects.get()
    assert (preset.name, preset.service, preset.country, preset.operator, preset.max_price) == (
        "TG Russia",
        "tg",
        0,
        "mts",
        Decimal("100"),
    )
    assert "TG Russia" in client.get(url("board", team)).content.decode()

    token = str(uuid.uuid4())
    response = client.post(
        url("preset_buy", team),
        {"preset": preset.public_id, "request_token": token},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    activation = Activation.objects.get()
    assert activation.service == "tg" and activation.operator == "mts"
    assert f"+{activation.phone}" in response.content.decode()
    # The same click again (same token) buys nothing more.
    client.post(url("preset_buy", team), {"preset": preset.public_id, "request_token": token})
    assert Activation.objects.count() == 1


def test_a_foreign_preset_is_404(team, alice, charlie, sandbox_url):
    from accounts.models import Team
    from tests.conftest import sandbox_account

    from .conftest import register_key

    other = Team.objects.get(slug="other")
    foreign_key = register_key(other, sandbox_account("--balance", "100"))
    preset = Preset.objects.create(team=other, api_key=foreign_key, name="x", service="tg", country=0)
    client = login(alice)
    assert client.post(url("preset_buy", team), {"preset": preset.public_id}).status_code == 404
    assert client.post(url("preset_delete", team), {"preset": preset.public_id}).status_code == 404
    assert Preset.objects.filter(pk=preset.pk).exists()


def test_a_preset_buy_refusal_is_a_toast_and_spends_nothing(team, bob, make_key):
    api_key, _ = make_key()
    preset = Preset.objects.create(
        team=team, api_key=api_key, name="Cheap", service="tg", country=0, max_price=Decimal("0.01")
    )
    response = login(bob).post(
        url("preset_buy", team),
        {"preset": preset.public_id, "request_token": str(uuid.uuid4())},
        **htmx(HTTP_HX_TARGET="board"),
    )
    assert response.status_code == 200
    assert "lowest price now is" in response["HX-Trigger"]
    assert not LedgerEntry.objects.exists()


def test_it_deletes_a_preset(team, bob, make_key):
    api_key, _ = make_key()
    preset = Preset.objects.create(team=team, api_key=api_key, name="Old", service="tg", country=0)
    response = login(bob).post(url("preset_delete", team), {"preset": preset.public_id})
    assert response.status_code == 302
    assert not Preset.objects.exists()


def test_presets_of_a_key_the_operator_is_not_granted_are_out_of_reach(team, alice, bob, make_key):
    """A preset on a key restricted to others: bob can neither buy it, delete it, nor overwrite it by
    saving a namesake on a key he may use."""
    restricted, _ = make_key()
    mine, _ = make_key()
    restricted.restrict_to_members = True
    restricted.save(update_fields=["restrict_to_members"])
    preset = Preset.objects.create(team=team, api_key=restricted, name="VIP", service="tg", country=0)
    client = login(bob)
    assert client.post(url("preset_buy", team), {"preset": preset.public_id}).status_code == 404
    assert client.post(url("preset_delete", team), {"preset": preset.public_id}).status_code == 404
    response = client.post(url("preset_save", team), buy_data(mine, name="VIP"))
    assert response.status_code == 200
    assert "uses a key you may not use" in response.content.decode()
    preset.refresh_from_db()
    assert preset.api_key == restricted
    assert not Activation.objects.exists()
    # The owner may use every key, so the same steps work for her.
    assert login(alice).post(url("preset_delete", team), {"preset": preset.public_id}).status_code == 302
