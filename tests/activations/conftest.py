"""Fixtures for activation tests: a team key registered for a sandbox account, driven over real HTTP."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, KeyHealth, LedgerEntry, Membership
from providers.client import ProviderClient
from tests.conftest import sandbox_account


@pytest.fixture(autouse=True)
def _steady_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False
    settings.SANDBOX_WEBHOOK_RETRY_DELAYS = [0, 0, 0, 0, 0, 0, 0]


def register_key(team, secret: str, *, profile: str = "sandbox", label: str = "Sandbox") -> ApiKey:
    """Register a sandbox account as a team key the way the key form does, without the upstream check."""
    return ApiKey.objects.create(
        team=team,
        label=label,
        profile=profile,
        secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:],
        currency="USD" if profile == "sandbox_hero" else "RUB",
        health=KeyHealth.OK,
    )


@pytest.fixture
def make_key(team, sandbox_url) -> Callable[..., tuple[ApiKey, str]]:
    """`make_key(*sandbox_account options)` -> (team ApiKey, its sandbox secret)."""

    def make(*options: str, profile: str = "sandbox") -> tuple[ApiKey, str]:
        secret = sandbox_account("--balance", "1000", *options)
        call_command("sandbox_account", "set", secret, "--no-code-share", "0")
        return register_key(team, secret, profile=profile), secret

    return make


@pytest.fixture
def owner(team, alice) -> Membership:
    return Membership.objects.get(team=team, user=alice)


@pytest.fixture
def operator(team, bob) -> Membership:
    return Membership.objects.get(team=team, user=bob)


def set_sandbox(secret: str, *options: str) -> None:
    call_command("sandbox_account", "set", secret, *options)


def provider_charged(secret: str) -> Decimal:
    """What the sandbox's own ledger says the account was charged, net of refunds (top-ups aside)."""
    from sandbox.models import Account, Transaction

    account = Account.objects.get(key=secret)
    moved = (
        Transaction.objects.filter(account=account)
        .exclude(kind=Transaction.Kind.TOPUP)
        .aggregate(total=Sum("amount"))["total"]
    )
    return -(moved or Decimal("0"))


def ledger_net(api_key: ApiKey) -> Decimal:
    """What our ledger says the key spent, net of refunds and corrections."""
    return LedgerEntry.objects.filter(api_key=api_key).aggregate(total=Sum("amount"))["total"] or Decimal("0")


@pytest.fixture
def spy(monkeypatch):
    """Counts the client's upstream calls by action method (the transport itself stays real)."""
    calls: dict[str, int] = {}
    for name in ("get_active_activations", "get_status", "set_status"):
        original = getattr(ProviderClient, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ProviderClient, name, wrapper)
    return calls
