"""Renting asks once, stating the price, before anything is spent."""

from django.urls import reverse

from accounts.models import LedgerEntry
from rentals.models import Rental
from tests.conftest import login


def test_renting_asks_once_with_the_price_before_spending(make_key, team, alice):
    api_key, _ = make_key("--sms-delay", "3600")
    client = login(alice)
    page = client.get(
        reverse("rentals:rent", args=[team.slug]), {"api_key": api_key.public_id, "country": 0, "hours": 12}
    ).content.decode()
    row = page.split('data-service="tg"')[1].split("</tr>")[0]
    price = row.split('<td class="num">')[1].split("</td>")[0].strip()
    assert price.endswith(" RUB")
    form = row.split("<form")[1].split(">")[0]
    assert f'data-confirm="Rent a number for Telegram for 12 hours at {price}?"' in form
    # Showing the offers and the question spends nothing.
    assert not Rental.objects.exists() and not LedgerEntry.objects.exists()
