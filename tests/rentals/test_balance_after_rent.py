"""A rent, a renewal and a refunded cancel each have the key's balance read again (in the worker, after the
money is committed); the rent form shows the chosen key's balance. Against the sandbox over HTTP."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey
from providers import tasks
from rentals.services import RentRequest, rental_extend, rental_rent, rental_set_status

TG = RentRequest(service="tg", country=0, hours=4)


@pytest.fixture
def enqueued(monkeypatch) -> list[int]:
    """The key ids of the balance refreshes sent to the broker (recorded instead of sent)."""
    sent: list[int] = []
    monkeypatch.setattr(
        tasks.refresh_key_balance, "apply_async", lambda args, **options: sent.append(args[0])
    )
    return sent


def _balance(api_key: ApiKey) -> Decimal:
    tasks.refresh_key_balance(api_key.pk)  # what the worker runs
    return ApiKey.objects.get(pk=api_key.pk).balance


def test_rent_renewal_and_refund_each_read_the_balance_again(make_key, owner, enqueued):
    api_key, _ = make_key("--sms-delay", "3600")

    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    assert enqueued == [api_key.pk]
    assert _balance(api_key) == Decimal("1000") - rental.cost

    renewal = rental_extend(membership=owner, rental=rental, hours=4)
    assert enqueued == [api_key.pk] * 2
    assert _balance(api_key) == Decimal("1000") - rental.cost - renewal.cost

    rental.refresh_from_db()
    rental_set_status(membership=owner, rental=rental, action="cancel")  # within 20 minutes: refunded
    assert enqueued == [api_key.pk] * 3
    assert _balance(api_key) == Decimal("1000")


def test_the_rent_form_shows_the_chosen_keys_balance_and_follows_the_choice(make_key, team, alice):
    first, _ = make_key()
    second, _ = make_key()
    now = timezone.now()
    ApiKey.objects.filter(pk=first.pk).update(label="A", balance=Decimal("640.25"), balance_updated_at=now)
    ApiKey.objects.filter(pk=second.pk).update(label="B", balance=Decimal("31"), balance_updated_at=now)
    client = Client()
    client.force_login(alice)
    url = reverse("rentals:rent", args=[team.slug])

    page = client.get(url).content.decode()
    assert 'id="key-balance"' in page and "640.25" in page and "31.00" not in page

    choice = {"api_key": str(second.public_id), "country": 0, "operator": "", "hours": 4}
    panel = client.get(url, choice, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="key-balance"' in panel and "31.00" in panel and "640.25" not in panel
