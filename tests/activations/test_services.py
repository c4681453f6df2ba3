"""Buying and changing activations against the sandbox over real HTTP: money safety first."""

import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEntry, LedgerEntry, LedgerKind
from accounts.permissions import SpendDenied
from accounts.services import ActionRefused
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy, activation_set_status
from providers.keys import client_for_key
from purchases.services import PurchaseRefused

from .conftest import set_sandbox

TG_RU = BuyRequest(service="tg", country=0)


def upstream_balance(api_key) -> Decimal:
    return client_for_key(api_key).get_balance().amount


def test_it_buys_a_number_and_books_it(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.WAITING
    assert activation.upstream_id and int(activation.upstream_id) > 2**31
    assert activation.phone.startswith("7") and activation.cost > 0
    assert activation.cancel_allowed_at == activation.bought_at + timedelta(seconds=120)
    assert activation.expires_at > timezone.now()
    ledger = LedgerEntry.objects.get(team=owner.team)
    assert (ledger.kind, ledger.amount, ledger.reference) == (
        LedgerKind.PURCHASE,
        activation.cost,
        activation.upstream_id,
    )
    assert ledger.member == owner.user
    assert upstream_balance(api_key) == Decimal("1000") - activation.cost
    assert AuditEntry.objects.filter(team=owner.team, action="activation.buy").count() == 1


def test_it_buys_once_when_the_form_is_sent_twice(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    token = uuid.uuid4()
    first = activation_buy(membership=owner, api_key=api_key, request=TG_RU, request_token=token)
    second = activation_buy(membership=owner, api_key=api_key, request=TG_RU, request_token=token)
    assert first.pk == second.pk
    assert Activation.objects.count() == 1
    assert len(client_for_key(api_key).get_active_activations()) == 1


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (BuyRequest(service="tg", country=9999), "no free numbers"),
        (BuyRequest(service="zzzz", country=0), "does not know this service"),
        (BuyRequest(service="tg", country=0, max_price=Decimal("0.01")), "lowest price now is"),
    ],
)
def test_it_refuses_clearly_and_spends_nothing(make_key, owner, request_, message):
    api_key, _ = make_key()
    with pytest.raises(PurchaseRefused) as refused:
        activation_buy(membership=owner, api_key=api_key, request=request_)
    assert message in refused.value.message
    assert Activation.objects.get().status == ActivationStatus.FAILED
    assert not LedgerEntry.objects.exists()
    assert upstream_balance(api_key) == Decimal("1000")


def test_it_refuses_without_balance(team, sandbox_url, owner):
    from tests.conftest import sandbox_account

    from .conftest import register_key

    api_key = register_key(team, sandbox_account("--balance", "0"))
    with pytest.raises(PurchaseRefused) as refused:
        activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    assert "not enough balance" in refused.value.message
    assert not LedgerEntry.objects.exists()


def test_it_reports_a_ban_with_its_end(make_key, owner):
    api_key, secret = make_key()
    until = timezone.now() + timedelta(hours=2)
    set_sandbox(secret, "--banned-until", until.isoformat())
    with pytest.raises(PurchaseRefused) as refused:
        activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    assert "banned" in refused.value.message and until.strftime("%Y-%m-%d") in refused.value.message
    api_key.refresh_from_db()
    assert api_key.health == "banned" and api_key.banned_until is not None
    # The key now refuses before any upstream call.
    with pytest.raises(SpendDenied):
        activation_buy(membership=owner, api_key=api_key, request=TG_RU)


def test_it_enforces_limits_before_calling_the_provider(make_key, owner, operator):
    api_key, _ = make_key("--sms-delay", "3600")
    api_key.max_price = Decimal("1")
    api_key.save()
    with pytest.raises(SpendDenied) as denied:
        activation_buy(
            membership=owner,
            api_key=api_key,
            request=BuyRequest(service="tg", country=0, max_price=Decimal("5")),
        )
    assert "maximum price" in denied.value.message
    api_key.max_price = None
    api_key.daily_budget = Decimal("0.5")
    api_key.save()
    with pytest.raises(SpendDenied) as denied:
        activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    assert "daily budget" in denied.value.message
    api_key.daily_budget = None
    api_key.save()
    operator.daily_spend_limit = Decimal("0.5")
    operator.save()
    with pytest.raises(SpendDenied) as denied:
        activation_buy(membership=operator, api_key=api_key, request=TG_RU)
    assert "daily spend limit" in denied.value.message
    assert not Activation.objects.exists()
    assert upstream_balance(api_key) == Decimal("1000")


def test_it_counts_spend_of_today_against_the_member_limit(make_key, operator):
    api_key, _ = make_key("--sms-delay", "3600")
    first = activation_buy(membership=operator, api_key=api_key, request=TG_RU)
    operator.daily_spend_limit = first.cost * Decimal("1.5")
    operator.save()
    with pytest.raises(SpendDenied):
        activation_buy(membership=operator, api_key=api_key, request=TG_RU)
    assert Activation.objects.count() == 1


def test_viewers_and_ungranted_operators_cannot_buy(make_key, team, vera, operator):
    from django.core.exceptions import PermissionDenied

    from accounts.models import Membership

    api_key, _ = make_key()
    viewer = Membership.objects.get(team=team, user=vera)
    with pytest.raises(PermissionDenied):
        activation_buy(membership=viewer, api_key=api_key, request=TG_RU)
    api_key.restrict_to_members = True
    api_key.save()
    with pytest.raises(SpendDenied) as denied:
        activation_buy(membership=operator, api_key=api_key, request=TG_RU)
    assert "not allowed to use" in denied.value.message
    assert not Activation.objects.exists()


def test_it_marks_a_lost_answer_unknown_and_never_retries(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    set_sandbox(secret, "--fault", "after_commit=1")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    set_sandbox(secret, "--fault", "after_commit=0")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.UNKNOWN
    assert activation.upstream_id is None
    assert not LedgerEntry.objects.exists()
    # Exactly one number was bought upstream: the call was not repeated.
    assert len(client_for_key(api_key).get_active_activations()) == 1


def test_it_cancels_after_the_lock_with_a_refund(make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "120")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    with pytest.raises(ActionRefused) as refused:
        activation_set_status(membership=owner, activation=activation, action="cancel")
    assert "allows cancelling from" in refused.value.message
    # Pretend the lock is over on both sides.
    from sandbox.models import Activation as SandboxActivation

    past = timezone.now() - timedelta(minutes=3)
    SandboxActivation.objects.filter(pk=int(activation.upstream_id)).update(created_at=past)
    Activation.objects.filter(pk=activation.pk).update(cancel_allowed_at=past)
    activation.refresh_from_db()
    activation_set_status(membership=owner, activation=activation, action="cancel")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CANCELLED
    amounts = sorted(LedgerEntry.objects.values_list("amount", flat=True))
    assert amounts == [-activation.cost, activation.cost]
    assert upstream_balance(api_key) == Decimal("1000")


def test_it_reports_ready_asks_for_another_code_and_finishes(make_key, owner):
    from activations.services import activation_refresh

    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    activation_set_status(membership=owner, activation=activation, action="ready")
    assert activation.ready_reported
    call_command("sandbox_account", "sms", activation.upstream_id, "Your code: 123-456")
    activation_refresh(activation=activation)
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CODE_RECEIVED and activation.last_code
    activation_set_status(membership=owner, activation=activation, action="another")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.WAIT_RETRY
    with pytest.raises(ActionRefused):
        activation_set_status(membership=owner, activation=activation, action="cancel")
    activation_set_status(membership=owner, activation=activation, action="finish")
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
    assert LedgerEntry.objects.get().kind == LedgerKind.PURCHASE


def test_a_viewer_cannot_change_an_activation(make_key, owner, team, vera):
    from accounts.models import Membership

    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(membership=owner, api_key=api_key, request=TG_RU)
    with pytest.raises(ActionRefused):
        activation_set_status(
            membership=Membership.objects.get(team=team, user=vera), activation=activation, action="cancel"
        )


def test_money_in_flight_in_any_feature_counts_against_the_budget(make_key, owner):
    from rentals.models import Rental, RentalStatus

    api_key, _ = make_key("--sms-delay", "3600")
    api_key.daily_budget = Decimal("100")
    api_key.save()
    # A rent whose answer was lost may have cost 90: a purchase over the remaining 10 must wait.
    Rental.objects.create(
        team=owner.team,
        api_key=api_key,
        service="tg",
        currency="RUB",
        cost=Decimal("90"),
        status=RentalStatus.UNKNOWN,
    )
    with pytest.raises(SpendDenied) as denied:
        activation_buy(
            membership=owner,
            api_key=api_key,
            request=BuyRequest(service="tg", country=0, max_price=Decimal("20")),
        )
    assert "daily budget" in denied.value.message
    assert not Activation.objects.exists()
