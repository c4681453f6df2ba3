"""Fixtures for price tests: a provider row, synthetic price answers, sandbox keys and logged-in clients."""

from collections.abc import Callable
from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import Membership, User
from prices.services import Offer
from providers.models import Provider


@pytest.fixture(autouse=True)
def _quick_upstream(settings):
    # Hosts that are down on purpose must fail at once, without retries.
    settings.PROVIDER_READ_RETRIES = 0
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0


@pytest.fixture
def provider(db) -> Provider:
    return Provider.objects.create(profile="custom", base_url="http://prices.example", currency="RUB")


def synthetic_offers(
    countries: int, services: int, *, changed_every: int = 0, bump: str = "0.50"
) -> list[Offer]:
    """A getPrices answer of `countries` x `services` offers; every `changed_every`-th one costs `bump` more."""
    offers = []
    index = 0
    for country in range(countries):
        for service in range(services):
            cost = Decimal(10 + (country * 7 + service * 3) % 90) + Decimal("0.25")
            if changed_every and index % changed_every == 0:
                cost += Decimal(bump)
            offers.append(Offer(country=country, service=f"s{service}", cost=cost, count=100 + service))
            index += 1
    return offers


@pytest.fixture
def offers_factory() -> Callable[..., list[Offer]]:
    return synthetic_offers


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def owner(team, alice) -> Membership:
    return Membership.objects.get(team=team, user=alice)
