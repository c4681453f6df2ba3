"""Routes in the browser: owners and admins make, change and delete them under Gateway → Routes; a gateway key
is issued through one (page and command); the buy form's "Best place" buys through one against the sandbox
over HTTP, and the board and history name the route that chose the key."""

import io
import uuid

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditEntry
from activations.models import Activation, ActivationStatus
from gateway.models import GatewayKey
from gateway.services import authenticate, gateway_key_create, gateway_key_revoke, route_save
from purchases.models import Route, RouteRule
from tests.accounts.conftest import client_for, make_key, membership
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account


@pytest.fixture(autouse=True)
def _cold_catalogue_cache():
    cache.clear()
    yield
    cache.clear()


def route_url(team, name="route_list", *args):
    return reverse(f"gateway:{name}", args=[team.slug, *args])


def route_form(name, rule, *keys):
    data = {"name": name, "rule": rule}
    data.update({f"key_{place}": str(key.public_id) for place, key in enumerate(keys)})
    return data


def test_an_owner_makes_and_reorders_a_route(team, alice, bob):
    first, second = make_key(team, label="Hero"), make_key(team, label="Tiger")
    client = client_for(alice)

    response = client.post(
        route_url(team, "route_create"), route_form("Telegram", RouteRule.PRICE, first, second)
    )

    assert response.status_code == 302 and response["Location"] == route_url(team)
    route = Route.objects.get(team=team)
    assert (route.name, route.rule) == ("Telegram", RouteRule.PRICE)
    assert [step.api_key for step in route.steps.all()] == [first, second]
    page = client.get(route_url(team)).content.decode()
    assert "Telegram" in page and page.index("Hero") < page.index("Tiger")

    client.post(
        route_url(team, "route_edit", route.public_id),
        route_form("Telegram", RouteRule.PRIORITY, second, first),
    )
    route.refresh_from_db()
    assert route.rule == RouteRule.PRIORITY
    assert [step.api_key for step in route.steps.all()] == [second, first]
    assert AuditEntry.objects.filter(team=team, action="route.change").count() == 1
    # Any member reads the routes; only owners and admins get the buttons.
    listing = client_for(bob).get(route_url(team)).content.decode()
    assert "Telegram" in listing and route_url(team, "route_create") not in listing


def test_keys_charging_in_two_currencies_are_refused_and_nothing_is_saved(team, alice):
    rubles, dollars = make_key(team, label="Rub"), make_key(team, label="Usd", currency="USD")
    response = client_for(alice).post(
        route_url(team, "route_create"), route_form("Mixed", RouteRule.PRICE, rubles, dollars)
    )
    assert response.status_code == 200
    assert "one currency" in response.content.decode()
    assert not Route.objects.exists()


def test_a_route_is_deleted_only_once_no_active_gateway_key_uses_it(team, alice):
    owner = membership(team, alice)
    route = route_save(membership=owner, name="Cheap", rule=RouteRule.PRICE, api_keys=[make_key(team)])
    gateway_key, _plain = gateway_key_create(membership=owner, label="bot", route=route)
    client = client_for(alice)

    page = client.post(route_url(team, "route_delete", route.public_id), follow=True).content.decode()
    assert "revoke them first" in page and Route.objects.filter(pk=route.pk).exists()

    gateway_key_revoke(membership=owner, gateway_key=gateway_key)
    client.post(route_url(team, "route_delete", route.public_id))
    assert not Route.objects.filter(pk=route.pk).exists()
    gateway_key.refresh_from_db()
    # The revoked key keeps its place in the list, its route gone.
    assert gateway_key.route is None and gateway_key.revoked_at is not None
    listing = client.get(reverse("gateway:key_list", args=[team.slug])).content.decode()
    assert "bot" in listing and "route deleted" in listing


def test_a_gateway_key_is_issued_through_a_route_on_the_page_and_on_the_command_line(team, alice):
    owner = membership(team, alice)
    route = route_save(membership=owner, name="Cheap", rule=RouteRule.PRICE, api_keys=[make_key(team)])
    response = client_for(alice).post(
        reverse("gateway:key_create", args=[team.slug]),
        {"label": "scraper", "route": str(route.public_id), "member": str(owner.public_id)},
    )
    assert response.status_code == 200 and "Cheap" in response.content.decode()
    assert GatewayKey.objects.get(label="scraper").route == route

    out = io.StringIO()
    call_command(
        "gateway_key", "create", "--team", team.slug, "--route", "cheap", "--label", "bot", stdout=out
    )
    assert authenticate(out.getvalue().strip()).route == route

    listing = io.StringIO()
    call_command("gateway_key", "list", "--team", team.slug, stdout=listing)
    assert "route:Cheap" in listing.getvalue()


def test_a_route_takes_the_place_of_the_key_and_neither_is_a_form_error(team, alice):
    owner = membership(team, alice)
    key = make_key(team)
    route = route_save(membership=owner, name="Cheap", rule=RouteRule.PRICE, api_keys=[key])
    client = client_for(alice)
    url = reverse("gateway:key_create", args=[team.slug])
    form = client.get(url).content.decode()
    # The first key is chosen until a route is picked instead.
    assert f'value="{key.public_id}" selected' in form
    response = client.post(url, {"label": "bot", "member": str(owner.public_id)})
    assert "either an upstream key or a route" in response.content.decode()
    assert not GatewayKey.objects.exists()
    client.post(
        url,
        {
            "label": "bot",
            "member": str(owner.public_id),
            "api_key": str(key.public_id),
            "route": str(route.public_id),
        },
    )
    gateway_key = GatewayKey.objects.get()
    assert (gateway_key.route, gateway_key.api_key) == (route, None)


def test_best_place_buys_at_the_next_key_when_the_first_is_sold_out(team, alice, bob, sandbox_url):
    owner = membership(team, alice)
    sold_out = register_key(team, sandbox_account("--balance", "1000", "--sold-out", "tg"), label="First")
    selling = register_key(team, sandbox_account("--balance", "1000", "--sms-delay", "3600"), label="Second")
    route = route_save(
        membership=owner, name="Telegram", rule=RouteRule.PRIORITY, api_keys=[sold_out, selling]
    )
    client = client_for(bob)
    data = {
        "api_key": str(sold_out.public_id),
        "route": str(route.public_id),
        "service": "tg",
        "country": "0",
        "request_token": str(uuid.uuid4()),
    }

    response = client.post(reverse("activations:buy", args=[team.slug]), data, follow=True)

    page = response.content.decode()
    assert "at “Second” (route “Telegram”)" in page
    refused = Activation.objects.get(api_key=sold_out)
    bought = Activation.objects.get(api_key=selling)
    assert (refused.status, refused.error_code, refused.route) == (
        ActivationStatus.FAILED,
        "NO_NUMBERS",
        route,
    )
    assert (bought.status, bought.route, bought.member) == (ActivationStatus.WAITING, route, bob)
    # The form sent again buys nothing more: each attempt replays.
    client.post(reverse("activations:buy", args=[team.slug]), data)
    assert Activation.objects.count() == 2
    board = client.get(reverse("activations:board", args=[team.slug])).content.decode()
    assert f"+{bought.phone}" in board and "route Telegram" in board
    history = client.get(reverse("activations:history", args=[team.slug])).content.decode()
    assert "through the route Telegram" in history
