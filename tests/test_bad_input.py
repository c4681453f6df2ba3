"""Input any member can type (history filters, buy and rent forms): a clear message, never a 500, nothing written."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, KeyHealth, Membership
from activations.forms import BuyForm
from activations.models import Activation
from rentals.forms import RentChoiceForm

BIG = str(2**64)


def login(user) -> Client:
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def make_key(team, *, secret: str = "secret-1234") -> ApiKey:
    return ApiKey.objects.create(
        team=team,
        label="Key",
        profile="sandbox",
        secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:],
        currency="RUB",
        health=KeyHealth.OK,
    )


HISTORY_PAGES = [
    "activations:history",
    "activations:history_csv",
    "activations:ledger_csv",
    "rentals:rent_history",
    "rentals:export",
    "rentals:export_messages",
]


@pytest.mark.parametrize("name", HISTORY_PAGES)
@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "9999-12-31", "date_to": "9999-12-31"},
        {"date_to": "0001-01-01"},
        {"country": BIG},
        {"country": str(2**31)},
        {"country": "-" + BIG},
        {"country": "²"},
    ],
)
def test_it_answers_history_pages_and_csvs_with_absurd_filters(team, alice, name, query):
    response = login(alice).get(reverse(name, args=[team.slug]), query)
    assert response.status_code == 200
    if name == "activations:history" and "country" in query:
        assert "Country" in response.content.decode()


@pytest.mark.parametrize("country", ["²", "٣", "99999999999", BIG, str(2**31)])
def test_it_refuses_a_buy_country_that_is_no_country_id(team, alice, country):
    membership = Membership.objects.get(team=team, user=alice)
    key = make_key(team)
    form = BuyForm(
        {"api_key": str(key.public_id), "service": "tg", "country": country, "request_token": "0" * 32},
        membership=membership,
    )
    assert not form.is_valid()
    assert "country" in form.errors


@pytest.mark.parametrize("country", ["²", "99999999999", BIG])
def test_it_refuses_a_rent_country_that_is_no_country_id(team, alice, country):
    membership = Membership.objects.get(team=team, user=alice)
    key = make_key(team)
    form = RentChoiceForm(
        {"api_key": str(key.public_id), "country": country, "hours": "4"}, membership=membership
    )
    assert not form.is_valid()
    assert "country" in form.errors


def test_it_refuses_operators_that_do_not_fit_their_column(team, alice):
    membership = Membership.objects.get(team=team, user=alice)
    key = make_key(team)
    operators = [f"operator_{n:02d}" for n in range(8)]  # 8 * 11 + 7 commas = 95 characters
    form = BuyForm(
        {
            "api_key": str(key.public_id),
            "service": "tg",
            "country": "0",
            "operator": operators,
            "request_token": "0" * 32,
        },
        membership=membership,
    )
    assert not form.is_valid()
    assert "operator" in form.errors


def test_it_answers_a_buy_post_with_absurd_values_with_the_form(team, alice):
    key = make_key(team)
    response = login(alice).post(
        reverse("activations:buy", args=[team.slug]),
        {
            "api_key": str(key.public_id),
            "service": "tg",
            "country": "²",
            "operator": [f"operator_{n:02d}" for n in range(8)],
            "request_token": "0" * 32,
        },
    )
    assert response.status_code == 200
    assert not Activation.objects.exists()


def test_it_ignores_a_country_filter_beyond_the_column_with_a_message(team, alice):
    from activations.filters import HistoryFilters

    filters = HistoryFilters({"country": str(2**31)})
    assert filters.ignored and filters.problems
    response = login(alice).get(reverse("activations:history", args=[team.slug]), {"country": BIG})
    assert response.status_code == 200
