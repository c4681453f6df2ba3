"""Routes through the gateway, over real HTTP against the sandbox: a script with a gateway key bound to a
route buys at the first key that sells, goes on to the next only after a definite refusal (no stock, no
money), never after an ambiguous answer, within the same limits as a key of its own; and the services that
make routes and their gateway keys refuse what cannot work."""

import json
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.db.models import Sum

from accounts.models import LedgerEntry, Membership, Team
from accounts.services import ActionRefused
from activations import polling
from activations import services as activation_services
from activations.models import Activation, ActivationStatus
from gateway.models import GatewayKey
from gateway.services import gateway_key_create, gateway_key_revoke, route_delete, route_save
from purchases.models import FAILED, UNKNOWN, Route, RouteRule
from tests.activations.conftest import ledger_net, provider_charged, register_key
from tests.conftest import sandbox_account

START = Decimal("1000.00")


def upstream(team: Team, *options: str, label: str, profile: str = "sandbox", base_url: str = "") -> tuple:
    """A sandbox account (1000 of balance, codes only by hand) registered as the team's key: (ApiKey, secret)."""
    dialect = ("--dialect", "hero") if profile == "sandbox_hero" else ()
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600", *dialect, *options)
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    api_key = register_key(team, secret, profile=profile, label=label)
    if base_url:
        api_key.base_url = base_url
        api_key.save(update_fields=["base_url"])
    return api_key, secret


def route_of(
    owner: Membership, *api_keys, rule: str = RouteRule.PRIORITY, name: str = "cheap-first"
) -> Route:
    return route_save(membership=owner, name=name, rule=rule, api_keys=list(api_keys))


def routed_key(owner: Membership, route: Route, member: Membership, **limits) -> tuple[GatewayKey, str]:
    return gateway_key_create(membership=owner, label="router", route=route, member=member, **limits)


def ask(url: str, key: str, action: str, **params) -> requests.Response:
    return requests.get(url, params={"api_key": key, "action": action, **params}, timeout=30)


def sandbox_balance(secret: str) -> Decimal:
    from sandbox.models import Account

    return Account.objects.get(key=secret).balance


def booked(activation: Activation) -> Decimal:
    """What our ledger booked for one purchase."""
    total = LedgerEntry.objects.filter(purchase_ref=f"activation:{activation.pk}").aggregate(t=Sum("amount"))
    return total["t"] or Decimal("0")


@pytest.fixture
def attempts(monkeypatch) -> list[str]:
    """The labels of the keys a routed purchase asked, in order (the purchase itself stays real)."""
    seen: list[str] = []
    original = activation_services.activation_buy

    def counted(**kwargs):
        seen.append(kwargs["api_key"].label)
        return original(**kwargs)

    monkeypatch.setattr(activation_services, "activation_buy", counted)
    return seen


# --- failover: the "done when" -------------------------------------------------------------------


def test_a_sold_out_first_key_passes_the_purchase_to_the_second(
    team, owner, operator, sandbox_url, gateway_url
):
    from smsactivate.api import SMSActivateAPI

    first, first_secret = upstream(team, "--sold-out", "tg", label="first")
    second, second_secret = upstream(team, label="second")
    route = route_of(owner, first, second)
    gateway_key, plain = routed_key(owner, route, operator)
    client = SMSActivateAPI(plain)
    client._SMSActivateAPI__api_url = gateway_url
    # The route's balance is what its keys hold together.
    assert client.getBalance() == {"balance": "2000.00"}

    bought = client.getNumber(service="tg", country=0)
    assert set(bought) == {"activation_id", "phone"}, bought

    refused = Activation.objects.get(api_key=first)
    assert refused.status == FAILED and refused.error_code == "NO_NUMBERS"
    assert refused.route == route and refused.upstream_id is None
    sold = Activation.objects.get(api_key=second)
    assert sold.upstream_id == str(bought["activation_id"]) and int(sold.phone) == bought["phone"]
    assert sold.status == ActivationStatus.WAITING
    assert sold.route == route
    assert sold.via == f"gateway:{gateway_key.public_id}" == refused.via
    assert sold.member == operator.user
    assert Activation.objects.count() == 2
    # Money truth: the ledger books what the second account was charged, the first was charged nothing.
    charged = START - sandbox_balance(second_secret)
    assert charged > 0
    assert booked(sold) == sold.cost == charged == provider_charged(second_secret)
    assert booked(refused) == 0 and ledger_net(first) == 0
    assert sandbox_balance(first_secret) == START and provider_charged(first_secret) == 0

    # The code reaches simdesk's records (the poll cycle of the key that sold), and the script reads it.
    assert client.getStatus(id=bought["activation_id"]) == "STATUS_WAIT_CODE"
    call_command("sandbox_account", "sms", sold.upstream_id, "Your code 40213")
    assert polling.poll_key(second.pk) == "ok"
    sold.refresh_from_db()
    assert sold.last_code == "40213"
    assert client.getStatus(id=bought["activation_id"]) == "STATUS_OK:40213"
    assert client.setStatus(id=bought["activation_id"], status=6) == "ACCESS_ACTIVATION"
    sold.refresh_from_db()
    assert sold.status == ActivationStatus.FINISHED
    assert booked(sold) == charged == provider_charged(second_secret)
    assert sandbox_balance(first_secret) == START


@pytest.mark.parametrize(
    ("profile", "first_option"),
    [
        ("sandbox", ("--balance", "0")),
        ("sandbox_hero", ("--sold-out", "tg")),
        ("sandbox_hero", ("--balance", "0")),
    ],
    ids=["classic-no-balance", "hero-no-numbers", "hero-no-balance"],
)
def test_failover_on_a_definite_refusal_in_either_dialect(
    team, owner, operator, sandbox_url, gateway_url, profile, first_option
):
    first, first_secret = upstream(team, *first_option, label="first", profile=profile)
    second, second_secret = upstream(team, label="second", profile=profile)
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator)
    first_before = sandbox_balance(first_secret)
    expected_code = "NO_BALANCE" if "--balance" in first_option else "NO_NUMBERS"

    answer = ask(gateway_url, plain, "getNumberV2", service="tg", country="0")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    sold = Activation.objects.get(api_key=second)
    assert str(body["activationId"]) == sold.upstream_id and body["phoneNumber"] == sold.phone
    if profile == "sandbox_hero":
        assert body["currency"] == 840 and sold.currency == "USD"
    refused = Activation.objects.get(api_key=first)
    assert (refused.status, refused.error_code) == (FAILED, expected_code)
    assert refused.route_id == sold.route_id is not None
    assert sandbox_balance(first_secret) == first_before
    assert booked(sold) == sold.cost == START - sandbox_balance(second_secret) > 0
    assert ledger_net(first) == 0


def test_every_key_refusing_answers_the_last_refusal(team, owner, operator, sandbox_url, gateway_url):
    first, first_secret = upstream(team, "--sold-out", "tg", label="first")
    second, second_secret = upstream(team, "--sold-out", "tg", label="second")
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator)
    assert ask(gateway_url, plain, "getNumber", service="tg", country="0").text == "NO_NUMBERS"
    assert list(Activation.objects.order_by("id").values_list("api_key__label", "status", "error_code")) == [
        ("first", FAILED, "NO_NUMBERS"),
        ("second", FAILED, "NO_NUMBERS"),
    ]
    assert sandbox_balance(first_secret) == sandbox_balance(second_secret) == START


# --- never after an ambiguous answer ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("profile", "fault"),
    [("sandbox", "after_commit"), ("sandbox", "http5xx"), ("sandbox_hero", "after_commit")],
)
def test_an_ambiguous_answer_ends_the_route(
    team, owner, operator, sandbox_url, gateway_url, attempts, profile, fault
):
    first, first_secret = upstream(team, label="first", profile=profile)
    call_command(
        "sandbox_account", "set", first_secret, "--fault", f"{fault}=1", "--fault-actions", "getNumberV2"
    )
    second, second_secret = upstream(team, label="second", profile=profile)
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator)

    answer = ask(gateway_url, plain, "getNumber", service="tg", country="0")
    if profile == "sandbox_hero":
        assert answer.status_code == 500 and answer.json()["title"] == "SERVER_ERROR"
    else:
        assert (answer.status_code, answer.text) == (200, "ERROR_SQL")
    lost = Activation.objects.get(api_key=first)
    assert lost.status == UNKNOWN and lost.route is not None
    assert attempts == ["first"]
    assert not Activation.objects.filter(api_key=second).exists()
    assert sandbox_balance(second_secret) == START
    # After the commit the first provider did sell: buying elsewhere as well would have paid twice.
    assert (sandbox_balance(first_secret) < START) == (fault == "after_commit")


# --- the price rule --------------------------------------------------------------------------------------


def test_the_price_rule_puts_a_key_with_stock_before_a_sold_out_one(
    team, owner, operator, live_server, sandbox_url, gateway_url, attempts
):
    # The second key reaches the same sandbox by another host name: another endpoint, another price cache.
    elsewhere = live_server.url.replace("localhost", "127.0.0.1") + "/sandbox"
    assert elsewhere != sandbox_url
    sold_out, sold_out_secret = upstream(team, "--sold-out", "tg", label="sold-out")
    stocked, stocked_secret = upstream(team, label="stocked", base_url=elsewhere)
    route = route_of(owner, sold_out, stocked, rule=RouteRule.PRICE)
    _gateway_key, plain = routed_key(owner, route, operator)

    answer = ask(gateway_url, plain, "getNumber", service="tg", country="0").text
    assert answer.startswith("ACCESS_NUMBER:"), answer
    sold = Activation.objects.get(upstream_id=answer.split(":")[1])
    assert sold.api_key == stocked and sold.route == route
    # No refused attempt at the sold-out key: it was ranked last and never asked.
    assert attempts == ["stocked"]
    assert not Activation.objects.filter(api_key=sold_out).exists()
    assert sandbox_balance(sold_out_secret) == START
    assert booked(sold) == START - sandbox_balance(stocked_secret) > 0

    # The fixed order asks the sold-out key first (refused), which the price rule spared.
    route_save(
        membership=owner, name=route.name, rule=RouteRule.PRIORITY, api_keys=[sold_out, stocked], route=route
    )
    attempts.clear()
    answer = ask(gateway_url, plain, "getNumber", service="tg", country="0").text
    assert answer.startswith("ACCESS_NUMBER:"), answer
    assert attempts == ["sold-out", "stocked"]
    assert Activation.objects.get(api_key=sold_out).error_code == "NO_NUMBERS"


# --- limits through a route ---------------------------------------------------------------------------------


def test_the_gateway_keys_allowed_services_refuse_before_any_key(
    team, owner, operator, sandbox_url, gateway_url, attempts
):
    first, first_secret = upstream(team, label="first")
    second, second_secret = upstream(team, label="second")
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator, services=["wa"])
    assert ask(gateway_url, plain, "getNumber", service="tg", country="0").text == "BAD_SERVICE"
    assert ask(gateway_url, plain, "getNumberV2", service="tg", country="0").text == "BAD_SERVICE"
    assert attempts == []
    assert not Activation.objects.exists()
    assert sandbox_balance(first_secret) == sandbox_balance(second_secret) == START


def test_the_members_daily_limit_ends_the_route(team, owner, operator, sandbox_url, gateway_url, attempts):
    first, first_secret = upstream(team, label="first")
    second, second_secret = upstream(team, label="second")
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator)
    operator.daily_spend_limit = Decimal("0.01")
    operator.save(update_fields=["daily_spend_limit"])

    assert ask(gateway_url, plain, "getNumber", service="tg", country="0").text == "NO_BALANCE"
    # The limit refuses every key alike: asked once, not once per key.
    assert attempts == ["first"]
    assert not Activation.objects.exists()
    assert sandbox_balance(first_secret) == sandbox_balance(second_secret) == START


def test_a_key_refused_by_its_own_maximum_price_is_skipped(
    team, owner, operator, sandbox_url, gateway_url, attempts
):
    first, first_secret = upstream(team, label="first")
    first.max_price = Decimal("0.01")
    first.save(update_fields=["max_price"])
    second, second_secret = upstream(team, label="second")
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator)

    answer = ask(gateway_url, plain, "getNumber", service="tg", country="0").text
    assert answer.startswith("ACCESS_NUMBER:"), answer
    assert attempts == ["first", "second"]
    assert Activation.objects.get().api_key == second
    assert sandbox_balance(first_secret) == START


def test_status_reads_see_every_key_of_the_route_and_no_other(
    team, owner, operator, sandbox_url, gateway_url
):
    first, _ = upstream(team, label="first")
    second, _ = upstream(team, label="second")
    outside, _ = upstream(team, label="outside")
    _gateway_key, plain = routed_key(owner, route_of(owner, first, second), operator)
    bought = {}
    for api_key in (first, second, outside):
        activation = activation_services.activation_buy(
            membership=operator,
            api_key=api_key,
            request=activation_services.BuyRequest(service="tg", country=0),
        )
        bought[api_key.label] = activation.upstream_id
    assert ask(gateway_url, plain, "getStatus", id=bought["first"]).text == "STATUS_WAIT_CODE"
    assert ask(gateway_url, plain, "getStatus", id=bought["second"]).text == "STATUS_WAIT_CODE"
    assert ask(gateway_url, plain, "getStatus", id=bought["outside"]).text == "NO_ACTIVATION"
    listed = json.loads(ask(gateway_url, plain, "getActiveActivations").text)
    ids = {row["activationId"] for row in listed.get("activeActivations", [])}
    assert {str(i) for i in ids} == {bought["first"], bought["second"]}


# --- making routes and their gateway keys ----------------------------------------------------------------


def test_a_gateway_key_acts_through_exactly_one_key_or_route(team, owner, operator, sandbox_url):
    first, _ = upstream(team, label="first")
    route = route_of(owner, first)
    with pytest.raises(ActionRefused):
        gateway_key_create(membership=owner, label="neither", member=operator)
    with pytest.raises(ActionRefused):
        gateway_key_create(membership=owner, label="both", api_key=first, route=route, member=operator)
    # A member who may spend with no key of the route gets no read-write key for it.
    first.restrict_to_members = True
    first.save(update_fields=["restrict_to_members"])
    with pytest.raises(ActionRefused):
        gateway_key_create(membership=owner, label="ungranted", route=route, member=operator)
    first.allowed_members.add(operator)
    assert not GatewayKey.objects.exists()
    gateway_key, _plain = gateway_key_create(membership=owner, label="routed", route=route, member=operator)
    assert gateway_key.route == route and gateway_key.api_key is None and gateway_key.upstream == first


def test_route_save_refuses_what_cannot_be_compared_or_told_apart(team, owner, charlie, sandbox_url):
    rub, _ = upstream(team, label="rub")
    usd, _ = upstream(team, label="usd", profile="sandbox_hero")
    with pytest.raises(ActionRefused):
        route_save(membership=owner, name="empty", rule=RouteRule.PRICE, api_keys=[])
    with pytest.raises(ActionRefused):
        route_save(membership=owner, name="mixed", rule=RouteRule.PRICE, api_keys=[rub, usd])
    assert not Route.objects.exists()
    route_save(membership=owner, name="Main", rule=RouteRule.PRICE, api_keys=[rub])
    with pytest.raises(ActionRefused):
        route_save(membership=owner, name="main", rule=RouteRule.SUCCESS, api_keys=[rub])
    assert list(Route.objects.values_list("name", "rule")) == [("Main", RouteRule.PRICE)]
    # Another team's key is not this team's to route through, nor is its route this team's to issue keys for.
    theirs = register_key(Team.objects.get(slug="other"), "f" * 32, label="theirs")
    with pytest.raises(ActionRefused):
        route_save(membership=owner, name="borrowed", rule=RouteRule.PRICE, api_keys=[rub, theirs])
    other_owner = Membership.objects.get(team__slug="other")
    their_route = route_save(membership=other_owner, name="theirs", rule=RouteRule.PRICE, api_keys=[theirs])
    with pytest.raises(ActionRefused):
        gateway_key_create(membership=owner, label="borrowed", route=their_route)
    assert not GatewayKey.objects.exists()


def test_a_route_in_use_by_a_gateway_key_is_not_deleted(team, owner, operator, sandbox_url):
    first, _ = upstream(team, label="first")
    route = route_of(owner, first)
    gateway_key, _plain = routed_key(owner, route, operator)
    with pytest.raises(ActionRefused):
        route_delete(membership=owner, route=route)
    assert Route.objects.filter(pk=route.pk).exists()
    # Once revoked, the key keeps its history without the route.
    gateway_key_revoke(membership=owner, gateway_key=gateway_key)
    route_delete(membership=owner, route=route)
    assert not Route.objects.exists()
    gateway_key.refresh_from_db()
    assert gateway_key.route is None and gateway_key.revoked_at is not None


def test_the_routes_balance_counts_only_the_keys_its_member_sees(
    team, owner, operator, sandbox_url, gateway_url
):
    granted, _ = upstream(team, label="granted")
    hidden, hidden_secret = upstream(team, label="hidden")
    call_command("sandbox_account", "set", hidden_secret, "--balance", "250")
    hidden.restrict_to_members = True
    hidden.save(update_fields=["restrict_to_members"])
    _gateway_key, plain = routed_key(owner, route_of(owner, granted, hidden), operator)
    # The operator may not see the hidden key (nor its balance); an owner's script sees both.
    assert ask(gateway_url, plain, "getBalance").text == "ACCESS_BALANCE:1000.00"
    _gateway_key, owners = gateway_key_create(
        membership=owner, label="owner's", route=Route.objects.get(), member=owner
    )
    assert ask(gateway_url, owners, "getBalance").text == "ACCESS_BALANCE:1250.00"


def test_a_key_the_member_may_not_use_is_left_out_of_the_route(
    team, owner, operator, sandbox_url, gateway_url, attempts
):
    hidden, hidden_secret = upstream(team, label="hidden")
    hidden.restrict_to_members = True
    hidden.save(update_fields=["restrict_to_members"])
    granted, _ = upstream(team, label="granted")
    _gateway_key, plain = routed_key(owner, route_of(owner, hidden, granted), operator)
    answer = ask(gateway_url, plain, "getNumber", service="tg", country="0").text
    assert answer.startswith("ACCESS_NUMBER:"), answer
    assert attempts == ["granted"]
    assert Activation.objects.get().api_key == granted
    assert sandbox_balance(hidden_secret) == START


def test_the_gateway_keys_cap_goes_upstream_to_every_key_of_the_route(
    team, owner, operator, sandbox_url, gateway_url
):
    first, first_secret = upstream(team, label="first")
    second, second_secret = upstream(team, label="second")
    _gateway_key, plain = routed_key(
        owner, route_of(owner, first, second), operator, max_price=Decimal("0.01")
    )
    # A script without a maximum of its own is told NO_BALANCE, as with a key of its own.
    assert ask(gateway_url, plain, "getNumber", service="tg", country="0").text == "NO_BALANCE"
    assert list(Activation.objects.order_by("id").values_list("api_key__label", "status", "error_code")) == [
        ("first", FAILED, "WRONG_MAX_PRICE"),
        ("second", FAILED, "WRONG_MAX_PRICE"),
    ]
    assert sandbox_balance(first_secret) == sandbox_balance(second_secret) == START


def test_the_gateway_keys_daily_budget_counts_what_the_route_bought(
    team, owner, operator, sandbox_url, gateway_url, attempts
):
    first, first_secret = upstream(team, "--sold-out", "tg", label="first")
    second, second_secret = upstream(team, label="second")
    direct = f"{sandbox_url}/stubs/handler_api.php"
    price = Decimal(
        str(ask(direct, second_secret, "getPrices", service="tg", country="0").json()["0"]["tg"]["cost"])
    )
    _gateway_key, plain = routed_key(
        owner, route_of(owner, first, second), operator, daily_budget=price * Decimal("1.5")
    )
    # The refused attempt at the first key costs nothing; the sale at the second is within the budget.
    assert ask(gateway_url, plain, "getNumber", service="tg", country="0").text.startswith("ACCESS_NUMBER:")
    assert attempts == ["first", "second"]
    attempts.clear()
    balance = sandbox_balance(second_secret)
    # What is left does not buy another number at any key: the budget is the gateway key's, not a key's.
    assert ask(gateway_url, plain, "getNumber", service="tg", country="0").text == "NO_BALANCE"
    assert attempts == ["first"]
    assert sandbox_balance(second_secret) == balance
    assert Activation.objects.filter(status=ActivationStatus.WAITING).count() == 1
