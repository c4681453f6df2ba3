"""Every team-scoped URL x every role x GET/POST answers what its view declares.

URLs are discovered from the URL conf (any pattern with `team_slug`), so a new team page is covered
without editing this file. Expectations come from the view's own declaration made by
`accounts.permissions.team_view` (`required_capability`, `allowed_methods`) and the role's capability
properties on `Membership`: anonymous -> login, outsider -> 404, no capability -> 403, else 200/302/405.
"""

import re
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts import services
from accounts.models import Membership, Role
from tests.accounts.conftest import client_for, membership

PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")
ROLES = ["anonymous", "outsider", Role.VIEWER, Role.OPERATOR, Role.ADMIN, Role.OWNER]
USER_FOR_ROLE = {
    "outsider": "charlie",
    Role.VIEWER: "vera",
    Role.OPERATOR: "bob",
    Role.ADMIN: "dave",
    Role.OWNER: "alice",
}


def _walk(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


def team_routes() -> list[tuple[str, URLPattern]]:
    return sorted(
        ((route, pattern) for route, pattern in _walk(get_resolver().url_patterns) if "team_slug" in route),
        key=lambda item: item[0],
    )


TEAM_ROUTES = team_routes()
# Routes that name an object (a key, a member, an invite) besides the team.
OBJECT_ROUTES = [
    (route, p) for route, p in TEAM_ROUTES if PARAM.search(route.replace("<slug:team_slug>", ""))
]


def fill(route: str, values: dict[str, str], *, unknown_uuids: list[str] | None = None) -> str:
    """The route with its parameters filled from `values`.

    With `unknown_uuids`, a UUID parameter nobody gave a value for gets a fresh UUID (an object that does
    not exist, so an allowed member gets 404) and its name is appended to the list.
    """

    def replace(match: re.Match) -> str:
        name = match.group("name")
        if name in values:
            return str(values[name])
        if unknown_uuids is not None and match.group("converter") == "uuid":
            unknown_uuids.append(name)
            return str(uuid.uuid4())
        raise AssertionError(f"no fixture value for URL parameter {name!r} in {route!r}: add one to `values`")

    return "/" + PARAM.sub(replace, route)


def test_it_discovers_the_team_pages():
    routes = {route for route, _ in TEAM_ROUTES}
    assert "t/<slug:team_slug>/" in routes
    assert "t/<slug:team_slug>/keys/new/" in routes
    assert "t/<slug:team_slug>/audit/" in routes
    assert len(routes) >= 15


@pytest.mark.parametrize("route,pattern", TEAM_ROUTES, ids=[route for route, _ in TEAM_ROUTES])
def test_every_team_view_declares_its_access(route, pattern):
    view = pattern.callback
    assert hasattr(view, "required_capability"), (
        f"{route}: decorate the view with accounts.permissions.team_view"
    )
    assert hasattr(view, "allowed_methods")


def expected_status(view, role: str, method: str, *, missing_object: bool = False) -> set[int]:
    if role == "anonymous":
        return {302}
    if role == "outsider":
        return {404}
    capability = view.required_capability
    if capability is not None and not getattr(Membership(role=role), capability):
        return {403}
    if method not in view.allowed_methods:
        return {405}
    if missing_object:
        return {404}
    return {200} if method == "GET" else {200, 302}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route,pattern", TEAM_ROUTES, ids=[route for route, _ in TEAM_ROUTES])
def test_access(route, pattern, role, method, team, everyone, api_key, invite):
    values = {
        "team_slug": team.slug,
        "key_id": api_key.public_id,
        "member_id": membership(team, everyone["bob"]).public_id,
        "invite_id": invite.public_id,
    }
    unknown: list[str] = []
    url = fill(route, values, unknown_uuids=unknown)
    user = everyone[USER_FOR_ROLE[role]] if role != "anonymous" else None
    client = client_for(user)

    response = client.get(url) if method == "GET" else client.post(url, {})

    expected = expected_status(pattern.callback, role, method, missing_object=bool(unknown))
    assert response.status_code in expected, (
        f"{method} {url} as {role}: {response.status_code}, expected {expected}"
    )
    if role == "anonymous":
        location = urlsplit(response["Location"])
        assert location.path == "/accounts/login/"
        assert location.query.startswith("next=")


@pytest.mark.parametrize("route,pattern", OBJECT_ROUTES, ids=[route for route, _ in OBJECT_ROUTES])
def test_foreign_objects_are_404_for_members(route, pattern, team, everyone, other_key, other_team):
    """A member of Acme asking for Other's key, member or invite by UUID gets 404, never 403 or 200."""
    other_owner = Membership.objects.get(team=other_team, user=everyone["charlie"])
    foreign_invite, _ = services.invite_create(membership=other_owner, role="viewer")
    url = fill(
        route,
        {
            "team_slug": team.slug,
            "key_id": other_key.public_id,
            "member_id": other_owner.public_id,
            "invite_id": foreign_invite.public_id,
        },
        unknown_uuids=[],
    )
    client = client_for(everyone["alice"])
    for method in set(pattern.callback.allowed_methods) - {"HEAD"}:
        response = client.get(url) if method == "GET" else client.post(url, {})
        assert response.status_code == 404, f"{method} {url}: {response.status_code}"
