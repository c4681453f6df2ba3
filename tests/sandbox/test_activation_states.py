"""The activation state machine and the clock: codes, retries, finish, cancel lock, expiry with refund."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from sandbox import services
from sandbox.models import Activation, ActivationStatus, Price


def _buy(api, account, service="tg", **params) -> Activation:
    body = api(account, "getNumber", service=service, country=0, **params).content
    assert body.startswith(b"ACCESS_NUMBER:"), body
    return Activation.objects.get(pk=int(body.split(b":")[1]))


def _code_now(activation: Activation) -> None:
    Activation.objects.filter(pk=activation.pk).update(code_due_at=timezone.now() - timedelta(seconds=1))


def _balance(account) -> Decimal:
    account.refresh_from_db()
    return account.balance


def test_it_walks_wait_code_ok_retry_ok_finish(api, account):
    activation = _buy(api, account)
    assert api(account, "getStatus", id=activation.id).content == b"STATUS_WAIT_CODE"
    assert api(account, "setStatus", id=activation.id, status=3).content == b"BAD_STATUS"
    assert api(account, "setStatus", id=activation.id, status=6).content == b"BAD_STATUS"
    assert api(account, "setStatus", id=activation.id, status=1).content == b"ACCESS_READY"
    assert Activation.objects.get(pk=activation.pk).ready

    _code_now(activation)
    first = api(account, "getStatus", id=activation.id).content
    assert first.startswith(b"STATUS_OK:") and first[10:].isdigit()
    code = first.split(b":", 1)[1]
    assert api(account, "setStatus", id=activation.id, status=1).content == b"BAD_STATUS"
    assert api(account, "setStatus", id=activation.id, status=8).content == b"BAD_STATUS"
    assert api(account, "setStatus", id=activation.id, status=3).content == b"ACCESS_RETRY_GET"
    assert api(account, "getStatus", id=activation.id).content == b"STATUS_WAIT_RETRY:" + code
    assert api(account, "setStatus", id=activation.id, status=3).content == b"BAD_STATUS"

    _code_now(activation)
    second = api(account, "getStatus", id=activation.id).content
    assert second.startswith(b"STATUS_OK:") and len(Activation.objects.get(pk=activation.pk).sms) == 2
    balance = _balance(account)
    assert api(account, "setStatus", id=activation.id, status=6).content == b"ACCESS_ACTIVATION"
    assert _balance(account) == balance
    assert api(account, "getStatus", id=activation.id).content == second
    for status in (1, 3, 6, 8):
        assert api(account, "setStatus", id=activation.id, status=status).content == b"BAD_STATUS"
    assert api(account, "getActiveActivations").content == b"NO_ACTIVATIONS"
    history = api(account, "getHistory").json()
    assert history[0]["status"] == "6" and history[0]["cost"] == float(activation.cost)
    assert len(history[0]["sms"]) == 2


def test_it_finishes_from_wait_retry(api, account):
    activation = _buy(api, account)
    _code_now(activation)
    api(account, "getStatus", id=activation.id)
    api(account, "setStatus", id=activation.id, status=3)
    assert api(account, "setStatus", id=activation.id, status=6).content == b"ACCESS_ACTIVATION"


def test_it_denies_early_cancel_then_cancels_with_a_refund(api, make_account):
    account = make_account(cancel_lock_seconds=120)
    activation = _buy(api, account)
    assert _balance(account) == Decimal("1000") - activation.cost
    assert api(account, "setStatus", id=activation.id, status=8).content == b"EARLY_CANCEL_DENIED"
    Activation.objects.filter(pk=activation.pk).update(created_at=timezone.now() - timedelta(seconds=121))
    assert api(account, "setStatus", id=activation.id, status=8).content == b"ACCESS_CANCEL"
    assert _balance(account) == Decimal("1000")
    assert api(account, "getStatus", id=activation.id).content == b"STATUS_CANCEL"
    assert api(account, "setStatus", id=activation.id, status=8).content == b"BAD_STATUS"
    assert api(account, "getHistory").json()[0]["cost"] == 0


def test_it_accepts_the_legacy_cancel_code_and_refuses_others(api, account):
    activation = _buy(api, account)
    for status in ("0", "2", "9", "", "x"):
        assert api(account, "setStatus", id=activation.id, status=status).content == b"BAD_STATUS"
    assert api(account, "setStatus", id=activation.id, status=-1).content == b"ACCESS_CANCEL"


def test_it_hides_unknown_and_foreign_activations(api, account, make_account):
    activation = _buy(api, account)
    stranger = make_account()
    for who, raw in [(stranger, activation.id), (account, 1), (account, "abc"), (account, "")]:
        assert api(who, "getStatus", id=raw).content == b"NO_ACTIVATION"
        assert api(who, "setStatus", id=raw, status=8).content == b"NO_ACTIVATION"
    assert api(account, "getStatus").content == b"NO_ACTIVATION"


def test_it_delivers_the_code_after_the_account_delay(api, make_account):
    account = make_account(sms_delay_min=0, sms_delay_max=0)
    activation = _buy(api, account, service="wa")
    body = api(account, "getStatus", id=activation.id).content
    assert (
        body.startswith(b"STATUS_OK:") and len(body.split(b":")[1]) == 7
    )  # WhatsApp codes look like 123-456
    row = api(account, "getActiveActivations").json()["activeActivations"][0]
    assert row["activationStatus"] == "2" and row["smsCode"] == [body.split(b":")[1].decode()]


def test_it_never_sends_a_code_to_a_dud_number(api, make_account):
    account = make_account(no_code_share=1.0, sms_delay_min=0, sms_delay_max=0)
    activation = _buy(api, account)
    assert activation.code_due_at is None
    services.advance(timezone.now() + timedelta(minutes=19))
    assert api(account, "getStatus", id=activation.id).content == b"STATUS_WAIT_CODE"


def test_it_expires_unused_numbers_with_a_refund_and_used_ones_as_finished(api, account):
    unused = _buy(api, account)
    Activation.objects.filter(pk=unused.pk).update(code_due_at=None)
    used = _buy(api, account)
    _code_now(used)
    services.advance()
    assert _balance(account) == Decimal("1000") - unused.cost - used.cost
    later = timezone.now() + timedelta(seconds=account.lifetime_seconds + 1)
    assert services.advance(later) == 2
    unused.refresh_from_db()
    used.refresh_from_db()
    assert (unused.status, unused.expired) == (ActivationStatus.CANCELLED, True)
    assert used.status == ActivationStatus.FINISHED
    assert _balance(account) == Decimal("1000") - used.cost
    assert services.advance(later) == 0


def test_it_drops_a_code_that_would_come_after_the_end(make_account):
    account = make_account(lifetime_seconds=10, sms_delay_min=30, sms_delay_max=30)
    activation = services.activation_buy(account=account, service_code="tg", country_raw="0", operators=[])
    services.advance(timezone.now() + timedelta(seconds=60))
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.CANCELLED and activation.sms == []


def test_it_answers_status_v2_and_full_sms(api, account):
    activation = _buy(api, account)
    assert api(account, "getFullSms", id=activation.id).content == b"STATUS_WAIT_CODE"
    assert api(account, "getStatusV2", id=activation.id).json() == {
        "verificationType": 0,
        "sms": None,
        "call": None,
    }
    _code_now(activation)
    api(account, "getStatus", id=activation.id)
    sms = Activation.objects.get(pk=activation.pk).sms[0]
    assert api(account, "getFullSms", id=activation.id).content == f"FULL_SMS:{sms['text']}".encode()
    data = api(account, "getStatusV2", id=activation.id).json()
    assert data["sms"]["code"] == sms["code"] and data["sms"]["text"] == sms["text"] and data["call"] is None


def test_it_sells_an_additional_service_on_a_forwarded_number(api, account):
    plain = _buy(api, account)
    parent = _buy(api, account, service="vk", forward=1)
    assert (
        parent.forward
        and parent.cost == Price.objects.get(country_id=0, service_id="vk", forward=True).base_cost
    )
    assert api(account, "getAdditionalService", id=parent.id, service="ok").content == b"WRONG_SECURITY"
    _code_now(parent)
    _code_now(plain)
    api(account, "getStatus", id=parent.id)
    assert api(account, "getAdditionalService", id=plain.id, service="ok").content == b"WRONG_SECURITY"
    assert api(account, "getAdditionalService", id=1, service="ok").content == b"WRONG_ACTIVATION_ID"
    assert (
        api(account, "getAdditionalService", id=parent.id, service="tg").content
        == b"WRONG_ADDITIONAL_SERVICE"
    )
    assert (
        api(account, "getAdditionalService", id=parent.id, service="vk").content
        == b"REPEAT_ADDITIONAL_SERVICE"
    )
    balance = _balance(account)
    body = api(account, "getAdditionalService", id=parent.id, service="ok").content
    child_id, phone = body.decode().removeprefix("ADDITIONAL:").split(":")
    assert body.startswith(b"ADDITIONAL:") and phone == parent.phone
    child = Activation.objects.get(pk=child_id)
    assert child.parent_id == parent.id and child.kind == "additional"
    assert _balance(account) == balance - Decimal("5")
    assert (
        api(account, "getAdditionalService", id=parent.id, service="ok").content
        == b"REPEAT_ADDITIONAL_SERVICE"
    )
    poor = parent.account
    poor.balance = Decimal("1")
    poor.save()
    assert api(poor, "getAdditionalService", id=parent.id, service="av").content == b"NO_BALANCE"


def test_it_reactivates_a_finished_number(api, account):
    activation = _buy(api, account)
    assert (
        api(account, "getExtraActivation", activationId=activation.id).content
        == b"RENEW_ACTIVATION_NOT_AVAILABLE"
    )
    assert api(account, "checkExtraActivation", activationId=activation.id).content == (
        b"RENEW_ACTIVATION_NOT_AVAILABLE"
    )
    assert api(account, "getExtraActivation", activationId=1).content == b"WRONG_ACTIVATION_ID"
    _code_now(activation)
    api(account, "getStatus", id=activation.id)
    api(account, "setStatus", id=activation.id, status=6)
    check = api(account, "checkExtraActivation", activationId=activation.id).json()
    assert check == {
        "status": "success",
        "cost": float(activation.cost),
        "service": "tg",
        "phone": int(activation.phone),
        "country": 0,
    }
    body = api(account, "getExtraActivation", id=activation.id).content
    new_id, phone = body.decode().removeprefix("ACCESS_NUMBER:").split(":")
    assert int(new_id) > activation.id and phone == activation.phone
    assert Activation.objects.get(pk=new_id).kind == "extra"
    assert (
        api(account, "getExtraActivation", activationId=activation.id).content == b"NEW_ACTIVATION_IMPOSSIBLE"
    )
