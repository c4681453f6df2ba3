"""Every team-scoped URL x every role x GET/POST answers what the table in this file says.

The table is written by hand, one row per URL name: the capability the page needs (None: any member)
and the methods it answers. Expectations never come from the view's own `team_view` declaration, so a
page declared with the wrong capability fails here instead of teaching the test the wrong answer.
Anonymous -> login, outsider -> 404, member without the capability -> 403, a method the page does not
answer -> 405, else 200 (GET) or 200/302 (POST); a URL naming an unknown or another team's object -> 404.

The URL conf is read only to check the table is complete: a new team page without a row fails, and so
does a row whose URL is gone.
"""

import re
import uuid
from collections.abc import Iterator
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts import services
from accounts.models import Membership, Role, Team, User
from accounts.permissions import CAPABILITIES
from gateway.models import GatewayKey
from purchases.models import Route, RouteKey
from rentals.models import Rental
from tests.accounts.conftest import client_for, make_key

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
ROLES = ["anonymous", "outsider", Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER]
USER_FOR_ROLE = {
    "outsider": "charlie",
    Role.VIEWER: "vera",
    Role.OPERATOR: "bob",
    Role.ADMIN: "dave",
    Role.OWNER: "alice",
}

# Who holds each capability, written out rather than read from `Membership`, so a role that gains a
# capability by mistake fails a row here too.
MEMBERS = frozenset({Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER})
HOLDERS: dict[str | None, frozenset[str]] = {
    None: MEMBERS,
    "can_buy": frozenset({Role.OPERATOR, Role.ADMIN, Role.OWNER}),
    "can_manage_keys": frozenset({Role.ADMIN, Role.OWNER}),
    "can_manage_members": frozenset({Role.ADMIN, Role.OWNER}),
    "can_view_audit": frozenset({Role.ADMIN, Role.OWNER}),
}

GET = frozenset({"GET"})
POST = frozenset({"POST"})
FORM = frozenset({"GET", "POST"})

# The object a URL names besides the team, and the URL parameter that carries it.
OBJECT_PARAMS = {
    "key": "key_id",
    "member": "member_id",
    "invite": "invite_id",
    "rental": "rental_id",
    "job": "job_id",
    "gateway_key": "gateway_key_id",
    "route": "route_id",
}


class Row(NamedTuple):
    name: str
    capability: str | None
    methods: frozenset[str]
    obj: str | None = None


# fmt: off
TABLE = [
    # accounts: the team, its members and invites, the audit log
    Row("accounts:team_home",          None,                 GET),
    Row("accounts:team_settings",      "can_manage_members", FORM),
    Row("accounts:team_leave",         None,                 POST),
    Row("accounts:member_list",        None,                 GET),
    Row("accounts:member_edit",        "can_manage_members", FORM, "member"),
    Row("accounts:member_remove",      "can_manage_members", POST, "member"),
    Row("accounts:invite_create",      "can_manage_members", FORM),
    Row("accounts:invite_revoke",      "can_manage_members", POST, "invite"),
    Row("accounts:audit_log",          "can_view_audit",     GET),
    Row("accounts:audit_csv",          "can_view_audit",     GET),
    # Work a page handed to the worker; any member may follow a job of the team (an unknown one is 404).
    Row("accounts:job",                None,                 GET,  "job"),
    # providers: the team's API keys
    Row("providers:key_list",          None,                 GET),
    Row("providers:key_add",           "can_manage_keys",    FORM),
    Row("providers:key_detail",        None,                 GET,  "key"),
    Row("providers:key_edit",          "can_manage_keys",    FORM, "key"),
    Row("providers:key_rotate",        "can_manage_keys",    FORM, "key"),
    Row("providers:key_status",        "can_manage_keys",    POST, "key"),
    Row("providers:key_webhook_rotate", "can_manage_keys",   POST, "key"),
    # Asking upstream with a key is for members who may act with it; viewers only watch balances.
    Row("providers:key_refresh",       "can_buy",            POST, "key"),
    # activations: the live board, buying, history and exports
    Row("activations:board",           None,                 GET),
    Row("activations:buy",             "can_buy",            FORM),
    Row("activations:buy_multi",       "can_buy",            FORM),
    Row("activations:buy_offer",       "can_buy",            GET),
    Row("activations:action",          "can_buy",            POST),
    Row("activations:bulk",            "can_buy",            POST),
    Row("activations:additional_buy",  "can_buy",            POST),
    Row("activations:extra_check",     "can_buy",            GET),
    Row("activations:extra_buy",       "can_buy",            POST),
    Row("activations:calls",           None,                 GET),
    Row("activations:call_create",     "can_buy",            POST),
    Row("activations:preset_save",     "can_buy",            POST),
    Row("activations:preset_check",    "can_buy",            GET),
    Row("activations:preset_buy",      "can_buy",            POST),
    Row("activations:key_balance",     "can_buy",            GET),
    Row("activations:preset_delete",   "can_buy",            POST),
    Row("activations:resolve",         "can_manage_keys",    POST),
    Row("activations:history",         None,                 GET),
    Row("activations:history_csv",     None,                 GET),
    Row("activations:ledger_csv",      None,                 GET),
    # rentals
    Row("rentals:board",               None,                 GET),
    Row("rentals:rent",                "can_buy",            FORM),
    Row("rentals:action",              "can_buy",            POST),
    Row("rentals:extend",              "can_buy",            FORM, "rental"),
    Row("rentals:auto_renew",          "can_buy",            FORM, "rental"),
    Row("rentals:resolve",             "can_manage_keys",    POST),
    Row("rentals:rent_history",        None,                 GET),
    Row("rentals:export",              None,                 GET),
    Row("rentals:export_messages",     None,                 GET),
    # prices: any member looks; refreshing the catalogue and alerts need a key the member may use,
    # snapshots and their settings are the key managers'
    Row("prices:overview",             None,                 GET),
    Row("prices:over_time",            None,                 GET),
    Row("prices:compare",              None,                 GET),
    Row("prices:money",                None,                 GET),
    Row("prices:catalog",              None,                 GET),
    Row("prices:catalog_refresh",      "can_buy",            POST),
    Row("prices:snapshot_now",         "can_manage_keys",    POST),
    Row("prices:settings",             "can_manage_keys",    POST),
    Row("prices:alert_add",            "can_buy",            POST),
    Row("prices:alert_remove",         "can_buy",            POST),
    Row("prices:history_json",         None,                 GET),
    Row("prices:history_csv",          None,                 GET),
    Row("prices:cheapest_json",        None,                 GET),
    Row("prices:cheapest_csv",         None,                 GET),
    Row("prices:compare_json",         None,                 GET),
    Row("prices:compare_csv",          None,                 GET),
    Row("prices:balance_json",         None,                 GET),
    Row("prices:balance_csv",          None,                 GET),
    Row("prices:spend_json",           None,                 GET),
    Row("prices:spend_csv",            None,                 GET),
    # gateway: any member sees the gateway keys of the keys they see; owners and admins issue and revoke
    Row("gateway:key_list",            None,                 GET),
    Row("gateway:key_create",          "can_manage_keys",    FORM),
    Row("gateway:key_revoke",          "can_manage_keys",    POST, "gateway_key"),
    Row("gateway:route_list",          None,                 GET),
    Row("gateway:route_create",        "can_manage_keys",    FORM),
    Row("gateway:route_edit",          "can_manage_keys",    FORM, "route"),
    Row("gateway:route_delete",        "can_manage_keys",    POST, "route"),
]
# fmt: on
ROWS = {row.name: row for row in TABLE}
OBJECT_ROWS = [row for row in TABLE if row.obj is not None]


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every (route, pattern) of the URL conf; `tests/accounts/test_secret_never_leaks.py` walks it too."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def _named(patterns, prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str | None, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _named(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            yield prefix + str(pattern.pattern), pattern.name and namespace + pattern.name, pattern


def team_routes() -> dict[str, tuple[str | None, URLPattern]]:
    """Route -> (URL name, pattern) of every route under `/t/<team_slug>/`."""
    return {
        route: (name, p) for route, name, p in _named(get_resolver().url_patterns) if "team_slug" in route
    }


TEAM_ROUTES = team_routes()


def fill(route: str, values: dict[str, str]) -> str:
    """The route with its parameters filled from `values`."""

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name not in values:
            raise AssertionError(f"no value for URL parameter {name!r} in {route!r}: add one to `values`")
        return str(values[name])

    return "/" + PARAM.sub(replace, route)


# --- the table is complete and true to the URL conf ------------------------------------------------


def test_it_discovers_the_team_pages():
    routes = set(TEAM_ROUTES)
    assert "t/<slug:team_slug>/" in routes
    assert "t/<slug:team_slug>/keys/new/" in routes
    assert "t/<slug:team_slug>/audit/" in routes
    assert len(routes) >= 15


def test_every_team_page_has_a_row():
    unnamed = sorted(route for route, (name, _) in TEAM_ROUTES.items() if not name)
    assert not unnamed, f"team routes without a URL name (the table goes by name): {unnamed}"
    missing = sorted(f"{name}  ({route})" for route, (name, _) in TEAM_ROUTES.items() if name not in ROWS)
    assert not missing, (
        "team pages without a row in TABLE of tests/accounts/test_access_matrix.py; add one saying which "
        "capability each needs (None: any member) and which methods it answers:\n  " + "\n  ".join(missing)
    )


def test_every_row_names_a_team_page():
    names = [row.name for row in TABLE]
    assert len(names) == len(set(names)), "a URL name has two rows"
    existing = {name for name, _ in TEAM_ROUTES.values()}
    gone = sorted(set(names) - existing)
    assert not gone, f"rows for URL names that are no longer team pages (remove or rename them): {gone}"


def test_every_row_names_the_object_its_url_takes():
    for route, (name, _) in TEAM_ROUTES.items():
        if name not in ROWS:
            continue  # reported by test_every_team_page_has_a_row
        params = {m.group("name") for m in PARAM.finditer(route)} - {"team_slug"}
        obj = ROWS[name].obj
        assert params == ({OBJECT_PARAMS[obj]} if obj else set()), f"{name} ({route}): row says {obj!r}"


def test_the_roles_hold_the_capabilities_the_table_assumes():
    assert set(HOLDERS) == {None, *CAPABILITIES}
    assert all(row.capability in HOLDERS for row in TABLE)
    for capability in CAPABILITIES:
        holders = {role for role in MEMBERS if getattr(Membership(role=role), capability)}
        assert holders == HOLDERS[capability], capability


@pytest.mark.parametrize("route", sorted(TEAM_ROUTES), ids=sorted(TEAM_ROUTES))
def test_every_team_view_declares_its_access(route):
    """Every team page goes through `accounts.permissions.team_view` (the one place that checks access)."""
    view = TEAM_ROUTES[route][1].callback
    assert hasattr(view, "required_capability"), (
        f"{route}: decorate the view with accounts.permissions.team_view"
    )
    assert hasattr(view, "allowed_methods")


# --- every row x role x method ---------------------------------------------------------------------


def expected_status(row: Row, role: str, method: str, *, missing_object: bool) -> set[int]:
    if role == "anonymous":
        return {302}
    if role == "outsider":
        return {404}
    if role not in HOLDERS[row.capability]:
        return {403}
    if method not in row.methods:
        return {405}
    if missing_object:
        return {404}
    return {200} if method == "GET" else {200, 302}


def url_for(row: Row, team_slug: str, objects: dict[str, object]) -> str:
    if row.name not in {name for name, _ in TEAM_ROUTES.values()}:
        pytest.fail(f"{row.name} is not a team page (any more): see test_every_row_names_a_team_page")
    kwargs = {"team_slug": team_slug}
    if row.obj is not None:
        kwargs[OBJECT_PARAMS[row.obj]] = str(objects[row.obj])
    return reverse(row.name, kwargs=kwargs)


class Cast(NamedTuple):
    users: dict[str, User]
    team: Team
    own: dict[str, object]  # Acme's objects, or ids of nothing at all (an allowed member gets 404)
    foreign: dict[str, object]  # Other's objects


UNKNOWN = ("rental", "job")


@pytest.fixture(scope="module")
def cast(django_db_setup, django_db_blocker) -> Iterator[Cast]:
    """The fixed cast (alice owns Acme, dave admin, bob operator, vera viewer; charlie owns Other) with a
    key, an invite and a rental, made once for the module's ~800 requests instead of once per request.
    Each test runs in a savepoint of this transaction (what Django's `setUpTestData` does), so whatever
    a request changes is rolled back before the next one."""
    with django_db_blocker.unblock(), transaction.atomic():
        # No password: the clients log in with force_login, and hashing one costs more than the test.
        users = {name: User.objects.create_user(username=name) for name in ("alice", "dave", "bob", "vera")}
        users["charlie"] = User.objects.create_user(username="charlie")
        team = Team.objects.create(name="Acme", slug="acme")
        roles = {"alice": Role.OWNER, "dave": Role.ADMIN, "bob": Role.OPERATOR, "vera": Role.VIEWER}
        members = {
            name: Membership.objects.create(team=team, user=users[name], role=role)
            for name, role in roles.items()
        }
        invite, _ = services.invite_create(membership=members["alice"], role="operator")
        other = Team.objects.create(name="Other", slug="other")
        other_owner = Membership.objects.create(team=other, user=users["charlie"], role=Role.OWNER)
        other_key = make_key(other, label="Foreign", secret="sk-other-team-secret-0000")
        foreign_invite, _ = services.invite_create(membership=other_owner, role="viewer")
        foreign_rental = Rental.objects.create(
            team=other, api_key=other_key, member=users["charlie"], service="tg", currency="RUB"
        )
        own_key = make_key(team)
        own_gateway_key = GatewayKey.objects.create(
            team=team,
            label="Bot",
            prefix="own",
            digest="own-digest",
            api_key=own_key,
            member=members["alice"],
        )
        foreign_gateway_key = GatewayKey.objects.create(
            team=other,
            label="Bot",
            prefix="foreign",
            digest="foreign-digest",
            api_key=other_key,
            member=other_owner,
        )
        own_route = Route.objects.create(team=team, name="Cheapest")
        RouteKey.objects.create(route=own_route, api_key=own_key)
        foreign_route = Route.objects.create(team=other, name="Cheapest")
        RouteKey.objects.create(route=foreign_route, api_key=other_key)
        yield Cast(
            users=users,
            team=team,
            own={
                "key": own_key.public_id,
                "member": members["bob"].public_id,
                "invite": invite.public_id,
                "rental": uuid.uuid4(),
                "job": uuid.uuid4().hex,
                "gateway_key": own_gateway_key.public_id,
                "route": own_route.public_id,
            },
            foreign={
                "key": other_key.public_id,
                "member": other_owner.public_id,
                "invite": foreign_invite.public_id,
                "rental": foreign_rental.public_id,
                # Jobs live with the worker, not in a table: an unknown id stands for another team's.
                "job": uuid.uuid4().hex,
                "gateway_key": foreign_gateway_key.public_id,
                "route": foreign_route.public_id,
            },
        )
        transaction.set_rollback(True)


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", TABLE, ids=[row.name for row in TABLE])
def test_access(row, role, method, cast, db):
    url = url_for(row, cast.team.slug, cast.own)
    client = client_for(cast.users[USER_FOR_ROLE[role]] if role != "anonymous" else None)

    response = client.get(url) if method == "GET" else client.post(url, {})

    expected = expected_status(row, role, method, missing_object=row.obj in UNKNOWN)
    assert response.status_code in expected, (
        f"{method} {url} ({row.name}) as {role}: {response.status_code}, expected {expected}"
    )
    if role == "anonymous":
        location = urlsplit(response["Location"])
        assert location.path == "/accounts/login/"
        assert location.query.startswith("next=")


@pytest.mark.parametrize("row", OBJECT_ROWS, ids=[row.name for row in OBJECT_ROWS])
def test_foreign_objects_are_404_for_members(row, cast, db):
    """Acme's owner asking for Other's key, member, invite or rental by its id gets 404, never 403 or 200."""
    url = url_for(row, cast.team.slug, cast.foreign)
    client = client_for(cast.users["alice"])
    for method in sorted(row.methods):
        response = client.get(url) if method == "GET" else client.post(url, {})
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
