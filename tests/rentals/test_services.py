"""Renting, finishing, cancelling and extending by hand against the sandbox over real HTTP."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import AuditEntry, LedgerEntry, LedgerKind
from accounts.permissions import SpendDenied
from accounts.services import ActionRefused
from providers.keys import client_for_key
from purchases.services import PurchaseRefused
from rentals.models import Rental, RentalStatus
from rentals.selectors import extend_quote
from rentals.services import RentRequest, rental_extend, rental_rent, rental_set_status
from sandbox.models import Rental as SandboxRental
from tests.conftest import sandbox_account

from .conftest import register_key, upstream

TG = RentRequest(service="tg", country=0, hours=4)


def balance(api_key) -> Decimal:
    return client_for_key(api_key).get_balance().amount


def test_it_rents_a_number_and_books_it(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental.refresh_from_db()
    assert rental.status == RentalStatus.ACTIVE
    assert int(rental.upstream_id) >= 1_049_000 and rental.phone.startswith("7")
    assert abs((rental.ends_at - timezone.now()) - timedelta(hours=4)) < timedelta(minutes=1)
    assert rental.cost > 0 and rental.total_cost == rental.cost
    entry = LedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.reference, entry.member) == (
        LedgerKind.RENT,
        rental.cost,
        rental.upstream_id,
        owner.user,
    )
    assert balance(api_key) == Decimal("1000") - rental.cost
    assert AuditEntry.objects.filter(action="rental.rent").count() == 1
    # The provider was told where to post the SMS.
    assert upstream(rental).url.endswith(f"/hooks/{api_key.webhook_token}/rent/")


def test_it_rents_once_when_the_form_is_sent_twice(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    token = uuid.uuid4()
    first = rental_rent(membership=owner, api_key=api_key, request=TG, request_token=token)
    second = rental_rent(membership=owner, api_key=api_key, request=TG, request_token=token)
    assert first.pk == second.pk and Rental.objects.count() == 1
    assert len(client_for_key(api_key).get_rent_list()) == 1


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (RentRequest(service="tg", country=9999), "no free numbers"),
        (RentRequest(service="zzzz", country=0), "does not know this service"),
    ],
)
def test_it_refuses_clearly_and_spends_nothing(make_key, owner, request_, message):
    api_key, _ = make_key()
    with pytest.raises(PurchaseRefused) as refused:
        rental_rent(membership=owner, api_key=api_key, request=request_)
    assert message in refused.value.message
    assert Rental.objects.get().status == RentalStatus.FAILED
    assert not LedgerEntry.objects.exists()
    assert balance(api_key) == Decimal("1000")


def test_it_refuses_without_balance(team, sandbox_url, owner):
    api_key = register_key(team, sandbox_account("--balance", "0"))
    with pytest.raises(PurchaseRefused) as refused:
        rental_rent(membership=owner, api_key=api_key, request=TG)
    assert "not enough balance" in refused.value.message


def test_limits_are_checked_before_any_upstream_call(make_key, owner):
    api_key, _ = make_key()
    api_key.daily_budget = Decimal("0.01")
    api_key.save()
    with pytest.raises(SpendDenied):
        rental_rent(membership=owner, api_key=api_key, request=TG)
    assert not Rental.objects.exists()
    assert client_for_key(api_key).get_rent_list() == []


def test_it_refuses_a_length_outside_4_to_1344_hours(make_key, owner):
    api_key, _ = make_key()
    with pytest.raises(ActionRefused):
        rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0, hours=2))
    assert not Rental.objects.exists()


def test_it_cancels_within_20_minutes_with_a_refund(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental_set_status(membership=owner, rental=rental, action="cancel")
    rental.refresh_from_db()
    assert rental.status == RentalStatus.CANCELLED and rental.total_cost == 0
    kinds = sorted(LedgerEntry.objects.values_list("kind", "amount"))
    assert kinds == [(LedgerKind.REFUND, -rental.cost), (LedgerKind.RENT, rental.cost)]
    assert balance(api_key) == Decimal("1000")


def test_it_refuses_to_cancel_after_20_minutes_in_plain_words(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    # Our own clock says too late: refused before asking the provider.
    Rental.objects.filter(pk=rental.pk).update(started_at=timezone.now() - timedelta(minutes=25))
    rental.refresh_from_db()
    with pytest.raises(ActionRefused) as refused:
        rental_set_status(membership=owner, rental=rental, action="cancel")
    assert "first 20 minutes" in refused.value.message
    # The provider's clock says too late (CANT_CANCEL): explained the same way, nothing changes.
    Rental.objects.filter(pk=rental.pk).update(started_at=timezone.now())
    SandboxRental.objects.filter(pk=int(rental.upstream_id)).update(
        started_at=timezone.now() - timedelta(minutes=25)
    )
    rental.refresh_from_db()
    with pytest.raises(ActionRefused) as refused:
        rental_set_status(membership=owner, rental=rental, action="cancel")
    assert "first 20 minutes" in refused.value.message
    rental.refresh_from_db()
    assert rental.status == RentalStatus.ACTIVE
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND).exists()


def test_it_finishes_and_explains_already_finished(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    client_for_key(api_key).set_rent_status(id=rental.upstream_id, status=1)  # finished elsewhere
    with pytest.raises(ActionRefused) as refused:
        rental_set_status(membership=owner, rental=rental, action="finish")
    assert "already finished" in refused.value.message
    rental.refresh_from_db()
    assert rental.status == RentalStatus.FINISHED
    other = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental_set_status(membership=owner, rental=other, action="finish")
    other.refresh_from_db()
    assert other.status == RentalStatus.FINISHED and other.closed_at
    assert not LedgerEntry.objects.filter(kind=LedgerKind.REFUND).exists()


def test_it_extends_by_hand_with_the_price_shown_first(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental.refresh_from_db()
    old_end = rental.ends_at
    quote = extend_quote(rental, 12)
    assert quote.price and not quote.error
    renewal = rental_extend(membership=owner, rental=rental, hours=12)
    rental.refresh_from_db()
    assert renewal.status == "done" and renewal.cost == quote.price
    assert abs(rental.ends_at - (old_end + timedelta(hours=12))) < timedelta(seconds=2)
    assert rental.total_cost == rental.cost + quote.price
    entry = LedgerEntry.objects.get(kind=LedgerKind.RENEWAL)
    assert entry.amount == quote.price and entry.reference == rental.upstream_id
    assert balance(api_key) == Decimal("1000") - rental.cost - quote.price
    assert upstream(rental).ends_at.replace(microsecond=0) == rental.ends_at.replace(microsecond=0)


def test_it_explains_the_maximum_length(make_key, owner, settings):
    settings.SANDBOX_RENT_MAX_HOURS = 10
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental.refresh_from_db()
    assert "at most 6 more hours" in extend_quote(rental, 12).error
    with pytest.raises(ActionRefused) as refused:
        rental_extend(membership=owner, rental=rental, hours=12)
    assert "at most 6 more hours" in refused.value.message
    assert not LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).exists()
    with pytest.raises(ActionRefused):
        rental_extend(membership=owner, rental=rental, hours=2000)


def test_a_finished_rental_is_reordered_under_a_new_id(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental_set_status(membership=owner, rental=rental, action="finish")
    rental.refresh_from_db()
    renewal = rental_extend(membership=owner, rental=rental, hours=4)
    new = renewal.new_rental
    assert new is not None and new.previous_id == rental.pk
    assert new.upstream_id != rental.upstream_id and new.phone == rental.phone
    assert new.status == RentalStatus.ACTIVE
    assert LedgerEntry.objects.get(kind=LedgerKind.RENEWAL).reference == new.upstream_id
    with pytest.raises(ActionRefused):
        rental_extend(membership=owner, rental=rental, hours=4)  # only once


def test_viewers_cannot_rent_or_change(make_key, team, vera, owner):
    from accounts.models import Membership

    api_key, _ = make_key("--sms-delay", "3600")
    viewer = Membership.objects.get(team=team, user=vera)
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    with pytest.raises(ActionRefused):
        rental_set_status(membership=viewer, rental=rental, action="finish")
    with pytest.raises(ActionRefused):
        rental_extend(membership=viewer, rental=rental, hours=4)
