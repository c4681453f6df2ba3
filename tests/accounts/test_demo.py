"""`manage.py demo`: logins, the demo team with its sandbox key, a viewer; safe to run twice."""

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.crypto import decrypt_secret
from accounts.models import ApiKey, Membership, Role, Team, User


def _demo() -> str:
    out = io.StringIO()
    call_command("demo", stdout=out)
    return out.getvalue()


def test_it_creates_the_demo_team_key_and_viewer(db, settings):
    settings.DEBUG = True
    output = _demo()
    team = Team.objects.get(slug="demo")
    assert Membership.objects.get(team=team, user__username="demo").role == Role.OWNER
    assert Membership.objects.get(team=team, user__username="viewer").role == Role.VIEWER
    assert User.objects.get(username="viewer").check_password("viewer")
    assert User.objects.get(username="demo").check_password("demo")
    key = ApiKey.objects.get(team=team)
    assert key.profile == "sandbox"
    sandbox_key = io.StringIO()
    call_command("sandbox_account", "create", "--label", "demo", "--if-missing", stdout=sandbox_key)
    assert decrypt_secret(key.secret_encrypted) == sandbox_key.getvalue().strip()
    assert sandbox_key.getvalue().strip() not in key.secret_encrypted
    assert "viewer / password: viewer" in output
    assert sandbox_key.getvalue().strip() not in output


def test_it_is_idempotent(db, settings):
    settings.DEBUG = True
    _demo()
    _demo()
    assert Team.objects.filter(slug="demo").count() == 1
    assert ApiKey.objects.filter(team__slug="demo").count() == 1
    assert Membership.objects.filter(team__slug="demo").count() == 2
    assert User.objects.filter(username__in=["demo", "viewer"]).count() == 2


def test_it_refuses_without_debug(db, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        _demo()


def test_the_demo_team_snapshots_prices_as_often_as_the_sandbox_moves_them(db, settings):
    """`make run` sets PRICE_SNAPSHOT_MINUTES=10 (the sandbox's prices drift every 10 minutes), so the
    charts move during a demo; the sweeper gives the demo team that interval on first sight."""
    from django.core.management import call_command

    from accounts.models import Team
    from prices.models import TeamPriceSettings
    from prices.services import snapshot_claim_due

    settings.DEBUG = True  # pytest-django runs with DEBUG off
    settings.PRICE_SNAPSHOT_MINUTES = 10
    call_command("demo", stdout=io.StringIO())
    call_command("demo", stdout=io.StringIO())
    snapshot_claim_due()
    assert TeamPriceSettings.objects.get(team=Team.objects.get(slug="demo")).interval_minutes == 10
    assert "PRICE_SNAPSHOT_MINUTES=10" in (settings.BASE_DIR / "Makefile").read_text()
