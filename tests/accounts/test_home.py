"""`/` and team creation; the team switcher."""

from accounts.models import Membership, Role, Team, User
from tests.accounts.conftest import client_for


def test_anonymous_users_go_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


def test_members_go_to_their_first_team(alice, team, charlie):
    Membership.objects.create(team=Team.objects.get(slug="other"), user=alice, role=Role.VIEWER)
    # Alphabetical: Acme before Other.
    assert client_for(alice).get("/")["Location"] == "/t/acme/"


def test_a_user_without_a_team_is_asked_to_create_one(db):
    user = User.objects.create_user("newbie", password="x")
    client = client_for(user)
    response = client.get("/")
    assert response["Location"] == "/teams/new/"
    page = client.get("/teams/new/")
    assert b"Create your first team" in page.content


def test_it_creates_a_team_owned_by_its_creator(alice, team):
    client = client_for(alice)
    response = client.post("/teams/new/", {"name": "Acme"})
    created = Team.objects.exclude(pk=team.pk).get()
    assert created.slug == "acme-2"
    assert response["Location"] == "/t/acme-2/"
    assert Membership.objects.get(team=created, user=alice).role == Role.OWNER
    assert client.get("/t/acme-2/").status_code == 200


def test_an_empty_team_name_is_refused(alice):
    response = client_for(alice).post("/teams/new/", {"name": "  "})
    assert response.status_code == 200
    assert b"errorlist" in response.content or b'class="error"' in response.content
    assert not Team.objects.exists()


def test_team_creation_needs_login(client, db):
    assert client.get("/teams/new/")["Location"].startswith("/accounts/login/")


def test_the_switcher_lists_only_my_teams(alice, team, charlie):
    Team.objects.create(name="Hidden", slug="hidden")
    content = client_for(alice).get("/t/acme/").content.decode()
    assert 'href="/t/acme/"' in content
    assert "/t/other/" not in content
    assert "/t/hidden/" not in content


def test_the_switcher_shows_every_team_of_the_user(alice, team, charlie):
    Membership.objects.create(team=Team.objects.get(slug="other"), user=alice, role=Role.VIEWER)
    content = client_for(alice).get("/t/acme/").content.decode()
    assert 'href="/t/other/"' in content


def test_healthz(client, db):
    # The whole answer and its rules: tests/test_healthz.py.
    assert client.get("/healthz").json()["database"]["ok"] is True
