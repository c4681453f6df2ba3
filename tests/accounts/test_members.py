"""Members page, invite links (single use, expiring, mailed), roles and limits, removal and leaving."""

import re
from datetime import timedelta
from decimal import Decimal

from django.core import mail
from django.utils import timezone

from accounts.models import AuditEntry, Invite, Membership, Role, User
from tests.accounts.conftest import client_for, membership
from tests.conftest import PASSWORD

LINK = re.compile(r"https?://[^\s\"<]+/invite/([\w-]+)/")


def _invite_link(client, *, role: str = "operator", email: str = "", htmx: bool = False) -> str:
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post("/t/acme/members/invite/", {"role": role, "email": email}, **headers)
    assert response.status_code == 200
    match = LINK.search(response.content.decode())
    assert match, response.content
    return f"/invite/{match.group(1)}/"


def test_every_member_sees_the_team(vera, team, alice):
    content = client_for(vera).get("/t/acme/members/").content.decode()
    assert "alice" in content and "vera" in content
    assert "Invite a member" not in content
    assert "Pending invites" not in content


def test_managers_see_invites_and_actions(alice, team, bob):
    content = client_for(alice).get("/t/acme/members/").content.decode()
    assert "Pending invites" in content
    assert f"/t/acme/members/{membership(team, bob).public_id}/remove/" in content


def test_an_invite_link_is_shown_once_and_stored_hashed(alice, team):
    client = client_for(alice)
    link = _invite_link(client)
    token = link.split("/")[2]
    invite = Invite.objects.get()
    assert token not in invite.token_hash
    assert token not in client.get("/t/acme/members/").content.decode()
    assert AuditEntry.objects.filter(team=team, action="member.invite").exists()


def test_the_invite_form_answers_htmx_with_its_panel(alice, team):
    client = client_for(alice)
    response = client.post("/t/acme/members/invite/", {"role": "viewer"}, HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert 'id="invite-panel"' in content
    assert "<html" not in content
    assert LINK.search(content)


def test_an_invalid_invite_form_rerenders_with_200(alice, team):
    response = client_for(alice).post("/t/acme/members/invite/", {"role": "pope"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not Invite.objects.exists()


def test_an_invite_is_mailed_when_an_email_is_given(alice, team):
    link = _invite_link(client_for(alice), email="newcomer@example.com")
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["newcomer@example.com"]
    assert link in mail.outbox[0].body


def test_admins_cannot_invite_owners(dave, team):
    response = client_for(dave).post("/t/acme/members/invite/", {"role": "owner"})
    assert response.status_code == 200
    assert not Invite.objects.exists()


def test_a_logged_in_user_joins_with_the_link(alice, team, charlie):
    link = _invite_link(client_for(alice), role="viewer")
    client = client_for(charlie)
    page = client.get(link)
    assert page.status_code == 200
    assert b"Join Acme" in page.content
    response = client.post(link)
    assert response["Location"] == "/t/acme/"
    assert membership(team, charlie).role == Role.VIEWER


def test_the_link_works_once(alice, team, charlie, bob):
    link = _invite_link(client_for(alice))
    client_for(charlie).post(link)
    outsider = User.objects.create_user("eve", password="x")
    assert client_for(outsider).get(link).status_code == 404
    client_for(outsider).post(link)
    assert not Membership.objects.filter(user=outsider).exists()


def test_an_expired_link_does_not_work(alice, team, charlie):
    link = _invite_link(client_for(alice))
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client_for(charlie).get(link).status_code == 404
    client_for(charlie).post(link)
    assert not Membership.objects.filter(team=team, user=charlie).exists()


def test_a_revoked_link_does_not_work(alice, team, charlie):
    link = _invite_link(client_for(alice))
    invite = Invite.objects.get()
    response = client_for(alice).post(f"/t/acme/invites/{invite.public_id}/revoke/")
    assert response.status_code == 302
    assert client_for(charlie).get(link).status_code == 404


def test_an_anonymous_visitor_can_log_in_or_sign_up(client, alice, team):
    link = _invite_link(client_for(alice))
    content = client.get(link).content.decode()
    assert f"/accounts/login/?next={link}" in content.replace("%2F", "/")
    assert f"{link}signup/" in content


def test_signing_up_through_the_link_joins_the_team(client, alice, team):
    link = _invite_link(client_for(alice), role="viewer")
    response = client.post(
        f"{link}signup/",
        {"username": "newbie", "email": "", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/t/acme/"
    user = User.objects.get(username="newbie")
    assert membership(team, user).role == Role.VIEWER
    assert client.get("/t/acme/").status_code == 200


def test_sign_up_needs_a_valid_invite(client, db):
    assert client.get("/invite/not-a-token/signup/").status_code == 404
    assert client.post("/invite/not-a-token/signup/", {"username": "x"}).status_code == 404
    assert not User.objects.exists()


def test_logging_in_through_the_link_returns_to_it(client, alice, team, charlie):
    link = _invite_link(client_for(alice))
    response = client.post("/accounts/login/", {"username": "charlie", "password": PASSWORD, "next": link})
    assert response["Location"] == link
    client.post(link)
    assert membership(team, charlie).role == Role.OPERATOR


def test_managers_set_role_and_daily_limit(alice, team, bob):
    target = membership(team, bob)
    client = client_for(alice)
    assert client.get(f"/t/acme/members/{target.public_id}/").status_code == 200
    response = client.post(
        f"/t/acme/members/{target.public_id}/", {"role": "viewer", "daily_spend_limit": "150.5"}
    )
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.role == Role.VIEWER
    assert target.daily_spend_limit == Decimal("150.5")
    entry = AuditEntry.objects.get(action="member.update")
    assert entry.actor == alice


def test_a_negative_limit_is_refused(alice, team, bob):
    target = membership(team, bob)
    response = client_for(alice).post(
        f"/t/acme/members/{target.public_id}/",
        {"role": "operator", "daily_spend_limit": "-1"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b'id="member-form"' in response.content
    target.refresh_from_db()
    assert target.daily_spend_limit is None


def test_admins_cannot_change_or_remove_owners(dave, team, alice):
    owner = membership(team, alice)
    client = client_for(dave)
    response = client.post(f"/t/acme/members/{owner.public_id}/", {"role": "viewer"})
    assert response.status_code == 200
    assert b"Only an owner can change an owner" in response.content
    client.post(f"/t/acme/members/{owner.public_id}/remove/")
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_admins_remove_operators(dave, team, bob):
    target = membership(team, bob)
    response = client_for(dave).post(f"/t/acme/members/{target.public_id}/remove/")
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=target.pk).exists()
    assert AuditEntry.objects.filter(action="member.remove", actor__username="dave").exists()


def test_the_last_owner_cannot_leave(alice, team):
    client = client_for(alice)
    response = client.post("/t/acme/leave/", follow=True)
    assert "The last owner cannot leave" in response.content.decode()
    assert membership(team, alice).role == Role.OWNER


def test_a_member_can_leave(bob, team):
    response = client_for(bob).post("/t/acme/leave/")
    assert response["Location"] == "/"
    assert not Membership.objects.filter(team=team, user=bob).exists()


def test_removing_a_member_of_another_team_is_404(alice, team, charlie):
    from accounts.models import Team

    foreign = Membership.objects.get(team=Team.objects.get(slug="other"), user=charlie)
    assert client_for(alice).post(f"/t/acme/members/{foreign.public_id}/remove/").status_code == 404
    assert Membership.objects.filter(pk=foreign.pk).exists()
