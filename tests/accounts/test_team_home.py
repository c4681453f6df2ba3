"""The team home: balances, today's spend per key and per member (never mixing currencies), warnings,
and the summary partial that htmx polls."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

from django.utils import timezone

from accounts.models import KeyHealth, LedgerEntry, Membership
from accounts.selectors import team_summary
from tests.accounts.conftest import client_for, make_key

_events = count()


def _spend(team, key, user, amount, *, currency=None, when=None):
    return LedgerEntry.objects.create(
        team=team,
        api_key=key,
        member=user,
        kind="purchase",
        amount=Decimal(amount),
        currency=currency or key.currency,
        event_key=f"test-{next(_events)}",
        created_at=when or timezone.now(),
    )


def test_it_sums_today_per_key_member_and_currency(team, alice, bob, api_key):
    usd = make_key(team, label="Hero", currency="USD", secret="sk-hero-usd-0001")
    _spend(team, api_key, bob, "10")
    _spend(team, api_key, bob, "-2.5")  # refund
    _spend(team, api_key, alice, "5")
    _spend(team, usd, bob, "0.75")
    _spend(team, api_key, bob, "100", when=timezone.now() - timedelta(days=1))  # not today

    summary = team_summary(Membership.objects.get(team=team, user=alice))
    per_key = {row.key.label: [(a.value, a.currency) for a in row.spent_today] for row in summary.keys}
    assert per_key["Main"] == [(Decimal("12.5"), "RUB")]
    assert per_key["Hero"] == [(Decimal("0.75"), "USD")]
    per_member = {row.username: [(a.value, a.currency) for a in row.spent] for row in summary.members}
    assert per_member["bob"] == [(Decimal("7.5"), "RUB"), (Decimal("0.75"), "USD")]
    assert per_member["alice"] == [(Decimal("5"), "RUB")]
    assert [(a.value, a.currency) for a in summary.totals] == [
        (Decimal("12.5"), "RUB"),
        (Decimal("0.75"), "USD"),
    ]


def test_another_teams_spend_is_not_counted(team, alice, charlie, api_key, other_key):
    _spend(other_key.team, other_key, charlie, "99")
    assert team_summary(Membership.objects.get(team=team, user=alice)).totals == []


def test_the_page_shows_balances_spend_and_warnings(team, alice, bob, api_key):
    make_key(team, label="Broken", health=KeyHealth.INVALID, secret="sk-broken-0002")
    _spend(team, api_key, bob, "42")
    content = client_for(alice).get("/t/acme/").content.decode()
    assert "1,000.00 RUB" in content
    assert "42.00 RUB" in content
    assert "Broken" in content and "the provider rejects this key" in content
    assert 'hx-trigger="every 10s"' in content
    assert 'hx-get="/t/acme/?v=' in content  # the summary polls itself with its version token


def test_htmx_polls_get_only_the_summary(team, alice, api_key):
    response = client_for(alice).get("/t/acme/", HTTP_HX_REQUEST="true")
    content = response.content.decode()
    assert response.status_code == 200
    assert content.lstrip().startswith('<div id="summary"')
    assert "<html" not in content and "topbar" not in content
    assert "HX-Request" in response["Vary"]


def _home_token(response) -> str:
    page = response.content.decode()
    start = page.index('hx-get="/t/acme/?v=') + len('hx-get="/t/acme/?v=')
    return page[start : page.index('"', start)]


def test_an_unchanged_poll_answers_204_and_a_change_renders_again(team, alice, bob, api_key, monkeypatch):
    # The token holds the minute (relative times move once a minute): keep the clock on one minute.
    now = timezone.now().replace(second=30)
    monkeypatch.setattr("config.home.timezone.now", lambda: now)
    client = client_for(alice)
    token = _home_token(client.get("/t/acme/"))

    unchanged = client.get("/t/acme/", {"v": token}, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204 and unchanged.content == b""

    _spend(team, api_key, bob, "42", when=now)
    changed = client.get("/t/acme/", {"v": token}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200 and "42.00 RUB" in changed.content.decode()
    new_token = _home_token(changed)
    assert new_token != token
    assert client.get("/t/acme/", {"v": new_token}, HTTP_HX_REQUEST="true").status_code == 204

    # A key's health is part of what the home shows, so its change renders again too.
    api_key.health = KeyHealth.BANNED
    api_key.save(update_fields=["health"])
    banned = client.get("/t/acme/", {"v": new_token}, HTTP_HX_REQUEST="true")
    assert banned.status_code == 200 and "banned by the provider" in banned.content.decode()


def test_the_next_minute_renders_again_for_the_relative_times(team, alice, api_key, monkeypatch):
    now = timezone.now().replace(second=30)
    monkeypatch.setattr("config.home.timezone.now", lambda: now)
    client = client_for(alice)
    token = _home_token(client.get("/t/acme/"))
    monkeypatch.setattr("config.home.timezone.now", lambda: now + timedelta(minutes=1))
    assert client.get("/t/acme/", {"v": token}, HTTP_HX_REQUEST="true").status_code == 200


def test_viewers_are_told_they_cannot_buy(team, vera):
    content = client_for(vera).get("/t/acme/").content.decode()
    assert "cannot buy numbers or change keys" in content
    assert "/t/acme/keys/new/" not in content


def test_archived_keys_are_not_on_the_home_page(team, alice):
    make_key(team, label="Retired", status="archived", secret="sk-retired-0003")
    assert "Retired" not in client_for(alice).get("/t/acme/").content.decode()


def test_owners_set_the_auto_cancel_rule_and_it_is_audited(client, alice, team, vera):
    from accounts.models import AuditEntry, Team

    client.force_login(alice)
    response = client.post("/t/acme/settings/", {"name": "Acme Ltd", "auto_cancel_minutes": "7"})
    assert response.status_code == 302
    team = Team.objects.get(pk=team.pk)
    assert (team.name, team.auto_cancel_minutes) == ("Acme Ltd", 7)
    assert AuditEntry.objects.filter(team=team, action="team.update").count() == 1
    assert (
        client.post("/t/acme/settings/", {"name": "Acme Ltd", "auto_cancel_minutes": "-1"}).status_code == 200
    )
    assert Team.objects.get(pk=team.pk).auto_cancel_minutes == 7
    client.force_login(vera)
    assert client.post("/t/acme/settings/", {"name": "X", "auto_cancel_minutes": "1"}).status_code == 403


def test_an_operator_sees_the_keys_granted_to_him_and_their_spend(team, alice, bob, api_key):
    reserved = make_key(team, label="Reserved", secret="sk-reserved-0003", restrict_to_members=True)
    _spend(team, reserved, alice, "40")
    _spend(team, api_key, alice, "5")
    summary = team_summary(Membership.objects.get(team=team, user=bob))
    assert [row.key.label for row in summary.keys] == ["Main"]
    assert [(a.value, a.currency) for a in summary.totals] == [(Decimal("5"), "RUB")]
    assert "Reserved" not in client_for(bob).get("/t/acme/").content.decode()
