"""A key shows its balance from the moment it is added: the added key's check and the demo's key alike, so
the team's first page never says "Not checked yet"."""

import io
from decimal import Decimal

from django.core.management import call_command

from accounts.crypto import encrypt_secret, secret_digest
from accounts.models import ApiKey, KeyHealth
from providers.models import BalanceSample
from tests.accounts.conftest import client_for


def test_a_new_key_shows_its_balance_at_once(alice, team, sandbox_key):
    response = client_for(alice).post(
        "/t/acme/keys/new/", {"label": "Main", "profile": "sandbox", "base_url": "", "secret": sandbox_key}
    )
    assert response.status_code == 302
    key = ApiKey.objects.get(team=team)
    assert (key.balance, key.health) == (Decimal("1000"), KeyHealth.OK) and key.balance_updated_at
    # The check's reading starts the balance chart too.
    assert list(BalanceSample.objects.filter(api_key=key).values_list("balance", flat=True)) == [
        Decimal("1000")
    ]
    for url in ("/t/acme/", "/t/acme/keys/"):
        page = client_for(alice).get(url).content.decode()
        assert "1,000.00" in page, url
        assert "Not checked yet" not in page, url


def _demo() -> None:
    call_command("demo", stdout=io.StringIO())


def _demo_secret() -> str:
    out = io.StringIO()
    call_command("sandbox_account", "create", "--label", "demo", "--if-missing", stdout=out)
    return out.getvalue().strip()


def test_the_demo_key_has_its_balance_and_digest_at_once(db, settings):
    settings.DEBUG = True
    _demo()
    key = ApiKey.objects.get(team__slug="demo")
    assert key.balance == Decimal("1000") and key.health == KeyHealth.OK and key.balance_updated_at
    assert key.secret_digest == secret_digest(_demo_secret())
    client = client_for(key.team.memberships.get(user__username="demo").user)
    assert "Not checked yet" not in client.get("/t/demo/").content.decode()


def test_a_second_demo_run_keeps_the_balance_the_worker_read_since(db, settings):
    settings.DEBUG = True
    _demo()
    ApiKey.objects.filter(team__slug="demo").update(balance=Decimal("987.65"))
    _demo()
    assert ApiKey.objects.get(team__slug="demo").balance == Decimal("987.65")


def test_a_demo_key_pointed_at_a_new_sandbox_account_reads_that_accounts_balance(db, settings):
    settings.DEBUG = True
    _demo()
    call_command("sandbox_account", "set", _demo_secret(), "--balance", "250")
    # The demo team's key still names an account that is gone: it is pointed at the current one.
    ApiKey.objects.filter(team__slug="demo").update(
        secret_encrypted=encrypt_secret("sk-gone-account"), secret_last4="ount", balance=Decimal("1000")
    )
    _demo()
    key = ApiKey.objects.get(team__slug="demo")
    assert key.balance == Decimal("250") and key.secret_digest == secret_digest(_demo_secret())
