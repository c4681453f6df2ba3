"""A custom base URL cannot make the server probe its own network: http(s) to public addresses only, unless
allowed; every failure to reach a provider reads the same."""

import socket

import pytest

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, KeyHealth, Membership
from accounts.services import ActionRefused
from providers.keys import client_for_key
from providers.outbound import AddressRefused, check_provider_url
from providers.services import api_key_create

PUBLIC = "93.184.216.34"


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.SANDBOX_ENABLED = False
    settings.PROVIDER_ALLOWED_NETWORKS = []
    return settings


def resolving_to(monkeypatch, *addresses: str) -> None:
    """Every name resolves to `addresses` (no real DNS in the tests)."""

    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "gopher://example.com/", "file:///etc/passwd", "http://", "example.com"]
)
def test_it_refuses_schemes_other_than_http(production, url):
    with pytest.raises(AddressRefused):
        check_provider_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8000/",
        "http://127.0.0.1:6379/",
        "https://192.168.1.1/",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
    ],
)
def test_it_refuses_local_addresses_in_production(production, url):
    with pytest.raises(AddressRefused):
        check_provider_url(url)


def test_it_refuses_a_name_resolving_to_loopback(production):
    with pytest.raises(AddressRefused):
        check_provider_url("http://localhost:8000/")


def test_it_refuses_a_name_with_any_private_address(production, monkeypatch):
    resolving_to(monkeypatch, PUBLIC, "10.1.2.3")
    with pytest.raises(AddressRefused):
        check_provider_url("https://provider.example/")


def test_it_allows_public_addresses(production, monkeypatch):
    check_provider_url(f"http://{PUBLIC}/stubs")
    resolving_to(monkeypatch, PUBLIC)
    check_provider_url("https://provider.example/")


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        (["10.0.0.0/8"], "http://10.0.0.1/"),
        (["127.0.0.1"], "http://127.0.0.1:8000/"),
        (["::1"], "http://[::1]/"),
        (["localhost"], "http://localhost:8000/"),
        (["provider.lan", "192.168.0.0/16"], "http://provider.lan/"),
    ],
)
def test_the_setting_allows_listed_hosts_and_networks(production, allowed, url):
    production.PROVIDER_ALLOWED_NETWORKS = allowed
    check_provider_url(url)


def test_with_the_sandbox_loopback_is_allowed_but_not_the_rest(settings):
    settings.DEBUG, settings.SANDBOX_ENABLED, settings.PROVIDER_ALLOWED_NETWORKS = False, True, []
    check_provider_url("http://127.0.0.1:8000/sandbox")
    check_provider_url("http://localhost:8000/sandbox")
    with pytest.raises(AddressRefused):
        check_provider_url("http://169.254.169.254/")


def test_each_request_checks_the_address_again(production, team, monkeypatch):
    """A name that resolved to a public address when saved and to a private one later (DNS rebinding)."""
    key = ApiKey.objects.create(
        team=team,
        label="Custom",
        profile="custom",
        base_url="http://provider.example",
        secret_encrypted=encrypt_secret("secret-1234"),
        secret_last4="1234",
        currency="RUB",
        health=KeyHealth.OK,
    )
    client = client_for_key(key)
    sent = []
    monkeypatch.setattr(client.session, "get", lambda *args, **kwargs: sent.append(args))
    resolving_to(monkeypatch, "10.0.0.7")
    with pytest.raises(AddressRefused):
        client.get_balance()
    assert sent == []


def _refusal(alice, team, base_url: str) -> str:
    with pytest.raises(ActionRefused) as refused:
        api_key_create(
            membership=Membership.objects.get(team=team, user=alice),
            label="Custom",
            profile="custom",
            base_url=base_url,
            secret="typed-secret-9999",
        )
    assert not ApiKey.objects.exists()
    return str(refused.value)


def test_every_failure_to_reach_reads_the_same(settings, team, alice, live_server):
    settings.DEBUG, settings.SANDBOX_ENABLED, settings.PROVIDER_ALLOWED_NETWORKS = False, True, []
    # Nothing listens on port 1; the live server answers, but below /accounts with our own pages, not the
    # protocol (its root serves the gateway's protocol to the team's scripts).
    unreachable = _refusal(alice, team, "http://127.0.0.1:1")
    not_the_protocol = _refusal(alice, team, f"{live_server.url}/accounts")
    settings.SANDBOX_ENABLED = False
    refused_address = _refusal(alice, team, f"{live_server.url}/accounts")
    assert unreachable == not_the_protocol == refused_address
    assert "typed-secret-9999" not in unreachable
