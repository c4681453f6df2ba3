"""The whole story through the Django client, against the sandbox over HTTP: log in as demo, create a
second team, add a sandbox key (after a wrong one), invite a second user through the link, make them a
viewer, and check they can neither add keys nor spend."""

import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import Client

from accounts.models import ApiKey, Membership, Role, Team, User
from accounts.permissions import check_spend_allowed


def _form_error(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_owner_and_viewer_story(sandbox_key, settings):
    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())

    demo = Client()
    response = demo.post("/accounts/login/", {"username": "demo", "password": "demo"}, follow=True)
    assert response.redirect_chain[-1][0] == "/t/demo/"

    response = demo.post("/teams/new/", {"name": "Second team"})
    team = Team.objects.get(name="Second team")
    assert response["Location"] == f"/t/{team.slug}/"

    wrong = demo.post(
        f"/t/{team.slug}/keys/new/",
        {"label": "Sandbox", "profile": "sandbox", "secret": "not-a-real-key-1234"},
    )
    assert wrong.status_code == 200
    assert "rejected this API key (BAD_KEY)" in _form_error(wrong)
    assert not ApiKey.objects.filter(team=team).exists()

    right = demo.post(
        f"/t/{team.slug}/keys/new/", {"label": "Sandbox", "profile": "sandbox", "secret": sandbox_key}
    )
    assert right.status_code == 302
    key = ApiKey.objects.get(team=team)
    assert key.balance == Decimal("1000")

    invite = demo.post(f"/t/{team.slug}/members/invite/", {"role": "operator"})
    link = re.search(r"https?://[^/\"]+(/invite/[\w-]+/)", invite.content.decode()).group(1)

    newcomer = Client()
    assert b"Create an account and join" in newcomer.get(link).content
    joined = newcomer.post(
        f"{link}signup/",
        {
            "username": "olga",
            "email": "olga@example.com",
            "password1": "olga's long pass 9",
            "password2": "olga's long pass 9",
        },
    )
    assert joined["Location"] == f"/t/{team.slug}/"
    olga = User.objects.get(username="olga")
    olga_membership = Membership.objects.get(team=team, user=olga)
    assert olga_membership.role == Role.OPERATOR

    changed = demo.post(
        f"/t/{team.slug}/members/{olga_membership.public_id}/", {"role": "viewer", "daily_spend_limit": ""}
    )
    assert changed.status_code == 302
    olga_membership.refresh_from_db()
    assert olga_membership.role == Role.VIEWER

    home = newcomer.get(f"/t/{team.slug}/").content.decode()
    assert "cannot buy numbers or change keys" in home
    assert f"/t/{team.slug}/keys/new/" not in home
    assert newcomer.get(f"/t/{team.slug}/keys/new/").status_code == 403
    assert (
        newcomer.post(
            f"/t/{team.slug}/keys/new/", {"label": "Mine", "profile": "sandbox", "secret": sandbox_key}
        ).status_code
        == 403
    )
    with pytest.raises(PermissionDenied):
        check_spend_allowed(membership=olga_membership, api_key=key, amount=Decimal("1"))
    # The viewer still sees the team's balance.
    assert "1,000.00 RUB" in newcomer.get(f"/t/{team.slug}/keys/").content.decode()
    # ...but not the demo team, where nobody invited her.
    assert newcomer.get("/t/demo/").status_code == 404
