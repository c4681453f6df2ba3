"""Rent actions through the gateway, over real HTTP: a script with a gateway key rents, reads the rent's SMS,
cancels, lists and extends, within the key's limits; the sandbox is the judge of the bytes."""

import json
from dataclasses import replace
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEntry, LedgerEntry, LedgerKind, Membership
from gateway import answers
from kit.phrases import phrase_text
from providers.client import ProviderClient
from rentals import polling
from rentals.models import Rental, RentalStatus
from tests.activations.conftest import owner, register_key  # noqa: F401 - fixture
from tests.conftest import sandbox_account
from tests.gateway.harness import PATH, Pair, call, make_gateway_key


def pair_for(
    team, member: Membership, live_url: str, sandbox_url: str, *, hero: bool = False, **limits
) -> Pair:
    """A sandbox account whose rent SMS come only by hand, registered as the team's key, with a gateway key."""
    dialect = ("--dialect", "hero") if hero else ()
    secret = sandbox_account("--balance", "1000", "--sms-delay", "3600", *dialect)
    call_command("sandbox_account", "set", secret, "--no-code-share", "0")
    api_key = register_key(team, secret, profile="sandbox_hero" if hero else "sandbox")
    return Pair(
        sandbox_url=sandbox_url,
        gateway_url=live_url,
        secret=secret,
        gateway_key=make_gateway_key(api_key, member, label="rent-bot", **limits),
        api_key=api_key,
    )


@pytest.fixture
def pair(team, owner, live_server, sandbox_url) -> Pair:  # noqa: F811
    return pair_for(team, owner, live_server.url, sandbox_url)


def rent(pair: Pair, **params: str) -> dict:
    reply = pair.gateway("getRentNumber", service="tg", country="0", rent_time="4", **params)
    assert reply.status == 200, reply.body
    return json.loads(reply.body)


def test_a_script_rents_through_the_rental_service_as_the_member(pair, owner):  # noqa: F811
    answer = rent(pair)
    assert answer["status"] == "success", answer
    rental = Rental.objects.get(upstream_id=str(answer["phone"]["id"]))
    assert rental.member == owner.user and rental.status == RentalStatus.ACTIVE
    assert rental.phone == answer["phone"]["number"]
    assert rental.via.startswith("gateway:")
    assert LedgerEntry.objects.filter(team=rental.team, kind=LedgerKind.RENT, amount__gt=0).exists()
    entry = AuditEntry.objects.filter(action="rental.rent").latest("id")
    assert "rent-bot" in phrase_text(entry.summary_phrase)


def test_get_rent_status_answers_the_polled_sms_like_the_provider(pair):
    rental_id = str(rent(pair)["phone"]["id"])
    waiting = pair.compare("getRentStatus", id=rental_id)
    assert json.loads(waiting.body) == {"status": "error", "message": "STATUS_WAIT_CODE"}
    call_command("sandbox_account", "sms", rental_id, "Your code 12345")
    assert polling.poll_key(pair.api_key.pk) == "ok"
    answer = json.loads(pair.compare("getRentStatus", id=rental_id).body)
    assert answer["quantity"] == "1" and answer["values"]["0"]["text"] == "Your code 12345"
    listing = json.loads(pair.compare("getRentList").body)
    assert listing["values"]["0"]["id"] == rental_id


def test_an_empty_list_and_an_unknown_rent_answer_as_the_provider_does(pair):
    pair.compare("getRentList")
    pair.compare("getRentStatus", id="999999")


def test_cancelling_refunds_and_finished_rents_refuse_again(pair):
    rental_id = str(rent(pair)["phone"]["id"])
    rental = Rental.objects.get(upstream_id=rental_id)
    reply = pair.gateway("setRentStatus", id=rental_id, status="2")
    assert json.loads(reply.body) == {"status": "success"}
    rental.refresh_from_db()
    assert rental.status == RentalStatus.CANCELLED
    assert LedgerEntry.objects.filter(team=rental.team, kind=LedgerKind.REFUND).exists()
    assert AuditEntry.objects.filter(action="rental.cancel").exists()
    # Both ask the same account now: the provider and the gateway refuse a second cancel alike.
    pair.compare("setRentStatus", id=rental_id, status="2")
    pair.compare("getRentStatus", id=rental_id)


def test_continue_rent_number_extends_the_rental(pair):
    rental_id = str(rent(pair)["phone"]["id"])
    rental = Rental.objects.get(upstream_id=rental_id)
    before = rental.ends_at
    answer = json.loads(pair.gateway("continueRentNumber", id=rental_id, rent_time="4").body)
    assert answer["status"] == "success", answer
    rental.refresh_from_db()
    assert rental.ends_at > before
    direct = json.loads(pair.sandbox("getRentStatus", id=rental_id).body)
    assert direct["message"] == "STATUS_WAIT_CODE"
    listing = json.loads(pair.compare("getRentList").body)
    assert listing["values"]["0"]["id"] == rental_id


def test_a_read_only_key_cannot_rent(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, read_only=True)
    reply = pair.gateway("getRentNumber", service="tg", country="0")
    assert reply.body == b"BAD_KEY"
    assert not Rental.objects.exists()


def test_a_country_outside_the_key_is_refused_before_any_rent(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, countries=[6])
    answer = rent(pair)
    assert answer == {"status": "error", "message": "NO_NUMBERS"}
    assert not Rental.objects.exists()


def test_the_daily_budget_refuses_a_rent_past_it(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, daily_budget=Decimal("0.01"))
    assert rent(pair) == {"status": "error", "message": "NO_BALANCE"}
    assert not Rental.objects.filter(status=RentalStatus.ACTIVE).exists()


def test_hero_dialect_rents_lists_and_refuses_like_the_provider(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, hero=True)
    pair.compare("getRentList")
    pair.compare("getRentStatus", id="999999")
    reply = pair.gateway("getRentNumber", service="tg", country="0", rent_time="4")
    assert reply.status == 200, reply.body
    rental_id = json.loads(reply.body)["id"]
    pair.compare("getRentList")
    pair.compare("getRentStatus", id=rental_id)
    call_command("sandbox_account", "sms", rental_id, "Your code 54321")
    assert polling.poll_key(pair.api_key.pk) == "ok"
    pair.compare("getRentStatus", id=rental_id)


def test_get_rent_status_asks_no_upstream(pair, monkeypatch):
    rental_id = str(rent(pair)["phone"]["id"])
    call_command("sandbox_account", "sms", rental_id, "Your code 12345")
    assert polling.poll_key(pair.api_key.pk) == "ok"
    calls = []
    original = ProviderClient.get_rent_status

    def counted(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ProviderClient, "get_rent_status", counted)
    answer = json.loads(pair.gateway("getRentStatus", id=rental_id).body)
    assert answer["values"]["0"]["text"] == "Your code 12345"
    assert calls == []


def test_the_rent_answers_have_the_providers_shape(team, owner, live_server, sandbox_url):  # noqa: F811
    for hero in (False, True):
        pair = pair_for(team, owner, live_server.url, sandbox_url, hero=hero)
        direct = pair.sandbox("getRentNumber", service="tg", country="0", rent_time="4")
        through = pair.gateway("getRentNumber", service="tg", country="0", rent_time="4")
        assert (through.status, through.content_type) == (direct.status, direct.content_type)
        mine, theirs = json.loads(through.body), json.loads(direct.body)
        if not hero:
            mine, theirs = mine["phone"], theirs["phone"]
            assert len(mine["endDate"]) == len(theirs["endDate"]) == 19
        assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in theirs.items()}
        if hero:
            assert mine["currency"] == theirs["currency"]
            assert mine["lockCancelTime"] == theirs["lockCancelTime"]


def test_a_capped_key_refuses_a_dearer_rent(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, max_price=Decimal("0.01"))
    assert rent(pair) == {"status": "error", "message": "NO_BALANCE"}
    assert not Rental.objects.exists()


def test_a_late_cancel_is_refused_as_the_provider_does(pair):
    rental_id = str(rent(pair)["phone"]["id"])
    Rental.objects.filter(upstream_id=rental_id).update(started_at=timezone.now() - timedelta(minutes=30))
    assert json.loads(pair.gateway("setRentStatus", id=rental_id, status="2").body) == {
        "status": "error",
        "message": "CANT_CANCEL",
    }
    assert json.loads(pair.gateway("setRentStatus", id=rental_id, status="1").body) == {"status": "success"}
    assert Rental.objects.get(upstream_id=rental_id).status == RentalStatus.FINISHED


@pytest.mark.parametrize("hero", [False, True])
def test_refusals_read_as_the_providers(team, owner, live_server, sandbox_url, hero):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, hero=hero)
    pair.compare("getRentStatus")
    pair.compare("setRentStatus", id="999999", status="1")
    pair.compare("continueRentNumber", id="999999", rent_time="4")
    reply = pair.gateway("getRentNumber", service="tg", country="0", rent_time="4")
    answer = json.loads(reply.body)
    rental_id = str(answer["id"] if hero else answer["phone"]["id"])
    pair.compare("setRentStatus", id=rental_id, status="5")
    assert pair.gateway("setRentStatus", id=rental_id, status="2").status == 200
    # Cancelled through the gateway: both now refuse a second cancel and a finish alike.
    pair.compare("setRentStatus", id=rental_id, status="2")
    pair.compare("setRentStatus", id=rental_id, status="1")
    pair.compare("getRentStatus", id=rental_id)
    pair.compare("getRentList")


def test_an_extension_past_the_daily_budget_is_refused(team, owner, live_server, sandbox_url):  # noqa: F811
    probe = pair_for(team, owner, live_server.url, sandbox_url)
    price = Decimal(
        str(
            json.loads(probe.sandbox("getRentServicesAndCountries", rent_time="4").body)["services"]["tg"][
                "cost"
            ]
        )
    )
    pair = pair_for(team, owner, live_server.url, sandbox_url, daily_budget=price * Decimal("1.5"))
    rental_id = str(rent(pair)["phone"]["id"])
    rental = Rental.objects.get(upstream_id=rental_id)
    before = rental.ends_at
    answer = json.loads(pair.gateway("continueRentNumber", id=rental_id, rent_time="4").body)
    assert answer == {"status": "error", "message": "NO_BALANCE"}
    rental.refresh_from_db()
    assert rental.ends_at == before


def test_hero_extension_answers_the_providers_shape(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, hero=True)
    rental_id = json.loads(pair.gateway("getRentNumber", service="tg", country="0", rent_time="4").body)["id"]
    through = pair.gateway("continueRentNumber", id=rental_id, rent_time="4")
    listing = json.loads(pair.sandbox("getRentStatus", id=rental_id).body)
    assert listing["status"] == "success"
    answer = json.loads(through.body)
    assert answer["status"] == "success" and str(answer["phone"]["id"]) == rental_id
    rental = Rental.objects.get(upstream_id=rental_id)
    assert answer["phone"]["endDate"] == rental.ends_at.astimezone(UTC).replace(microsecond=0).isoformat()


def test_a_viewers_key_cannot_rent_or_end_a_rent(team, owner, vera, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url)
    rental_id = str(rent(pair)["phone"]["id"])
    viewer = Membership.objects.get(team=team, user=vera)
    pair.gateway_key = make_gateway_key(pair.api_key, viewer, label="viewer-bot")
    assert json.loads(pair.gateway("getRentNumber", service="tg", country="0").body) == {
        "status": "error",
        "message": "BAD_KEY",
    }
    assert Rental.objects.count() == 1
    ended = json.loads(pair.gateway("setRentStatus", id=rental_id, status="1").body)
    assert ended["status"] == "error"
    assert Rental.objects.get(upstream_id=rental_id).status == RentalStatus.ACTIVE


# --- the price of an extension ---------------------------------------------------------------------


def refusal_of(reply, hero: bool) -> str:
    """The refusal's code: SMS-Activate's `message`, HeroSMS's `title`."""
    return json.loads(reply.body)["title" if hero else "message"]


@pytest.mark.parametrize("hero", [False, True])
def test_the_price_of_an_extension_reads_as_the_providers(team, owner, live_server, sandbox_url, hero):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, hero=hero)
    answer = json.loads(pair.gateway("getRentNumber", service="tg", country="0", rent_time="4").body)
    rental_id = str(answer["id"] if hero else answer["phone"]["id"])
    for hours in ({}, {"rent_time": "4"}, {"time": "12"}, {"duration": "24"}):
        reply = pair.compare("getContinueRentPriceNumber", id=rental_id, **hours)
        assert json.loads(reply.body)["status"] == "success"
    for wrong in ("2", "abc", "1345"):
        reply = pair.compare("getContinueRentPriceNumber", id=rental_id, rent_time=wrong)
        assert refusal_of(reply, hero) == "INVALID_TIME"
    # Longer than the number lives: the provider says how many hours are left (info.max).
    reply = pair.compare("getContinueRentPriceNumber", id=rental_id, rent_time="1344")
    assert refusal_of(reply, hero) == "MAX_HOURS_EXCEED" and json.loads(reply.body)["info"]["max"] > 0
    # Unknown, foreign and missing ids: the answers every rent action gives them.
    other = pair_for(team, owner, live_server.url, sandbox_url, hero=hero)
    theirs = json.loads(other.sandbox("getRentNumber", service="tg", country="0").body)
    foreign = str(theirs["id"] if hero else theirs["phone"]["id"])
    assert refusal_of(pair.compare("getContinueRentPriceNumber", id=foreign), hero) == "INVALID_PHONE"
    assert refusal_of(pair.compare("getContinueRentPriceNumber", id="999999"), hero) == "INVALID_PHONE"
    assert refusal_of(pair.compare("getContinueRentPriceNumber"), hero) == "NO_ID_RENT"
    assert pair.gateway("setRentStatus", id=rental_id, status="2").status == 200
    assert refusal_of(pair.compare("getContinueRentPriceNumber", id=rental_id), hero) == "RENT_DIE"


def test_the_price_of_an_extension_is_what_the_extension_costs(pair):
    rental_id = str(rent(pair)["phone"]["id"])
    rental = Rental.objects.get(upstream_id=rental_id)
    price = json.loads(pair.gateway("getContinueRentPriceNumber", id=rental_id, rent_time="8").body)["price"]
    assert (
        json.loads(pair.gateway("continueRentNumber", id=rental_id, rent_time="8").body)["status"]
        == "success"
    )
    renewal = rental.renewals.get()
    assert renewal.cost == Decimal(str(price))


def test_a_read_only_key_may_ask_the_price_of_an_extension(team, owner, live_server, sandbox_url):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url)
    rental_id = str(rent(pair)["phone"]["id"])
    reader = replace(pair, gateway_key=make_gateway_key(pair.api_key, owner, label="reader", read_only=True))
    reader.compare("getContinueRentPriceNumber", id=rental_id, rent_time="4")


# --- the audit log and read-only keys --------------------------------------------------------------


def test_an_extension_through_the_gateway_names_the_key_in_the_audit_log(pair):
    rental_id = str(rent(pair)["phone"]["id"])
    answer = json.loads(pair.gateway("continueRentNumber", id=rental_id, rent_time="4").body)
    assert answer["status"] == "success", answer
    entry = AuditEntry.objects.filter(action="rental.extend").latest("id")
    assert "rent-bot" in phrase_text(entry.summary_phrase)


@pytest.mark.parametrize(
    "hero",
    [
        False,
        True,
    ],
)
def test_a_read_only_key_cannot_rent_extend_or_end_a_rent(team, owner, live_server, sandbox_url, hero):  # noqa: F811
    pair = pair_for(team, owner, live_server.url, sandbox_url, hero=hero)
    answer = json.loads(pair.gateway("getRentNumber", service="tg", country="0", rent_time="4").body)
    rental_id = str(answer["id"] if hero else answer["phone"]["id"])
    rental = Rental.objects.get(upstream_id=rental_id)
    reader = replace(pair, gateway_key=make_gateway_key(pair.api_key, owner, label="reader", read_only=True))
    refused = answers.error(hero, "BAD_KEY")
    # The provider's own answer to a key it will not take, in the dialect.
    bad_key = call(f"{sandbox_url}{'/hero' if hero else ''}{PATH}", "not-a-key", "getRentNumber")
    for action, params in (
        ("getRentNumber", {"service": "tg", "country": "0", "rent_time": "4"}),
        ("continueRentNumber", {"id": rental_id, "rent_time": "4"}),
        ("setRentStatus", {"id": rental_id, "status": "2"}),
        ("setRentStatus", {"id": rental_id, "status": "1"}),
    ):
        reply = reader.gateway(action, **params)
        assert (reply.status, reply.content_type, reply.body) == (
            refused.status,
            refused.content_type,
            refused.body.encode(),
        ), action
        assert (reply.status, reply.content_type, reply.body) == (
            bad_key.status,
            bad_key.content_type,
            bad_key.body,
        ), action
    assert Rental.objects.count() == 1
    assert Rental.objects.get(pk=rental.pk).status == RentalStatus.ACTIVE
    assert Rental.objects.get(pk=rental.pk).ends_at == rental.ends_at
    assert not rental.renewals.exists()
