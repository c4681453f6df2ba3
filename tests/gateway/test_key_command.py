"""`manage.py gateway_key`: create prints only the key (for scripts), list, revoke; clear errors."""

import io
import re

import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEntry, KeyStatus, Membership, Role
from gateway.models import GatewayKey
from gateway.services import authenticate
from tests.accounts.conftest import make_key


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("gateway_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def upstream(team):
    return make_key(team, label="Main")


def test_create_prints_only_the_key_and_it_authenticates(team, alice, upstream):
    out = run("create", "--team", "acme", "--api-key", "Main")

    assert re.fullmatch(r"[0-9a-f]{32}\n", out)
    gateway_key = authenticate(out.strip())
    assert gateway_key is not None and gateway_key.team == team and gateway_key.api_key == upstream
    # Without --member it acts as the team's first owner; without --label it is named after the key.
    assert gateway_key.member == Membership.objects.get(team=team, user=alice)
    assert gateway_key.label == "Main" and not gateway_key.read_only
    assert out.strip() not in str(list(GatewayKey.objects.values()))
    assert AuditEntry.objects.filter(team=team, action="gateway_key.create", actor=alice).exists()


def test_create_takes_every_limit(team, bob, upstream):
    out = run(
        "create", "--team", "acme", "--api-key", "Main", "--member", "bob", "--label", "Bot",
        "--daily-budget", "100", "--max-price", "15.5", "--services", "TG,wa", "--countries", "0,6",
    )  # fmt: skip
    gateway_key = authenticate(out.strip())
    assert gateway_key.member.user == bob and gateway_key.label == "Bot"
    assert str(gateway_key.daily_budget) == "100.0000" and str(gateway_key.max_price) == "15.5000"
    assert gateway_key.services == ["tg", "wa"] and gateway_key.countries == [0, 6]


def test_a_viewer_gets_a_read_only_key_only(team, vera, upstream):
    with pytest.raises(CommandError, match="read-only"):
        run("create", "--team", "acme", "--api-key", "Main", "--member", "vera")
    gateway_key = authenticate(
        run("create", "--team", "acme", "--api-key", "Main", "--member", "vera", "--read-only").strip()
    )
    assert gateway_key.read_only and gateway_key.member.user == vera


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--team", "nope", "--api-key", "Main"], "no team"),
        (["--team", "acme", "--api-key", "Nope"], "no API key"),
        (["--team", "acme", "--api-key", "Old"], "no API key"),
        (["--team", "acme", "--api-key", "Main", "--member", "charlie"], "no member"),
        (["--team", "acme", "--api-key", "Main", "--max-price", "cheap"], "not an amount"),
        (["--team", "acme", "--api-key", "Main", "--countries", "russia"], "country"),
    ],
    ids=["team", "key", "archived-key", "outsider", "amount", "country"],
)
def test_wrong_input_is_a_clear_error(team, charlie, upstream, args, message):
    make_key(team, label="Old", secret="sk-old-archived-0000", status=KeyStatus.ARCHIVED)
    with pytest.raises(CommandError, match=message):
        run("create", *args)
    assert not GatewayKey.objects.exists()


def test_list_and_revoke_by_prefix(team, alice, upstream, client):
    plain = run("create", "--team", "acme", "--api-key", "Main", "--label", "Bot").strip()
    listed = run("list", "--team", "acme")
    assert plain[:8] in listed and "Bot" in listed and plain not in listed and "active" in listed

    out = run("revoke", "--team", "acme", plain[:8])

    assert "revoked" in out and plain not in out
    assert authenticate(plain) is None
    assert (
        client.get("/stubs/handler_api.php", {"api_key": plain, "action": "getBalance"}).content == b"BAD_KEY"
    )
    assert "revoked" in run("list", "--team", "acme")
    with pytest.raises(CommandError):
        run("revoke", "--team", "acme", plain[:8])  # nothing active starts with it any more


def test_a_team_without_an_owner_is_an_error(team, upstream):
    Membership.objects.filter(team=team, role=Role.OWNER).delete()
    with pytest.raises(CommandError, match="owner"):
        run("create", "--team", "acme", "--api-key", "Main")
