"""Fixtures for the team pages: a key whose secret is a distinctive string, an invite, logged-in clients."""

import pytest
from django.test import Client

from accounts import services
from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, Invite, Membership, Team, User

# Never rendered, logged or exported anywhere: tests grep every response and log line for it.
SECRET = "sk-DISTINCTIVE-7f3a9c51e0-never-shown-QZX9"
# The part of the secret that is not the masked last four characters.
SECRET_HEAD = SECRET[:-4]
# A closed local port: upstream calls fail at once with "connection refused".
UNREACHABLE_URL = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _fast_tests(settings):
    # Reads would otherwise retry with backoff against hosts that are down on purpose.
    settings.PROVIDER_READ_RETRIES = 0
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0


def make_key(team: Team, *, label: str = "Main", secret: str = SECRET, **fields) -> ApiKey:
    fields = {
        "profile": "custom",
        "base_url": UNREACHABLE_URL,
        "currency": "RUB",
        "balance": "1000.0000",
        **fields,
    }
    return ApiKey.objects.create(
        team=team, label=label, secret_encrypted=encrypt_secret(secret), secret_last4=secret[-4:], **fields
    )


@pytest.fixture
def api_key(team) -> ApiKey:
    return make_key(team)


@pytest.fixture
def other_team(charlie) -> Team:
    return Team.objects.get(slug="other")


@pytest.fixture
def other_key(other_team) -> ApiKey:
    return make_key(other_team, label="Foreign", secret="sk-other-team-secret-0000")


@pytest.fixture
def invite(team, alice) -> Invite:
    owner = Membership.objects.get(team=team, user=alice)
    invite, _token = services.invite_create(membership=owner, role="operator", email="")
    return invite


@pytest.fixture
def everyone(alice, dave, bob, vera, charlie) -> dict[str, User]:
    """The whole cast at once."""
    return {"alice": alice, "dave": dave, "bob": bob, "vera": vera, "charlie": charlie}


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def membership(team: Team, user: User) -> Membership:
    return Membership.objects.get(team=team, user=user)
