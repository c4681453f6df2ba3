"""Fixtures for the sandbox provider's tests: accounts and a caller of the handler over the test client."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from sandbox import catalog, services
from sandbox.models import Account, Dialect

URL = "/sandbox/stubs/handler_api.php"
HERO_URL = "/sandbox/hero/stubs/handler_api.php"


@pytest.fixture(autouse=True)
def _fast_sandbox(settings):
    settings.SANDBOX_PRICE_DRIFT = False
    settings.SANDBOX_WEBHOOK_RETRY_DELAYS = [0, 0, 0, 0, 0, 0, 0]
    settings.SANDBOX_WEBHOOK_TIMEOUT = 2.0
    settings.SANDBOX_FAULT_TIMEOUT_SECONDS = 0.01


@pytest.fixture
def make_account(db) -> Callable[..., Account]:
    """An account with a quiet clock (no code for 1000 s, no cancel lock); override any field."""

    def make(balance: str = "1000", dialect: str = Dialect.CLASSIC, **fields) -> Account:
        catalog.ensure_catalog()
        account = services.account_create(balance=Decimal(balance), dialect=dialect)
        defaults = {
            "sms_delay_min": 1000,
            "sms_delay_max": 1000,
            "no_code_share": 0.0,
            "cancel_lock_seconds": 0,
        }
        for name, value in {**defaults, **fields}.items():
            setattr(account, name, value)
        account.save()
        return account

    return make


@pytest.fixture
def account(make_account) -> Account:
    return make_account()


@pytest.fixture
def hero(make_account) -> Account:
    return make_account(dialect=Dialect.HERO)


@pytest.fixture
def api(client: Client) -> Callable:
    """`api(account_or_key, action, **params)` -> the handler's response (GET unless method='post')."""

    def call(
        who: Account | str | None, action: str | None, *, method: str = "get", endpoint: str = URL, **params
    ):
        query = {key: str(value) for key, value in params.items()}
        if who is not None:
            query["api_key"] = who.key if isinstance(who, Account) else who
        if action is not None:
            query["action"] = action
        if method == "post":
            return client.post(endpoint, query)
        return client.get(endpoint, query)

    return call
