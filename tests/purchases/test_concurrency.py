"""Simultaneous purchases across keys, features and members never pass a limit, and never answer 500.

Real threads against PostgreSQL (row locks are what is under test; SQLite has none), each with its
own connection, buying from the sandbox over real HTTP.
"""

import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from accounts.models import LedgerEntry, Membership
from accounts.permissions import SpendDenied
from activations.models import Activation
from activations.services import BuyRequest, activation_buy
from purchases.services import PurchaseRefused
from rentals.services import RentRequest, rental_rent
from tests.activations.conftest import provider_charged
from tests.activations.test_views import buy_data, login, url

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's; CI runs it"),
]

TG = BuyRequest(service="tg", country=0)


def at_once(jobs: list) -> list:
    """Run the jobs in threads released together; each returns its result or the exception it raised."""

    def run(job):
        try:
            return job()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def spent_by(user) -> Decimal:
    return LedgerEntry.objects.filter(member=user).aggregate(total=Sum("amount"))["total"] or Decimal("0")


def test_a_members_daily_limit_holds_across_keys_and_features_bought_at_once(make_key, operator, bob):
    operator.daily_spend_limit = Decimal("60")
    operator.save()
    first, first_secret = make_key("--sms-delay", "3600")
    second, second_secret = make_key("--sms-delay", "3600")

    def buy(api_key):
        return lambda: activation_buy(
            membership=Membership.objects.get(pk=operator.pk), api_key=api_key, request=TG
        )

    def rent(api_key):
        return lambda: rental_rent(
            membership=Membership.objects.get(pk=operator.pk),
            api_key=api_key,
            request=RentRequest(service="tg", country=0),
        )

    jobs = [buy(first), buy(second)] * 8 + [rent(first), rent(second)] * 2
    results = at_once(jobs)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, SpendDenied)]
    assert unexpected == []
    assert any(isinstance(r, SpendDenied) for r in results)  # the limit was reached
    charged = provider_charged(first_secret) + provider_charged(second_secret)
    assert 0 < charged <= Decimal("60")
    assert spent_by(bob) == charged


def test_a_keys_daily_budget_holds_across_members_buying_at_once(make_key, owner, operator, bob, alice):
    api_key, secret = make_key("--sms-delay", "3600")
    api_key.daily_budget = Decimal("40")
    api_key.save()
    members = [owner, operator] * 8
    results = at_once(
        [
            lambda m=m: activation_buy(
                membership=Membership.objects.get(pk=m.pk), api_key=api_key, request=TG
            )
            for m in members
        ]
    )
    assert [r for r in results if isinstance(r, Exception) and not isinstance(r, SpendDenied)] == []
    assert 0 < provider_charged(secret) <= Decimal("40")
    assert spent_by(alice) + spent_by(bob) == provider_charged(secret)


def test_one_purchase_sent_many_times_at_once_buys_once_and_answers_each(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    token = uuid.uuid4()
    results = at_once(
        [
            lambda: activation_buy(
                membership=Membership.objects.get(pk=owner.pk),
                api_key=api_key,
                request=TG,
                request_token=token,
            )
        ]
        * 12
    )
    assert all(isinstance(r, Activation) for r in results), results
    assert len({r.pk for r in results}) == 1
    assert Activation.objects.count() == 1
    assert provider_charged(secret) == LedgerEntry.objects.get().amount


def test_the_buy_form_sent_many_times_at_once_never_answers_500(team, bob, make_key):
    api_key, secret = make_key("--sms-delay", "3600")
    data = buy_data(api_key)
    clients = [login(bob) for _ in range(12)]
    statuses = at_once([lambda c=c: c.post(url("buy", team), data).status_code for c in clients])
    assert set(statuses) <= {200, 302}, statuses
    assert Activation.objects.count() == 1


def test_purchases_refused_by_the_provider_at_once_leave_nothing_in_flight(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    results = at_once(
        [
            lambda: activation_buy(
                membership=Membership.objects.get(pk=owner.pk),
                api_key=api_key,
                request=BuyRequest(service="tg", country=9999),
            )
        ]
        * 6
    )
    assert all(isinstance(r, PurchaseRefused) for r in results)
    assert provider_charged(secret) == 0
    assert not Activation.objects.exclude(status="failed").exists()
