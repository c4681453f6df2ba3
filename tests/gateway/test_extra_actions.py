"""Several services on one number, additional services, re-activation and calls through the gateway, over
real HTTP and in both dialects: bought through `activations.extra` as the gateway key's member, the calls
through `activations.calls`; the sandbox is the judge of the bytes."""

import json
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.models import AuditEntry, LedgerEntry
from activations import polling
from activations.models import Activation, ActivationStatus
from kit.phrases import phrase_text
from tests.activations.conftest import ledger_net, provider_charged, register_key
from tests.conftest import sandbox_account
from tests.gateway.harness import Pair, Reply, make_gateway_key

UNKNOWN = "999999999"


def pair_for(team, member, live_url: str, sandbox_url: str, dialect: str, **limits) -> Pair:
    """A sandbox account whose codes come only by hand, registered as the team's key, with a gateway key."""
    hero = ("--dialect", "hero") if dialect == "hero" else ()
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600", *hero)
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    api_key = register_key(team, secret, profile="sandbox_hero" if dialect == "hero" else "sandbox")
    return Pair(
        sandbox_url=sandbox_url,
        gateway_url=live_url,
        secret=secret,
        gateway_key=make_gateway_key(api_key, member, label="extra-bot", **limits),
        api_key=api_key,
    )


@pytest.fixture(params=["classic", "hero"])
def pair(request, team, owner, live_server, sandbox_url) -> Pair:
    return pair_for(team, owner, live_server.url, sandbox_url, request.param)


def bought(reply: Reply) -> tuple[str, str]:
    """(id, phone) of an `ACCESS_NUMBER:` / `ADDITIONAL:` answer."""
    assert reply.status == 200, reply.body
    _head, upstream_id, phone = reply.body.decode().split(":")
    return upstream_id, phone


def buy(pair: Pair, **params: str) -> str:
    return bought(pair.gateway("getNumber", country="0", **params))[0]


def code_arrives(pair: Pair, upstream_id: str) -> None:
    """The upstream receives an SMS and the poll cycle records it (as the worker does)."""
    call_command("sandbox_account", "sms", upstream_id, "Your code 12345")
    assert polling.poll_key(pair.api_key.pk) == "ok"


def same(ours: Reply, theirs: Reply) -> None:
    assert (ours.status, ours.content_type, ours.body) == (theirs.status, theirs.content_type, theirs.body)


def shape(data):
    """Keys and value types, recursively: what a client reads, without the ids and phones of one purchase."""
    if isinstance(data, dict):
        return {key: shape(value) for key, value in data.items()}
    if isinstance(data, list):
        return [shape(value) for value in data]
    return type(data).__name__


# --- several services on one number ------------------------------------------------------------------


def test_multi_service_number_buys_one_activation_per_service_as_the_member(pair, owner):
    ours = pair.gateway("getMultiServiceNumber", multiService="tg,wa", country="0")
    assert ours.status == 200, ours.body
    # The ledger books what the provider charged (before the direct purchase below charges it too).
    assert polling.poll_key(pair.api_key.pk) == "ok"
    assert ledger_net(pair.api_key) == provider_charged(pair.secret) > 0
    # Two purchases cannot share ids or a phone: the shape and types are compared, not the bytes.
    theirs = pair.sandbox("getMultiServiceNumber", multiService="tg,wa", country="0")
    assert (ours.status, ours.content_type) == (theirs.status, theirs.content_type)
    listing = json.loads(ours.body)
    assert shape(listing) == shape(json.loads(theirs.body))
    assert [row["service"] for row in listing] == ["tg", "wa"]
    rows = Activation.objects.filter(api_key=pair.api_key).order_by("id")
    assert [(row.upstream_id, row.phone) for row in rows] == [
        (str(row["activation"]), row["phone"]) for row in listing
    ]
    assert len({row.multi_group for row in rows}) == 1
    for row in rows:
        assert row.member == owner.user and row.status == ActivationStatus.WAITING
        assert row.via.startswith("gateway:")
        assert LedgerEntry.objects.filter(purchase_ref=f"activation:{row.pk}").exists()
    audit = AuditEntry.objects.filter(action="activation.buy")
    assert audit.count() == 2
    assert all("extra-bot" in phrase_text(entry.summary_phrase) for entry in audit)


def test_multi_service_refusals_read_as_the_providers(pair):
    for params, code in (
        ({"multiService": ""}, b"BAD_SERVICE"),
        ({"multiService": "tg,tg"}, b"BAD_SERVICE"),
        ({"multiService": "tg,wa", "multiForward": "1,1"}, b"BAD_FORWARD"),
        ({"multiService": "tg,zzzz"}, b"BAD_SERVICE"),
        ({"multiService": "tg,wa", "country": "99999"}, b"NO_NUMBERS"),
    ):
        assert code in pair.compare("getMultiServiceNumber", **{"country": "0", **params}).body
    assert not Activation.objects.filter(upstream_id__isnull=False).exists()
    assert provider_charged(pair.secret) == 0


# --- an additional service on a forwarded number -----------------------------------------------------


def test_an_additional_service_is_bought_on_the_forwarded_number(pair, owner):
    parent_id = buy(pair, service="vk", forward="1")
    plain_id = buy(pair, service="tg")
    # Before its first code the number takes no other service, here as at the provider.
    assert b"WRONG_SECURITY" in pair.compare("getAdditionalService", id=parent_id, service="ok").body
    code_arrives(pair, parent_id)
    child_id, phone = bought(pair.gateway("getAdditionalService", id=parent_id, service="ok"))
    parent = Activation.objects.get(upstream_id=parent_id)
    child = Activation.objects.get(upstream_id=child_id)
    assert phone == parent.phone and child.parent == parent and child.service == "ok"
    assert child.member == owner.user and child.via.startswith("gateway:")
    # The same service again, a number without forwarding, an unknown one: the provider's refusals.
    repeat = pair.compare("getAdditionalService", id=parent_id, service="ok")
    assert b"REPEAT_ADDITIONAL_SERVICE" in repeat.body
    assert b"WRONG_SECURITY" in pair.compare("getAdditionalService", id=plain_id, service="ok").body
    pair.compare("getAdditionalService", id=UNKNOWN, service="ok")
    # The additional service's price comes with the provider's list of live numbers.
    assert polling.poll_key(pair.api_key.pk) == "ok"
    child.refresh_from_db()
    assert child.price_confirmed
    assert ledger_net(pair.api_key) == provider_charged(pair.secret)


# --- re-activation of a used number ------------------------------------------------------------------


def test_a_used_number_is_priced_and_activated_again(pair, owner):
    parent_id = buy(pair, service="tg")
    # Not used yet: the provider will not activate it again.
    unused = pair.compare("checkExtraActivation", activationId=parent_id)
    assert b"RENEW_ACTIVATION_NOT_AVAILABLE" in unused.body
    refused = pair.compare("getExtraActivation", activationId=parent_id)
    assert b"RENEW_ACTIVATION_NOT_AVAILABLE" in refused.body
    code_arrives(pair, parent_id)
    assert pair.gateway("setStatus", id=parent_id, status="6").body == b"ACCESS_ACTIVATION"
    price = pair.compare("checkExtraActivation", activationId=parent_id)
    assert json.loads(price.body)["status"] == "success"
    new_id, phone = bought(pair.gateway("getExtraActivation", activationId=parent_id))
    parent = Activation.objects.get(upstream_id=parent_id)
    extra = Activation.objects.get(upstream_id=new_id)
    assert phone == parent.phone and extra.parent == parent and extra.service == "tg"
    assert extra.member == owner.user and extra.via.startswith("gateway:")
    assert extra.cost == Decimal(str(json.loads(price.body)["cost"]))
    assert ledger_net(pair.api_key) == provider_charged(pair.secret)
    # The number is live again: a second re-activation is refused alike; unknown ids are unknown alike.
    again = pair.compare("getExtraActivation", activationId=parent_id)
    assert b"NEW_ACTIVATION_IMPOSSIBLE" in again.body
    pair.compare("getExtraActivation", activationId=UNKNOWN)
    pair.compare("checkExtraActivation", activationId=UNKNOWN)
    assert ledger_net(pair.api_key) == provider_charged(pair.secret)


# --- calls -------------------------------------------------------------------------------------------


def test_calls_are_read_and_ordered_as_at_the_provider(pair):
    ours_id = buy(pair, service="tg", verification="true")
    plain_id = buy(pair, service="wa")
    assert Activation.objects.get(upstream_id=ours_id).verification
    status = pair.compare("getIncomingCallStatus", activationId=ours_id)
    assert json.loads(status.body) == {"status": "2", "phone": False}
    assert b"NOT_INCOMING" in pair.compare("getIncomingCallStatus", activationId=plain_id).body
    pair.compare("getIncomingCallStatus", activationId=UNKNOWN)
    # One call per activation: ours through the gateway, theirs bought and ordered at the provider directly.
    theirs_id = bought(pair.sandbox("getNumber", service="tg", country="0"))[0]
    same(
        pair.gateway("createTaskForCall", activationId=ours_id, phone="79990001122"),
        pair.sandbox("createTaskForCall", activationId=theirs_id, phone="79990001122"),
    )
    audit = AuditEntry.objects.get(action="activation.call")
    assert "extra-bot" in phrase_text(audit.summary_phrase)
    second = pair.compare("createTaskForCall", activationId=ours_id, phone="79990001122")
    assert b"CALL_TASK_ALREADY_EXIST" in second.body
    assert b"NUMBER_NOT_EXIST" in pair.compare("createTaskForCall", activationId=plain_id, phone="12").body
    pair.compare("createTaskForCall", activationId=UNKNOWN, phone="79990001122")
    listing = pair.compare("getOutgoingCalls", activationId=ours_id)
    assert len(json.loads(listing.body)) == 1
    pair.compare("getOutgoingCalls", activationId=plain_id)
    pair.compare("getOutgoingCalls", activationId=UNKNOWN)


# --- the gateway key's own limits ----------------------------------------------------------------------


def test_a_service_outside_the_keys_list_is_refused_before_upstream(team, owner, live_server, sandbox_url):
    pair = pair_for(team, owner, live_server.url, sandbox_url, "classic")
    parent_id = buy(pair, service="wa")
    charged = provider_charged(pair.secret)
    limited = make_gateway_key(pair.api_key, owner, label="tg-only", services=["tg"])
    rows = Activation.objects.count()
    for action, params in (
        ("getMultiServiceNumber", {"multiService": "tg,wa", "country": "0"}),
        ("getExtraActivation", {"activationId": parent_id}),
        ("getAdditionalService", {"id": parent_id, "service": "vk"}),
    ):
        reply = Pair(pair.sandbox_url, pair.gateway_url, pair.secret, limited, pair.api_key).gateway(
            action, **params
        )
        assert reply.body == b"BAD_SERVICE", action
    assert Activation.objects.count() == rows
    assert provider_charged(pair.secret) == charged


def test_a_read_only_key_cannot_spend(team, owner, live_server, sandbox_url):
    pair = pair_for(team, owner, live_server.url, sandbox_url, "classic")
    upstream_id = buy(pair, service="tg")
    reader = Pair(
        pair.sandbox_url,
        pair.gateway_url,
        pair.secret,
        make_gateway_key(pair.api_key, owner, label="reader", read_only=True),
        pair.api_key,
    )
    charged = provider_charged(pair.secret)
    for action, params in (
        ("getMultiServiceNumber", {"multiService": "tg,wa", "country": "0"}),
        ("getAdditionalService", {"id": upstream_id, "service": "ok"}),
        ("getExtraActivation", {"activationId": upstream_id}),
        ("createTaskForCall", {"activationId": upstream_id, "phone": "79990001122"}),
    ):
        assert reader.gateway(action, **params).body == b"BAD_KEY", action
    assert reader.gateway("getOutgoingCalls", activationId=upstream_id).body == b"{}"
    assert Activation.objects.count() == 1
    assert provider_charged(pair.secret) == charged
