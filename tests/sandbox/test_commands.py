"""The management commands, the Celery task and beat entry, and the admin's push-SMS page."""

import io
import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from config.celery import app
from sandbox import services
from sandbox.models import Account, Activation, RentMessage
from sandbox.tasks import sandbox_tick


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_it_prints_only_the_new_key(db):
    output = _run("sandbox_account", "create", "--balance", "1000")
    assert re.fullmatch(r"[0-9a-f]{32}\n", output)
    account = Account.objects.get(key=output.strip())
    assert account.balance == Decimal("1000") and account.dialect == "classic" and account.currency == 643


def test_it_applies_the_create_options(db):
    key = _run(
        "sandbox_account",
        "create",
        "--balance",
        "25.5",
        "--dialect",
        "hero",
        "--sms-delay",
        "2",
        "--cancel-lock",
        "3",
        "--lifetime",
        "60",
        "--webhook-url",
        "http://127.0.0.1:9/hook",
        "--label",
        "team",
    ).strip()
    account = Account.objects.get(key=key)
    assert (account.dialect, account.currency, account.balance) == ("hero", 840, Decimal("25.5"))
    assert (account.sms_delay_min, account.sms_delay_max, account.cancel_lock_seconds) == (2, 2, 3)
    assert (account.lifetime_seconds, account.webhook_url, account.label) == (
        60,
        "http://127.0.0.1:9/hook",
        "team",
    )


def test_it_reuses_a_labelled_account_with_if_missing(db):
    key = _run("sandbox_account", "create", "--label", "demo", "--balance", "1000", "--if-missing")
    assert _run("sandbox_account", "create", "--label", "demo", "--balance", "5", "--if-missing") == key
    assert Account.objects.count() == 1
    with pytest.raises(CommandError):
        _run("sandbox_account", "create", "--label", "demo")


def test_it_lists_accounts_with_the_key_tail_only(db):
    key = _run("sandbox_account", "create", "--label", "alpha", "--balance", "12").strip()
    listing = _run("sandbox_account", "list")
    assert "alpha" in listing and f"…{key[-4:]}" in listing and "12.00" in listing and "classic" in listing
    assert key not in listing


def test_it_sets_balance_clock_and_faults(db):
    key = _run("sandbox_account", "create", "--balance", "10").strip()
    _run(
        "sandbox_account",
        "set",
        key,
        "--balance",
        "99.5",
        "--sms-delay",
        "0",
        "--cancel-lock",
        "1",
        "--lifetime",
        "30",
        "--webhook-url",
        "http://127.0.0.1:9/x",
        "--fault",
        "html=0.5",
        "--fault",
        "timeout=0.1",
        "--fault",
        "after_commit=1",
        "--latency-ms",
        "20",
        "--banned-until",
        "2030-01-02T03:04:05",
        "--no-code-share",
        "0",
    )
    account = Account.objects.get(key=key)
    assert account.balance == Decimal("99.5") and account.transactions.filter(kind="topup").count() == 2
    assert (account.html_rate, account.timeout_rate, account.fault_after_commit_rate) == (0.5, 0.1, 1.0)
    assert (account.sms_delay_max, account.cancel_lock_seconds, account.lifetime_seconds) == (0, 1, 30)
    assert account.latency_ms == 20 and account.no_code_share == 0
    assert account.banned_until == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    _run("sandbox_account", "set", key, "--banned-until", "none")
    assert Account.objects.get(key=key).banned_until is None
    for bad in (["--fault", "nope=1"], ["--fault", "html=2"], ["--banned-until", "soon"]):
        with pytest.raises(CommandError):
            _run("sandbox_account", "set", key, *bad)
    with pytest.raises(CommandError):
        _run("sandbox_account", "set", "0" * 32, "--balance", "1")


def test_it_pushes_an_sms_by_hand(api, account):
    activation_id = int(api(account, "getNumber", service="tg", country=0).content.split(b":")[1])
    assert "activation" in _run("sandbox_account", "sms", str(activation_id), "Your code is 4471-ok")
    assert api(account, "getStatus", id=activation_id).content == b"STATUS_OK:4471"
    rent_id = api(account, "getRentNumber", service="tg").json()["phone"]["id"]
    _run("sandbox_account", "sms", str(rent_id), "hello 1234")
    assert RentMessage.objects.get().text == "hello 1234"
    with pytest.raises(CommandError):
        _run("sandbox_account", "sms", "1", "x")


def test_it_ticks_from_the_command_the_task_and_beat(make_account, settings):
    account = make_account(sms_delay_min=0, sms_delay_max=0)
    activation = services.activation_buy(account=account, service_code="tg", country_raw="0", operators=[])
    assert _run("sandbox_tick") == "1 changes, 0 webhooks delivered\n"
    assert Activation.objects.get(pk=activation.pk).sms
    sandbox_tick()
    assert app.conf.beat_schedule["sandbox-tick"]["task"] == sandbox_tick.name == "sandbox.tasks.sandbox_tick"
    assert app.conf.beat_schedule["sandbox-tick"]["schedule"] == 2.0


def test_the_admin_pushes_an_sms(admin_client, api, account):
    activation_id = int(api(account, "getNumber", service="tg", country=0).content.split(b":")[1])
    url = f"/admin/sandbox/activation/{activation_id}/push-sms/"
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(f"/admin/sandbox/activation/{activation_id}/change/").status_code == 200
    response = admin_client.post(url, {"text": "Telegram code 55555"})
    assert response.status_code == 302
    assert Activation.objects.get(pk=activation_id).last_code == "55555"
    rent_id = api(account, "getRentNumber", service="tg").json()["phone"]["id"]
    admin_client.post(f"/admin/sandbox/rental/{rent_id}/push-sms/", {"text": "hi 9999"})
    assert RentMessage.objects.get().text == "hi 9999"
    admin_client.post(
        "/admin/sandbox/activation/", {"action": "push_generated_sms", "_selected_action": [activation_id]}
    )
    assert len(Activation.objects.get(pk=activation_id).sms) == 2
    for page in ("account", "activation", "rental", "webhookdelivery", "transaction", "price", "country"):
        assert admin_client.get(f"/admin/sandbox/{page}/").status_code == 200, page
