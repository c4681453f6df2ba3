"""A rental's stored renewal error (a renewal refused by a worker) is said in the reader's language
on the board: the refusal table's words with their parameters, written while English was active."""

from decimal import Decimal
from html import unescape

import pytest
from django.utils import translation

from providers import errors
from purchases.messages import refusal
from rentals.models import Rental, RentalStatus
from tests.accounts.conftest import client_for, make_key
from tests.catalogs import install_russian

MAX_HOURS = "The provider allows at most %(max)s more hours on this number."


@pytest.fixture
def russian(settings, tmp_path):
    install_russian(
        settings,
        tmp_path,
        {
            MAX_HOURS: "Провайдер разрешает не больше %(max)s ч. на этом номере.",
        },
    )


def test_a_renewal_refused_in_a_worker_reads_in_russian_on_the_board(russian, team, alice):
    api_key = make_key(team)
    with translation.override("en"):  # the worker that tried to renew
        renew_error = refusal(errors.MaxHoursExceed(maximum=3)).stored(300)
    Rental.objects.create(
        team=team, api_key=api_key, member=alice, upstream_id="555", phone="79001234567", service="tg",
        country=0, cost=Decimal("5"), total_cost=Decimal("5"), currency="RUB", status=RentalStatus.ACTIVE,
        auto_renew=True, renew_error_code="MAX_HOURS_EXCEED", renew_error_message=renew_error,
    )  # fmt: skip
    board = unescape(client_for(alice).get("/t/acme/rentals/", HTTP_ACCEPT_LANGUAGE="ru").content.decode())
    assert "Провайдер разрешает не больше 3 ч. на этом номере." in board
    assert '{"m"' not in board and "The provider allows" not in board
    english = unescape(client_for(alice).get("/t/acme/rentals/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "The provider allows at most 3 more hours on this number." in english
