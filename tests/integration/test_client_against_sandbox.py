"""The protocol client against the sandbox provider over real HTTP, in both dialects.

Every action of the seed document and every documented error the sandbox can produce is
exercised here through `ProviderClient`, so a change on either side that breaks the wire
format fails a test.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from providers import errors
from providers.client import ProviderClient
from providers.profiles import get_profile
from providers.results import ActivationState, RentState, SetStatusResult
from sandbox.models import Activation as SandboxActivation
from sandbox.models import Rental as SandboxRental
from tests.conftest import sandbox_account

DIALECTS = ["classic", "hero"]


@pytest.fixture(autouse=True)
def _steady_prices(settings):
    settings.SANDBOX_PRICE_DRIFT = False


PROFILE_FOR = {"classic": "sandbox", "hero": "sandbox_hero"}


def make_client(sandbox_url: str, key: str, dialect: str = "classic", **options) -> ProviderClient:
    """A client built the way the product builds one: from the provider profile of the key."""
    assert get_profile("sandbox").base_url == sandbox_url
    return ProviderClient.for_profile(get_profile(PROFILE_FOR[dialect]), key, **options)


@pytest.fixture(params=DIALECTS)
def dialect(request) -> str:
    return request.param


@pytest.fixture
def quick(sandbox_url, dialect) -> ProviderClient:
    """An account whose codes arrive at once and whose numbers may be cancelled at once."""
    key = sandbox_account("--balance", "1000", "--dialect", dialect, "--sms-delay", "0", "--cancel-lock", "0")
    call_command("sandbox_account", "set", key, "--no-code-share", "0")
    return make_client(sandbox_url, key, dialect)


@pytest.fixture
def slow(sandbox_url, dialect) -> ProviderClient:
    """An account whose codes never come during a test and whose numbers are locked for 2 minutes."""
    key = sandbox_account("--balance", "1000", "--dialect", dialect, "--sms-delay", "3600")
    return make_client(sandbox_url, key, dialect)


def set_account(client: ProviderClient, *args: str) -> None:
    call_command("sandbox_account", "set", client._api_key, *args)


# --- account and catalogue ---------------------------------------------------------------------


def test_it_reads_the_balance_and_cashback(quick, dialect):
    balance = quick.get_balance()
    assert balance.amount == Decimal("1000")
    assert balance.currency == ("USD" if dialect == "hero" else "RUB")
    assert quick.get_balance_and_cashback().amount >= balance.amount


def test_it_reads_the_catalogue(quick, dialect):
    countries = {c.id: c for c in quick.get_countries()}
    assert countries[0].eng == "Russia" and countries[0].rus == "Россия"
    services = {s.code: s.name for s in quick.get_services_list()}
    assert "tg" in services and services["tg"]
    operators = quick.get_operators(country=0)
    assert "mts" in operators[0]
    assert quick.get_operators(country=9999) == {}
    prices = quick.get_prices(service="tg", country=0)
    assert len(prices) == 1 and prices[0].cost > 0 and prices[0].count > 0
    if dialect == "classic":
        assert quick.get_prices(service="tg", country=9999) == []
    else:
        with pytest.raises(errors.BadCountry):
            quick.get_prices(service="tg", country=9999)
    stock = {(s.service, s.forward): s.count for s in quick.get_numbers_status(country=0)}
    assert stock[("tg", False)] > 0
    verification = quick.get_prices_verification(service="tg")
    assert all(p.service == "tg" for p in verification)


def test_it_reads_top_countries_with_free_price_maps(quick):
    top = quick.get_top_countries_by_service(service="tg", free_price=True)
    assert top and all(t.service == "tg" for t in top)
    assert any(t.free_price_map for t in top)
    assert all(isinstance(price, Decimal) for t in top for price in t.free_price_map)
    shares = quick.get_list_of_top_countries_by_service(service="tg")
    assert shares and all(0 <= s.share <= 100 for s in shares)
    with pytest.raises(errors.BadService):
        quick.get_list_of_top_countries_by_service(service="zzzz")


# --- the activation state machine --------------------------------------------------------------


def test_it_buys_gets_a_code_asks_for_another_and_finishes(quick):
    before = quick.get_balance().amount
    order = quick.get_number_v2(service="tg", country=0)
    assert order.activation_id.isdigit() and int(order.activation_id) > 2**31
    assert order.phone.startswith("7") and order.cost > 0
    assert quick.get_balance().amount == before - order.cost

    status = quick.get_status(id=order.activation_id)
    assert status.status == ActivationState.OK and status.code
    first_code = status.code

    assert quick.set_status(id=order.activation_id, status=3) == SetStatusResult.RETRY_GET
    # The next code arrives at once on this account, so the retry state may already be over.
    status = quick.get_status(id=order.activation_id)
    assert status.status in (ActivationState.WAIT_RETRY, ActivationState.OK)

    assert quick.set_status(id=order.activation_id, status=6) == SetStatusResult.ACTIVATION
    assert quick.get_balance().amount == before - order.cost
    assert first_code


def test_it_lists_active_activations_with_their_codes(quick):
    order = quick.get_number_v2(service="wa", country=0)
    quick.get_status(id=order.activation_id)
    active = {a.activation_id: a for a in quick.get_active_activations()}
    assert order.activation_id in active
    row = active[order.activation_id]
    assert row.phone == order.phone and row.service == "wa" and row.cost == order.cost
    assert row.sms_codes


def test_it_answers_an_empty_active_list_with_an_empty_list(quick):
    assert quick.get_active_activations() == []


def test_it_reports_sms_sent_then_cancels_with_a_refund(quick):
    before = quick.get_balance().amount
    set_account(quick, "--sms-delay", "3600")
    order = quick.get_number(service="vk", country=0)
    assert quick.set_status(id=order.activation_id, status=1) == SetStatusResult.READY
    assert quick.get_status(id=order.activation_id).status == ActivationState.WAIT_CODE
    assert quick.set_status(id=order.activation_id, status=8) == SetStatusResult.CANCEL
    assert quick.get_status(id=order.activation_id).status == ActivationState.CANCEL
    assert quick.get_balance().amount == before


def test_it_refuses_an_early_cancel(slow):
    order = slow.get_number(service="vk", country=0)
    with pytest.raises(errors.EarlyCancelDenied):
        slow.set_status(id=order.activation_id, status=8)
    assert slow.get_status(id=order.activation_id).status == ActivationState.WAIT_CODE


def test_it_refuses_another_code_before_the_first(slow):
    order = slow.get_number(service="vk", country=0)
    with pytest.raises(errors.BadStatus):
        slow.set_status(id=order.activation_id, status=3)


def test_it_refunds_an_expired_number_that_got_no_code(slow):
    before = slow.get_balance().amount
    order = slow.get_number(service="vk", country=0)
    assert slow.get_balance().amount < before
    past = timezone.now() - timedelta(hours=1)
    SandboxActivation.objects.filter(pk=int(order.activation_id)).update(created_at=past, expires_at=past)
    assert slow.get_status(id=order.activation_id).status == ActivationState.CANCEL
    assert slow.get_balance().amount == before


def test_it_reads_the_history(quick):
    order = quick.get_number_v2(service="tg", country=0)
    quick.get_status(id=order.activation_id)
    quick.set_status(id=order.activation_id, status=6)
    history = {h.activation_id: h for h in quick.get_history(size=10)}
    assert order.activation_id in history
    assert history[order.activation_id].phone == order.phone
    assert history[order.activation_id].cost == order.cost


def test_it_buys_one_number_for_several_services(quick):
    rows = quick.get_multi_service_number(multi_service="tg,wa,vk", country=0)
    assert [r.service for r in rows] == ["tg", "wa", "vk"]
    assert len({r.phone for r in rows}) == 1
    assert len({r.activation_id for r in rows}) == 3


def test_it_adds_a_service_to_a_forwarded_number(quick):
    order = quick.get_number(service="vk", country=0, forward=True)
    quick.get_status(id=order.activation_id)
    extra = quick.get_additional_service(service="ok", id=order.activation_id)
    assert extra.phone == order.phone and extra.activation_id != order.activation_id
    with pytest.raises(errors.RepeatAdditionalService):
        quick.get_additional_service(service="ok", id=order.activation_id)


def test_it_refuses_an_additional_service_without_forwarding(quick):
    order = quick.get_number(service="vk", country=0)
    quick.get_status(id=order.activation_id)
    with pytest.raises(errors.WrongSecurity):
        quick.get_additional_service(service="ok", id=order.activation_id)


def test_it_reactivates_a_used_number(quick):
    order = quick.get_number(service="tg", country=0)
    with pytest.raises(errors.RenewNotAvailable):
        quick.check_extra_activation(activation_id=order.activation_id)
    quick.get_status(id=order.activation_id)
    quick.set_status(id=order.activation_id, status=6)
    price = quick.check_extra_activation(activation_id=order.activation_id)
    assert price.cost > 0 and price.phone == order.phone and price.service == "tg"
    again = quick.get_extra_activation(activation_id=order.activation_id)
    assert again.phone == order.phone and again.activation_id != order.activation_id


def test_it_follows_call_verification(quick):
    order = quick.get_number(service="tg", country=0, verification=True)
    call = quick.get_incoming_call_status(activation_id=order.activation_id)
    assert call.status in {"2", "3", "4", "5"}
    message = quick.create_task_for_call(activation_id=order.activation_id, phone="79990001122")
    assert message
    with pytest.raises(errors.CallTaskAlreadyExists):
        quick.create_task_for_call(activation_id=order.activation_id, phone="79990001122")
    calls = quick.get_outgoing_calls(activation_id=order.activation_id)
    assert calls and calls[0].activation_id


# --- documented errors -------------------------------------------------------------------------


def test_it_raises_the_documented_purchase_errors(quick, sandbox_url, dialect):
    with pytest.raises(errors.BadService):
        quick.get_number(service="zzzz", country=0)
    with pytest.raises(errors.NoNumbers):
        quick.get_number(service="tg", country=9999)
    with pytest.raises(errors.WrongMaxPrice) as wrong:
        quick.get_number(service="tg", country=0, max_price=Decimal("0.0001"))
    assert wrong.value.minimum > Decimal("0.0001")
    with pytest.raises(errors.WrongExceptionPhone):
        quick.get_number(service="tg", country=0, phone_exception="12")
    with pytest.raises(errors.NoActivation):
        quick.get_status(id="123")
    with pytest.raises(errors.NoActivation):
        quick.set_status(id="123", status=6)

    poor = make_client(sandbox_url, sandbox_account("--balance", "0", "--dialect", dialect), dialect)
    with pytest.raises(errors.NoBalance):
        poor.get_number(service="tg", country=0)
    assert poor.get_active_activations() == []


def test_it_raises_bad_key_in_both_dialects(sandbox_url):
    with pytest.raises(errors.BadKey):
        make_client(sandbox_url, "not-a-key-0000").get_balance()
    with pytest.raises(errors.BadKey) as hero:
        make_client(sandbox_url, "not-a-key-0000", "hero").get_balance()
    assert hero.value.http_status == 401


def test_it_raises_banned_with_the_time(quick):
    until = (timezone.now() + timedelta(hours=3)).replace(microsecond=0)
    set_account(quick, "--banned-until", until.isoformat())
    with pytest.raises(errors.Banned) as banned:
        quick.get_number(service="tg", country=0)
    assert banned.value.until is not None
    assert abs((banned.value.until - until).total_seconds()) <= 1


# --- rentals -----------------------------------------------------------------------------------


def test_it_rents_reads_messages_extends_and_finishes(slow):
    catalog = slow.get_rent_services_and_countries(rent_time=4, country=0)
    offers = {offer.service: offer for offer in catalog.services}
    assert offers["full"].cost > 0 and offers["full"].quant > 0
    assert 0 in catalog.countries and "mts" in catalog.operators
    before = slow.get_balance().amount
    order = slow.get_rent_number(service="tg", rent_time=4, country=0)
    assert order.phone and order.end_date > timezone.now()
    assert slow.get_balance().amount < before
    assert slow.get_rent_status(id=order.rent_id).status == RentState.WAIT_CODE
    assert order.rent_id in {r.rent_id for r in slow.get_rent_list()}

    call_command("sandbox_account", "sms", order.rent_id, "Your code is 4242")
    status = slow.get_rent_status(id=order.rent_id)
    assert status.status == RentState.ACTIVE
    assert [m.text for m in status.messages] == ["Your code is 4242"]

    assert slow.get_continue_rent_price_number(id=order.rent_id).price > 0
    longer = slow.continue_rent_number(id=order.rent_id, rent_time=4)
    assert longer.rent_id == order.rent_id
    assert longer.end_date > order.end_date
    with pytest.raises(errors.InvalidTime):
        slow.continue_rent_number(id=order.rent_id, rent_time=2)

    slow.set_rent_status(id=order.rent_id, status=1)
    with pytest.raises(errors.AlreadyFinish):
        slow.set_rent_status(id=order.rent_id, status=1)
    assert slow.get_rent_list() == []


def test_it_cancels_a_rent_within_twenty_minutes_with_a_refund(quick):
    before = quick.get_balance().amount
    order = quick.get_rent_number(service="tg", rent_time=4, country=0)
    quick.set_rent_status(id=order.rent_id, status=2)
    assert quick.get_balance().amount == before
    with pytest.raises(errors.AlreadyCancel):
        quick.set_rent_status(id=order.rent_id, status=2)

    late = quick.get_rent_number(service="tg", rent_time=4, country=0)
    SandboxRental.objects.filter(pk=int(late.rent_id)).update(
        started_at=timezone.now() - timedelta(minutes=21)
    )
    with pytest.raises(errors.CantCancel):
        quick.set_rent_status(id=late.rent_id, status=2)
    with pytest.raises(errors.IncorrectStatus):
        quick.set_rent_status(id=late.rent_id, status=7)


def test_it_reorders_a_finished_rent_with_a_new_id(quick):
    order = quick.get_rent_number(service="tg", rent_time=4, country=0)
    quick.set_rent_status(id=order.rent_id, status=1)
    again = quick.continue_rent_number(id=order.rent_id, rent_time=4)
    assert again.rent_id != order.rent_id and again.phone == order.phone


def test_it_refuses_renting_beyond_the_maximum(quick):
    order = quick.get_rent_number(service="tg", rent_time=4, country=0)
    with pytest.raises(errors.MaxHoursExceed) as exceeded:
        quick.continue_rent_number(id=order.rent_id, rent_time=1344)
    assert exceeded.value.maximum
    with pytest.raises(errors.InvalidPhone):
        quick.get_rent_status(id="1")


# --- faults ------------------------------------------------------------------------------------

FAULTS = [
    ("html", errors.ProtocolError),
    ("http5xx", errors.UpstreamUnavailable),
    ("error_sql", errors.ErrorSql),
    ("truncated_json", errors.ProtocolError),
]


@pytest.mark.parametrize(("fault", "expected"), FAULTS)
def test_it_turns_each_fault_into_its_error_without_spending(quick, fault, expected):
    before_list = quick.get_active_activations()
    set_account(quick, "--fault", f"{fault}=1")
    action = quick.get_countries if fault == "truncated_json" else quick.get_balance
    with pytest.raises(expected) as caught:
        action()
    assert quick._api_key not in str(caught.value)
    if fault == "truncated_json":
        # Only read-only JSON answers are cut; a purchase still answers whole.
        with pytest.raises(expected):
            quick.get_prices(service="tg")
    else:
        with pytest.raises(expected):
            quick.get_number_v2(service="tg", country=0)
    set_account(quick, "--fault", f"{fault}=0")
    assert quick.get_active_activations() == before_list


def test_it_gives_up_on_a_timeout(sandbox_url):
    key = sandbox_account("--balance", "10")
    client = make_client(sandbox_url, key, timeout=(2.0, 0.5), read_retries=0)
    call_command("sandbox_account", "set", key, "--latency-ms", "1500")
    with pytest.raises(errors.UpstreamUnavailable) as caught:
        client.get_balance()
    assert caught.value.definite is False
    assert key not in str(caught.value)


def test_it_marks_a_purchase_whose_answer_was_lost_as_ambiguous(quick):
    set_account(quick, "--fault", "after_commit=1")
    with pytest.raises(errors.ProviderError) as caught:
        quick.get_number_v2(service="tg", country=0)
    assert caught.value.definite is False
    set_account(quick, "--fault", "after_commit=0")
    # The number was bought all the same: reconciliation finds it in the active list.
    assert len(quick.get_active_activations()) == 1
