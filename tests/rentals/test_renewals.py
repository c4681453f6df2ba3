"""Auto-renew against the sandbox: renewals happen once per window, whatever runs twice or dies halfway."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from accounts.models import AuditEntry, LedgerEntry, LedgerKind
from accounts.services import ActionRefused
from kit.phrases import phrase_text
from providers.client import ProviderClient
from providers.keys import client_for_key
from rentals import polling
from rentals.models import RenewalStatus, Rental, RentalRenewal, RentalStatus
from rentals.selectors import at_risk
from rentals.services import (
    RentRequest,
    _claim_renewal,
    auto_renew_configure,
    continue_price,
    rental_extend,
    rental_rent,
    rental_set_status,
    sweep_renewals,
)
from sandbox.models import Rental as SandboxRental
from tests.activations.conftest import ledger_net, provider_charged

from .conftest import set_sandbox, shift_end, upstream

TG = RentRequest(service="tg", country=0, hours=4)


@pytest.fixture
def continues(monkeypatch) -> list[str]:
    """Records every continueRentNumber sent upstream (the transport stays real)."""
    sent: list[str] = []
    original = ProviderClient.continue_rent_number

    def wrapper(self, *, id, rent_time=None):
        sent.append(str(id))
        return original(self, id=id, rent_time=rent_time)

    monkeypatch.setattr(ProviderClient, "continue_rent_number", wrapper)
    return sent


def rented_with_auto_renew(owner, api_key, **policy) -> Rental:
    rental = rental_rent(membership=owner, api_key=api_key, request=TG)
    rental.refresh_from_db()
    options = {"enabled": True, "before_hours": 1, "hours": 4, "budget": None, "until": None, **policy}
    auto_renew_configure(
        membership=owner,
        rental=rental,
        enabled=options["enabled"],
        before_hours=options["before_hours"],
        hours=options["hours"],
        budget=options["budget"],
        until=options["until"],
    )
    rental.refresh_from_db()
    return rental


def test_it_auto_renews_a_rental_when_it_is_due(make_key, owner, soon, continues):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    assert sweep_renewals()["interrupted"] == 0 and continues == []  # 4 h left: not due yet
    shift_end(rental, to=soon)  # 30 minutes left, renew 1 h before the end: due
    sweep_renewals()
    rental.refresh_from_db()
    assert continues == [rental.upstream_id]
    assert abs(rental.ends_at - (soon + timedelta(hours=4))) < timedelta(seconds=2)
    renewal = RentalRenewal.objects.get()
    assert renewal.auto and renewal.status == RenewalStatus.DONE and renewal.cost > 0
    entry = LedgerEntry.objects.get(kind=LedgerKind.RENEWAL)
    assert entry.amount == renewal.cost and entry.member == owner.user
    assert rental.renew_spent == renewal.cost and rental.total_cost == rental.cost + renewal.cost
    assert AuditEntry.objects.filter(action="rental.renew").count() == 1
    assert upstream(rental).ends_at.replace(microsecond=0) == rental.ends_at.replace(microsecond=0)


def test_sweeping_twice_renews_once(make_key, owner, soon, continues):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    sweep_renewals()
    sweep_renewals()
    assert continues == [rental.upstream_id]
    assert RentalRenewal.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1


def test_a_stale_copy_of_the_rental_cannot_claim_the_window_again(make_key, owner, soon):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    stale = Rental.objects.get(pk=rental.pk)
    price = continue_price(rental, 4)
    first = _claim_renewal(rental=rental, membership=owner, hours=4, price=price, auto=True)
    second = _claim_renewal(rental=stale, membership=owner, hours=4, price=price, auto=True)
    assert first is not None and second is None
    assert RentalRenewal.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_sweepers_at_once_renew_once(make_key, owner, soon, continues):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def sweep() -> None:
        try:
            barrier.wait(timeout=10)
            sweep_renewals()
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures
    assert continues == [rental.upstream_id]
    assert RentalRenewal.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1
    rental.refresh_from_db()
    assert abs(rental.ends_at - (soon + timedelta(hours=4))) < timedelta(seconds=2)


def _crash_mid_renewal(owner, rental: Rental, *, call_went_out: bool):
    """A worker claims the window and writes the intent, maybe calls the provider, then dies."""
    renewal = _claim_renewal(
        rental=rental, membership=owner, hours=4, price=continue_price(rental, 4), auto=True
    )
    assert renewal is not None
    if call_went_out:
        client_for_key(rental.api_key).continue_rent_number(id=rental.upstream_id, rent_time=4)
    # The lease runs out: the worker is gone.
    long_ago = timezone.now() - timedelta(minutes=10)
    RentalRenewal.objects.filter(pk=renewal.pk).update(created_at=long_ago)
    Rental.objects.filter(pk=rental.pk).update(renewing_until=long_ago)
    return renewal


def test_a_worker_killed_after_the_call_is_reconciled_without_renewing_twice(
    make_key, owner, soon, continues
):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    renewal = _crash_mid_renewal(owner, rental, call_went_out=True)
    continues.clear()
    assert sweep_renewals()["interrupted"] == 1
    sweep_renewals()
    assert continues == []  # never sent again
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.UNKNOWN
    rental.refresh_from_db()
    assert rental.renew_error_code == "INTERRUPTED"
    # Time passes beyond the old end: the provider still lists the rent, so the renewal happened.
    old_end = timezone.now() - timedelta(minutes=5)
    shift_end(rental, to=old_end, sandbox=False)
    polling.poll_key(api_key.pk)
    renewal.refresh_from_db()
    rental.refresh_from_db()
    assert renewal.status == RenewalStatus.DONE
    assert rental.status == RentalStatus.ACTIVE
    assert abs(rental.ends_at - (old_end + timedelta(hours=4))) < timedelta(seconds=2)
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1
    assert AuditEntry.objects.filter(action="rental.renewal_reconciled").exists()
    spent = sum(LedgerEntry.objects.values_list("amount", flat=True))
    assert client_for_key(api_key).get_balance().amount == Decimal("1000") - spent
    assert continues == []


def test_a_worker_killed_before_the_call_is_reconciled_as_not_renewed(make_key, owner, soon, continues):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    renewal = _crash_mid_renewal(owner, rental, call_went_out=False)
    sweep_renewals()
    assert continues == []
    # The old end passes upstream too: the rent ended, so it was not renewed and nothing was spent.
    shift_end(rental, to=timezone.now() - timedelta(minutes=5))
    polling.poll_key(api_key.pk)
    renewal.refresh_from_db()
    rental.refresh_from_db()
    assert renewal.status == RenewalStatus.FAILED
    assert rental.status == RentalStatus.FINISHED
    assert not LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).exists()
    assert AuditEntry.objects.filter(action="rental.renew_failed").exists()


def test_an_ambiguous_renewal_is_never_retried_blindly(make_key, owner, soon, continues):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    set_sandbox(secret, "--fault", "after_commit=1")  # renewed upstream, answer lost
    sweep_renewals()
    set_sandbox(secret, "--fault", "after_commit=0")
    sweep_renewals()
    sweep_renewals()
    assert continues == [rental.upstream_id]
    renewal = RentalRenewal.objects.get()
    assert renewal.status == RenewalStatus.UNKNOWN
    assert AuditEntry.objects.filter(action="rental.renew_unknown").count() == 1
    shift_end(rental, to=timezone.now() - timedelta(minutes=5), sandbox=False)
    polling.poll_key(api_key.pk)
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.DONE
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1


@pytest.mark.parametrize("fault", ["http5xx", "error_sql", "html"])
def test_faults_on_the_renewal_call_mean_unknown_not_a_second_call(make_key, owner, soon, continues, fault):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    price = continue_price(rental, 4)
    renewal = _claim_renewal(rental=rental, membership=owner, hours=4, price=price, auto=True)
    set_sandbox(secret, "--fault", f"{fault}=1")
    from rentals.services import _run_renewal

    _run_renewal(renewal, actor=None)
    set_sandbox(secret, "--fault", f"{fault}=0")
    assert renewal.status == RenewalStatus.UNKNOWN
    sweep_renewals()
    assert continues == [rental.upstream_id]
    # The fault answered before anything changed upstream: at the old end the rent is gone, not renewed.
    shift_end(rental, to=timezone.now() - timedelta(minutes=5))
    polling.poll_key(api_key.pk)
    renewal.refresh_from_db()
    assert renewal.status == RenewalStatus.FAILED
    assert not LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).exists()


def test_an_extend_refused_by_a_5xx_before_the_provider_acted_can_be_tried_again_at_once(
    make_key, owner, continues
):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    ends = rental.ends_at
    set_sandbox(secret, "--fault", "http5xx=1", "--fault-actions", "continueRentNumber")
    with pytest.raises(ActionRefused) as refused:
        rental_extend(membership=owner, rental=rental, hours=4)
    assert "Nothing was charged" in refused.value.message
    assert RentalRenewal.objects.get().status == RenewalStatus.FAILED
    set_sandbox(secret, "--fault", "http5xx=0")
    rental.refresh_from_db()
    renewal = rental_extend(membership=owner, rental=rental, hours=4)
    assert renewal.status == RenewalStatus.DONE
    rental.refresh_from_db()
    assert rental.ends_at == ends + timedelta(hours=4)
    assert ledger_net(api_key) == provider_charged(secret)


def test_an_extend_whose_answer_was_lost_after_the_charge_stays_unknown(make_key, owner, continues):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    set_sandbox(secret, "--fault", "after_commit=1", "--fault-actions", "continueRentNumber")
    renewal = rental_extend(membership=owner, rental=rental, hours=4)
    assert renewal.status == RenewalStatus.UNKNOWN  # the balance moved: it may have been renewed
    set_sandbox(secret, "--fault", "after_commit=0")
    rental.refresh_from_db()
    with pytest.raises(ActionRefused):
        rental_extend(membership=owner, rental=rental, hours=4)
    assert len(continues) == 1


def test_a_renewal_refused_for_balance_is_shown_audited_and_warned(make_key, owner, soon, continues):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    set_sandbox(secret, "--balance", "0")
    shift_end(rental, to=soon)
    sweep_renewals()
    rental.refresh_from_db()
    assert rental.renew_error_code == "NO_BALANCE" and "not enough balance" in phrase_text(
        rental.renew_error_message
    )
    assert rental.renew_retry_at > timezone.now() and rental.renewal_window_end is None
    assert AuditEntry.objects.filter(action="rental.renew_failed").count() == 1
    assert [(r.pk, "failing" in reason) for r, reason in at_risk(owner)] == [(rental.pk, True)]
    client = Client()
    client.force_login(owner.user)
    home = client.get(f"/t/{owner.team.slug}/").content.decode()
    assert 'id="rentals-at-risk"' in home and "1 rented number ends soon" in home
    sweep_renewals()  # waits for the retry time: no second attempt now
    assert len(continues) == 1
    # Money back: the next attempt (after the retry time) succeeds.
    set_sandbox(secret, "--balance", "1000")
    Rental.objects.filter(pk=rental.pk).update(renew_retry_at=timezone.now())
    sweep_renewals()
    rental.refresh_from_db()
    assert rental.renew_error_code == "" and rental.ends_at > soon
    assert at_risk(owner) == []


def test_max_hours_exceed_stops_auto_renew_with_a_reason(make_key, owner, soon, settings, continues):
    settings.SANDBOX_RENT_MAX_HOURS = 4
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key)
    shift_end(rental, to=soon)
    SandboxRental.objects.filter(pk=int(rental.upstream_id)).update(max_ends_at=soon + timedelta(hours=1))
    sweep_renewals()
    rental.refresh_from_db()
    assert rental.renew_error_code == "MAX_HOURS_EXCEED" and not rental.auto_renew
    assert "at most 1 more hours" in phrase_text(rental.renew_error_message)
    assert continues == []
    assert at_risk(owner)[0][0] == rental


def test_the_budget_and_the_end_date_bound_auto_renew(make_key, owner, soon, continues):
    api_key, _ = make_key("--sms-delay", "3600")
    rental = rented_with_auto_renew(owner, api_key, budget=Decimal("0.01"))
    shift_end(rental, to=soon)
    sweep_renewals()
    rental.refresh_from_db()
    assert continues == [] and "budget is used up" in phrase_text(rental.renew_error_message)
    auto_renew_configure(
        membership=owner,
        rental=rental,
        enabled=True,
        before_hours=1,
        hours=4,
        budget=None,
        until=soon - timedelta(minutes=1),
    )
    sweep_renewals()
    assert continues == []  # the number is already kept until the chosen date
    rental.refresh_from_db()
    assert "end date" in at_risk(owner)[0][1]


def test_a_rental_whose_renewal_is_being_checked_cannot_be_ended_until_it_is_settled(
    make_key, owner, continues
):
    api_key, secret = make_key("--sms-delay", "3600")
    rental = rental_rent(membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0))
    set_sandbox(secret, "--fault", "after_commit=1", "--fault-actions", "continueRentNumber")
    assert rental_extend(membership=owner, rental=rental, hours=4).status == RenewalStatus.UNKNOWN
    set_sandbox(secret, "--fault", "after_commit=0")
    rental.refresh_from_db()
    for action in ("finish", "cancel"):
        with pytest.raises(ActionRefused) as refused:
            rental_set_status(membership=owner, rental=rental, action=action)
        assert "being checked" in refused.value.message
    # The old end passes with the number still rented: it was renewed, and may be ended now.
    shift_end(rental, to=timezone.now() - timedelta(minutes=5), sandbox=False)
    polling.poll_key(api_key.pk)
    assert RentalRenewal.objects.get().status == RenewalStatus.DONE
    rental.refresh_from_db()
    rental_set_status(membership=owner, rental=rental, action="finish")
    assert ledger_net(api_key) == provider_charged(secret)
