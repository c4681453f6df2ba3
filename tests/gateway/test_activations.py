"""Activation actions through the gateway, over real HTTP: a script with a gateway key buys, reads its code,
finishes and cancels, within the key's limits; the upstream is the sandbox, the judge of the bytes."""

import json
from decimal import Decimal

import pytest
import requests
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry, LedgerEntry, LedgerKind, Membership, Team
from activations import polling
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from gateway.models import GatewayKey
from gateway.services import new_key
from kit.phrases import phrase_text
from providers.catalog import catalog_sync
from providers.client import ProviderClient
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account
from tests.gateway.harness import run_async


def upstream(team: Team, *options: str, profile: str = "sandbox") -> tuple:
    """A sandbox account registered as the team's key: (ApiKey, secret). Codes come only by hand."""
    dialect = ("--dialect", "hero") if profile == "sandbox_hero" else ()
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600", *dialect, *options)
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    return register_key(team, secret, profile=profile), secret


def gateway_key(api_key, member: Membership, *, label: str = "signup-bot", **limits) -> str:
    plain, prefix, digest = new_key()
    GatewayKey.objects.create(
        team=api_key.team,
        label=label,
        prefix=prefix,
        digest=digest,
        api_key=api_key,
        member=member,
        **limits,
    )
    return plain


def ask(url: str, key: str, action: str, **params) -> requests.Response:
    return requests.get(url, params={"api_key": key, "action": action, **params}, timeout=30)


def sandbox_balance(secret: str) -> Decimal:
    from sandbox.models import Account

    return Account.objects.get(key=secret).balance


def code_arrives(activation: Activation, text: str) -> None:
    """The upstream receives an SMS and the poll cycle records it (as the worker does)."""
    call_command("sandbox_account", "sms", activation.upstream_id, text)
    assert polling.poll_key(activation.api_key_id) == "ok"
    activation.refresh_from_db()


@pytest.fixture
def upstream_calls(monkeypatch) -> dict[str, int]:
    """Counts the provider client's status reads (the transport stays real)."""
    calls: dict[str, int] = {}
    for name in ("get_active_activations", "get_status"):
        original = getattr(ProviderClient, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            calls[_name] = calls.get(_name, 0) + 1
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(ProviderClient, name, wrapper)
    return calls


# --- balance and buying --------------------------------------------------------------------------


def test_it_answers_the_upstream_balance_as_the_upstream_writes_it(team, operator, sandbox_url, gateway_url):
    api_key, secret = upstream(team)
    key = gateway_key(api_key, operator)
    answer = ask(gateway_url, key, "getBalance")
    direct = ask(f"{sandbox_url}/stubs/handler_api.php", secret, "getBalance")
    assert answer.status_code == 200
    assert answer.text == direct.text == "ACCESS_BALANCE:1000.00"
    assert answer.headers["Content-Type"] == direct.headers["Content-Type"]


def test_it_buys_through_the_purchase_path_as_the_keys_member(
    team, alice, operator, sandbox_url, gateway_url
):
    api_key, secret = upstream(team)
    key = gateway_key(api_key, operator, label="signup-bot")
    answer = ask(gateway_url, key, "getNumber", service="tg", country="0")
    assert answer.status_code == 200
    head, upstream_id, phone = answer.text.split(":")
    assert head == "ACCESS_NUMBER" and upstream_id.isdigit() and phone.isdigit()
    activation = Activation.objects.get(api_key=api_key, upstream_id=upstream_id)
    assert activation.phone == phone
    assert activation.member == operator.user
    assert activation.status == ActivationStatus.WAITING
    assert activation.via.startswith("gateway:")
    # The ledger books what the provider charged, as the member's, like a purchase from the browser.
    entry = LedgerEntry.objects.get(purchase_ref=f"activation:{activation.pk}")
    assert entry.kind == LedgerKind.PURCHASE and entry.member == operator.user
    assert entry.amount == activation.cost == Decimal("1000.00") - sandbox_balance(secret)
    # The audit log names the gateway key's label.
    audit = AuditEntry.objects.get(action="activation.buy")
    assert "signup-bot" in phrase_text(audit.summary_phrase)
    assert phone in phrase_text(audit.summary_phrase)
    # The board shows it, like any purchase.
    from django.test import Client

    browser = Client()
    browser.force_login(alice)
    board = browser.get(reverse("activations:board", args=[team.slug]))
    assert phone in board.content.decode()
    # The history and ledger exports, and the audit log's, carry it as any other purchase.
    for name in ("activations:history_csv", "activations:ledger_csv"):
        export = b"".join(
            browser.get(reverse(name, args=[team.slug]), {"flavour": "plain"}).streaming_content
        )
        assert upstream_id.encode() in export or phone.encode() in export, name
    audit_csv = b"".join(browser.get(reverse("accounts:audit_csv", args=[team.slug])).streaming_content)
    assert b"signup-bot" in audit_csv


def test_get_number_v2_answers_the_seed_shape_of_the_purchase(team, operator, sandbox_url, gateway_url):
    api_key, secret = upstream(team)
    key = gateway_key(api_key, operator)
    answer = ask(gateway_url, key, "getNumberV2", service="tg", country="0")
    assert answer.headers["Content-Type"] == "application/json; charset=utf-8"
    ours = answer.json()
    theirs = ask(
        f"{sandbox_url}/stubs/handler_api.php", secret, "getNumberV2", service="tg", country="0"
    ).json()
    assert list(ours) == list(theirs)
    assert {name: type(value) for name, value in ours.items()} == {
        name: type(value) for name, value in theirs.items()
    }
    activation = Activation.objects.get(upstream_id=str(ours["activationId"]))
    assert ours["phoneNumber"] == activation.phone
    assert ours["activationCost"] == f"{activation.cost:.2f}"


# --- status from simdesk's own records ---------------------------------------------------------------


def test_it_answers_status_from_its_records_without_asking_upstream(
    team, operator, sandbox_url, gateway_url, upstream_calls
):
    api_key, _secret = upstream(team, "--cancel-lock", "0")
    key = gateway_key(api_key, operator)
    upstream_id = ask(gateway_url, key, "getNumber", service="tg", country="0").text.split(":")[1]
    activation = Activation.objects.get(upstream_id=upstream_id)
    upstream_calls.clear()
    for _ in range(5):
        assert ask(gateway_url, key, "getStatus", id=upstream_id).text == "STATUS_WAIT_CODE"
    assert upstream_calls == {}

    code_arrives(activation, "Your code 12345")
    code = activation.last_code
    assert code
    upstream_calls.clear()
    assert ask(gateway_url, key, "getStatus", id=upstream_id).text == f"STATUS_OK:{code}"
    assert upstream_calls == {}

    assert ask(gateway_url, key, "setStatus", id=upstream_id, status="3").text == "ACCESS_RETRY_GET"
    assert ask(gateway_url, key, "getStatus", id=upstream_id).text == f"STATUS_WAIT_RETRY:{code}"
    assert ask(gateway_url, key, "setStatus", id=upstream_id, status="6").text == "ACCESS_ACTIVATION"
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
    audit = AuditEntry.objects.get(action="activation.finish")
    assert "signup-bot" in phrase_text(audit.summary_phrase)


def test_it_cancels_with_a_refund_and_refuses_an_early_cancel(team, operator, sandbox_url, gateway_url):
    api_key, secret = upstream(team, "--cancel-lock", "120")
    key = gateway_key(api_key, operator)
    upstream_id = ask(gateway_url, key, "getNumber", service="tg", country="0").text.split(":")[1]
    assert ask(gateway_url, key, "setStatus", id=upstream_id, status="8").text == "EARLY_CANCEL_DENIED"
    # The lock passes (upstream and in our record).
    from sandbox.models import Activation as SandboxActivation

    past = timezone.now() - timezone.timedelta(minutes=5)
    SandboxActivation.objects.filter(pk=int(upstream_id)).update(created_at=past)
    Activation.objects.filter(upstream_id=upstream_id).update(cancel_allowed_at=past)
    assert ask(gateway_url, key, "setStatus", id=upstream_id, status="8").text == "ACCESS_CANCEL"
    activation = Activation.objects.get(upstream_id=upstream_id)
    assert activation.status == ActivationStatus.CANCELLED
    net = LedgerEntry.objects.filter(purchase_ref=f"activation:{activation.pk}").aggregate(t=Sum("amount"))[
        "t"
    ]
    assert net == 0
    assert sandbox_balance(secret) == Decimal("1000.00")
    assert ask(gateway_url, key, "getStatus", id=upstream_id).text == "STATUS_CANCEL"
    assert ask(gateway_url, key, "setStatus", id=upstream_id, status="6").text == "BAD_STATUS"


def test_it_knows_no_activation_of_another_key_or_team(team, operator, charlie, sandbox_url, gateway_url):
    api_key, secret = upstream(team)
    key = gateway_key(api_key, operator)
    other_team = Team.objects.get(memberships__user=charlie)
    other_key, _ = upstream(other_team)
    theirs = activation_buy(
        membership=Membership.objects.get(team=other_team, user=charlie),
        api_key=other_key,
        request=BuyRequest(service="tg", country=0),
    )
    sandbox_answer = ask(f"{sandbox_url}/stubs/handler_api.php", secret, "getStatus", id="999999999")
    for upstream_id in (theirs.upstream_id, "999999999", "", "x" * 40):
        for action, extra in (("getStatus", {}), ("setStatus", {"status": "8"}), ("getStatusV2", {})):
            answer = ask(gateway_url, key, action, id=upstream_id, **extra)
            assert answer.text == sandbox_answer.text == "NO_ACTIVATION"
            assert answer.headers["Content-Type"] == sandbox_answer.headers["Content-Type"]
    assert Activation.objects.get(pk=theirs.pk).status == ActivationStatus.WAITING


def test_the_live_list_is_what_the_provider_would_list(
    team, operator, sandbox_url, gateway_url, upstream_calls
):
    api_key, secret = upstream(team)
    catalog_sync(api_key=api_key)
    key = gateway_key(api_key, operator)
    direct = f"{sandbox_url}/stubs/handler_api.php"
    assert ask(gateway_url, key, "getActiveActivations").text == "NO_ACTIVATIONS"
    for service in ("tg", "wa"):
        ask(gateway_url, key, "getNumber", service=service, country="0")
    # Ready for the code (setStatus 1), said twice: the provider answers ACCESS_READY both times.
    first_id = Activation.objects.filter(api_key=api_key).order_by("pk").first().upstream_id
    for _ in range(2):
        assert ask(gateway_url, key, "setStatus", id=first_id, status="1").text == "ACCESS_READY"
    upstream_calls.clear()
    ours = ask(gateway_url, key, "getActiveActivations")
    assert upstream_calls == {}
    theirs = ask(direct, secret, "getActiveActivations")
    assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]
    assert ours.text == theirs.text
    # A code: the list shows it as the provider does.
    activation = Activation.objects.filter(api_key=api_key).order_by("pk").first()
    code_arrives(activation, "Your code 55555")
    rows = {
        row["activationId"]: row
        for row in ask(gateway_url, key, "getActiveActivations").json()["activeActivations"]
    }
    upstream_rows = {
        row["activationId"]: row
        for row in ask(direct, secret, "getActiveActivations").json()["activeActivations"]
    }
    assert rows[activation.upstream_id]["smsCode"] == upstream_rows[activation.upstream_id]["smsCode"]
    status = ask(gateway_url, key, "getStatusV2", id=activation.upstream_id).json()
    assert status["verificationType"] == 0 and status["call"] is None
    assert status["sms"]["code"] == activation.last_code
    assert (
        rows[activation.upstream_id]["activationStatus"]
        == upstream_rows[activation.upstream_id]["activationStatus"]
        == "2"
    )


# --- limits before the upstream call ------------------------------------------------------------------


def test_a_service_or_country_outside_the_allowed_lists_is_refused_before_upstream(
    team, operator, sandbox_url, gateway_url
):
    api_key, secret = upstream(team)
    key = gateway_key(api_key, operator, services=["wa"], countries=[6])
    assert ask(gateway_url, key, "getNumber", service="tg", country="6").text == "BAD_SERVICE"
    assert ask(gateway_url, key, "getNumber", service="wa", country="0").text == "NO_NUMBERS"
    assert ask(gateway_url, key, "getNumberV2", service="tg", country="6").text == "BAD_SERVICE"
    assert not Activation.objects.exists()
    assert sandbox_balance(secret) == Decimal("1000.00")
    assert ask(gateway_url, key, "getNumber", service="wa", country="6").text.startswith("ACCESS_NUMBER:")


def test_a_price_above_the_keys_maximum_is_refused_before_upstream(team, operator, sandbox_url, gateway_url):
    api_key, secret = upstream(team)
    key = gateway_key(api_key, operator, max_price=Decimal("0.01"))
    # A script without a maximum of its own: every client knows NO_BALANCE.
    assert ask(gateway_url, key, "getNumber", service="tg", country="0").text == "NO_BALANCE"
    # A script speaking Free Price is told the price, as the provider would.
    answer = ask(gateway_url, key, "getNumber", service="tg", country="0", maxPrice="0.01").text
    assert answer.startswith("WRONG_MAX_PRICE:")
    assert Decimal(answer.split(":")[1]) > Decimal("0.01")
    assert not Activation.objects.exists()
    assert sandbox_balance(secret) == Decimal("1000.00")


def test_the_daily_budget_is_kept_and_counts_only_the_gateway_keys_purchases(
    team, operator, sandbox_url, gateway_url
):
    api_key, secret = upstream(team)
    direct = f"{sandbox_url}/stubs/handler_api.php"
    price = Decimal(
        str(json.loads(ask(direct, secret, "getPrices", service="tg", country="0").text)["0"]["tg"]["cost"])
    )
    key = gateway_key(api_key, operator, daily_budget=price * Decimal("1.5"))
    # The member's own purchases from the browser do not spend the gateway key's budget.
    activation_buy(membership=operator, api_key=api_key, request=BuyRequest(service="tg", country=0))
    assert ask(gateway_url, key, "getNumber", service="tg", country="0").text.startswith("ACCESS_NUMBER:")
    balance = sandbox_balance(secret)
    assert ask(gateway_url, key, "getNumber", service="tg", country="0").text == "NO_BALANCE"
    assert sandbox_balance(secret) == balance
    assert Activation.objects.filter(via__startswith="gateway:").count() == 1


def test_a_read_only_key_reads_but_cannot_spend_and_a_revoked_key_is_bad(
    team, operator, sandbox_url, gateway_url
):
    api_key, secret = upstream(team)
    writer = gateway_key(api_key, operator, label="writer")
    upstream_id = ask(gateway_url, writer, "getNumber", service="tg", country="0").text.split(":")[1]
    reader = gateway_key(api_key, operator, label="reader", read_only=True)
    balance = sandbox_balance(secret)
    assert ask(gateway_url, reader, "getNumber", service="tg", country="0").text == "BAD_KEY"
    assert ask(gateway_url, reader, "getNumberV2", service="tg", country="0").text == "BAD_KEY"
    assert ask(gateway_url, reader, "setStatus", id=upstream_id, status="8").text == "BAD_KEY"
    assert ask(gateway_url, reader, "getStatus", id=upstream_id).text == "STATUS_WAIT_CODE"
    assert ask(gateway_url, reader, "getBalance").text.startswith("ACCESS_BALANCE:")
    assert sandbox_balance(secret) == balance
    GatewayKey.objects.filter(label="writer").update(revoked_at=timezone.now())
    assert ask(gateway_url, writer, "getNumber", service="tg", country="0").text == "BAD_KEY"
    assert ask(gateway_url, writer, "getStatus", id=upstream_id).text == "BAD_KEY"
    assert Activation.objects.count() == 1


# --- the HeroSMS dialect --------------------------------------------------------------------------------


def test_the_hero_dialect_answers_as_herosms(team, operator, sandbox_url, gateway_url):
    api_key, secret = upstream(team, profile="sandbox_hero")
    key = gateway_key(api_key, operator)
    direct = f"{sandbox_url}/hero/stubs/handler_api.php"
    balance, upstream_balance = ask(gateway_url, key, "getBalance"), ask(direct, secret, "getBalance")
    assert balance.text.startswith("ACCESS_BALANCE:")
    assert (balance.status_code, balance.headers["Content-Type"], balance.text) == (
        upstream_balance.status_code,
        upstream_balance.headers["Content-Type"],
        upstream_balance.text,
    )
    answer = ask(gateway_url, key, "getNumberV2", service="tg", country="0")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    ours = answer.json()
    theirs = ask(direct, secret, "getNumberV2", service="tg", country="0").json()
    # Every field HeroSMS clients read, with HeroSMS's types (ids as strings, money as a number).
    for name in (
        "activationId",
        "phoneNumber",
        "activationCost",
        "currency",
        "countryCode",
        "canGetAnotherSms",
    ):
        assert type(ours[name]) is type(theirs[name]), name
    assert ours["currency"] == 840
    assert set(ours) <= set(theirs)
    upstream_id = ours["activationId"]
    status = ask(gateway_url, key, "getStatus", id=upstream_id)
    assert (status.status_code, status.text) == (200, "STATUS_WAIT_CODE")
    assert status.headers["Content-Type"] == "text/html; charset=utf-8"
    # An unknown activation: the same 404 envelope as the provider's.
    missing = ask(gateway_url, key, "getStatus", id="12345")
    upstream_missing = ask(direct, secret, "getStatus", id="12345")
    assert (missing.status_code, missing.text) == (upstream_missing.status_code, upstream_missing.text)
    assert missing.status_code == 404
    # Out of budget: HeroSMS's 402 envelope.
    GatewayKey.objects.update(daily_budget=Decimal("0"))
    refused = ask(gateway_url, key, "getNumberV2", service="tg", country="0")
    assert refused.status_code == 402
    assert refused.json() == {"title": "NO_BALANCE", "details": "Payment Required"}


# --- the official client -----------------------------------------------------------------------------


def test_the_official_client_buys_reads_the_code_and_finishes(team, operator, sandbox_url, gateway_url):
    from smsactivate.api import SMSActivateAPI

    api_key, _secret = upstream(team)
    client = SMSActivateAPI(gateway_key(api_key, operator))
    client._SMSActivateAPI__api_url = gateway_url  # the one thing a script changes: where it calls
    assert client.getBalance() == {"balance": "1000.00"}
    assert client.getBalanceAndCashBack() == {"balance": "1000.00"}
    bought = client.getNumber(service="tg", country=0)
    assert set(bought) == {"activation_id", "phone"}
    activation = Activation.objects.get(upstream_id=str(bought["activation_id"]))
    assert int(activation.phone) == bought["phone"]
    assert client.getStatus(id=bought["activation_id"]) == "STATUS_WAIT_CODE"
    code_arrives(activation, "Your code 24680")
    assert client.getStatus(id=bought["activation_id"]) == f"STATUS_OK:{activation.last_code}"
    assert client.setStatus(id=bought["activation_id"], status=6) == "ACCESS_ACTIVATION"
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
    assert client.getStatus(id=999) == {
        "error": "NO_ACTIVATION",
        "message": "The specified activation id does not exist",
    }


def test_hero_status_changes_are_refused_with_the_providers_envelopes(
    team, operator, sandbox_url, gateway_url
):
    api_key, secret = upstream(team, profile="sandbox_hero")
    catalog_sync(api_key=api_key)
    key = gateway_key(api_key, operator)
    direct = f"{sandbox_url}/hero/stubs/handler_api.php"
    ours_id = ask(gateway_url, key, "getNumberV2", service="tg", country="0").json()["activationId"]
    # The same live list as the provider's own, byte for byte.
    ours_list, their_list = (
        ask(gateway_url, key, "getActiveActivations"),
        ask(direct, secret, "getActiveActivations"),
    )
    assert (ours_list.status_code, ours_list.text) == (their_list.status_code, their_list.text)
    # A number bought directly at the provider, to compare each refusal with the provider's own.
    their_id = ask(direct, secret, "getNumberV2", service="tg", country="0").json()["activationId"]

    def both(**params) -> tuple[tuple[int, str], tuple[int, str]]:
        ours = ask(gateway_url, key, "setStatus", id=ours_id, **params)
        theirs = ask(direct, secret, "setStatus", id=their_id, **params)
        return (ours.status_code, ours.text), (theirs.status_code, theirs.text)

    ours, theirs = both(status="8")
    assert ours == theirs
    assert ours[0] == 409 and json.loads(ours[1])["title"] == "EARLY_CANCEL_DENIED"
    activation = Activation.objects.get(upstream_id=ours_id)
    code_arrives(activation, "Your code 13579")
    call_command("sandbox_account", "sms", their_id, "Your code 13579")
    ours, theirs = both(status="8")
    assert ours == theirs
    assert json.loads(ours[1])["title"] == "OTP_RECEIVED"
    assert both(status="6") == ((200, "ACCESS_ACTIVATION"), (200, "ACCESS_ACTIVATION"))
    ours, theirs = both(status="6")
    assert ours == theirs
    assert json.loads(ours[1])["title"] == "ACTIVATION_NOT_ACTIVE"
    status = ask(gateway_url, key, "getStatusV2", id=ours_id).json()
    assert status["verificationType"] == "sms" and status["data"]["code"] == activation.last_code


def test_a_code_posted_by_webhook_is_answered_at_once(
    team, operator, sandbox_url, gateway_url, upstream_calls
):
    api_key, _secret = upstream(team)
    key = gateway_key(api_key, operator)
    upstream_id = ask(gateway_url, key, "getNumber", service="tg", country="0").text.split(":")[1]
    hook = gateway_url.replace(
        "/stubs/handler_api.php", reverse("activations:webhook", args=[api_key.webhook_token])
    )
    posted = requests.post(
        hook,
        json={
            "activationId": int(upstream_id),
            "service": "tg",
            "text": "Code 86420",
            "code": "86420",
            "country": 0,
        },
        timeout=30,
    )
    assert posted.status_code == 200
    upstream_calls.clear()
    assert ask(gateway_url, key, "getStatus", id=upstream_id).text == "STATUS_OK:86420"
    assert upstream_calls == {}


def test_the_herosms_client_buys_reads_the_status_and_finishes(team, operator, sandbox_url, gateway_url):
    import herosms
    from herosms._resources import ActivationResource

    api_key, _secret = upstream(team, profile="sandbox_hero")
    key = gateway_key(api_key, operator)

    def client():
        return herosms.HeroSMSClient(api_key=key, base_url=gateway_url, retry_attempts=1)

    async def buy() -> tuple[int, str, str]:
        async with client() as through:
            activation = await through.create_activation(service="tg", country=0)
            status = await through.get_status_v1(activation.id)
            return activation.id, activation.phone_number, status

    upstream_id, phone, status = run_async(buy())
    assert status == "STATUS_WAIT_CODE"
    activation = Activation.objects.get(api_key=api_key, upstream_id=str(upstream_id))
    assert activation.phone == phone and activation.member == operator.user
    code_arrives(activation, "Your code 97531")

    async def finish() -> str:
        async with client() as through:
            status = await through.get_status_v1(upstream_id)
            await ActivationResource.from_activation_id(
                through._http, upstream_id, phone_number=phone
            ).complete()
            return status

    assert run_async(finish()) == f"STATUS_OK:{activation.last_code}"
    activation.refresh_from_db()
    assert activation.status == ActivationStatus.FINISHED
