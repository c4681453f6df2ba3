"""Time zones: every time in the reader's zone (the member's own, else the team's, else UTC) on a 24-hour
clock, and the team's zone decides where "today" starts for daily limits, key budgets and "spent today"."""

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import formats, timezone, translation

from accounts.models import LedgerEntry, Team
from accounts.permissions import SpendDenied, check_spend_allowed, spent_today, start_of_today
from accounts.selectors import team_summary
from tests.accounts.conftest import client_for, make_key, membership

pytestmark = pytest.mark.django_db

# 22:30 UTC on 1 March is 01:30 on 2 March in Moscow (UTC+3).
NOW = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)


def _zone(response) -> str:
    return re.search(r'data-time-zone="([^"]+)"', response.content.decode()).group(1)


def _moscow(team: Team) -> Team:
    team.time_zone = "Europe/Moscow"
    team.save()
    return team


# --- where times are shown ---------------------------------------------------------------------------


def test_a_team_page_shows_times_in_the_team_zone_unless_the_member_chose_one(team, alice):
    _moscow(team)
    key = make_key(team, created_at=datetime(2026, 3, 1, 20, 0, tzinfo=UTC))
    client = client_for(alice)
    page = client.get(f"/t/acme/keys/{key.public_id}/")
    assert _zone(page) == "Europe/Moscow"
    assert "2026-03-01 23:00" in page.content.decode()
    alice.time_zone = "Asia/Vladivostok"
    alice.save()
    page = client.get(f"/t/acme/keys/{key.public_id}/")
    assert _zone(page) == "Asia/Vladivostok"
    assert "2026-03-02 06:00" in page.content.decode()


def test_each_team_page_takes_its_own_teams_zone(team, alice, charlie):
    _moscow(team)
    other = Team.objects.get(slug="other")
    other.time_zone = "America/New_York"
    other.save()
    membership(other, charlie)  # charlie's team
    assert _zone(client_for(alice).get("/t/acme/")) == "Europe/Moscow"
    assert _zone(client_for(charlie).get("/t/other/")) == "America/New_York"


def test_pages_outside_a_team_use_the_members_zone_else_utc(team, alice):
    _moscow(team)
    client = client_for(alice)
    assert _zone(client.get("/me/preferences/")) == "UTC"
    alice.time_zone = "Asia/Yekaterinburg"
    alice.save()
    assert _zone(client.get("/me/preferences/")) == "Asia/Yekaterinburg"
    assert _zone(Client().get("/accounts/login/")) == "UTC"


def test_no_request_inherits_the_previous_ones_zone(team, alice):
    _moscow(team)
    alice.language = "ru"
    alice.save()
    client_for(alice).get("/t/acme/")
    # The finished request let go of its reader's zone and language.
    assert timezone.get_current_timezone_name() == "UTC"
    assert translation.get_language() == "en"
    assert _zone(Client().get("/accounts/login/")) == "UTC"


def test_owners_and_admins_set_the_team_time_zone(team, alice, vera):
    client = client_for(alice)
    page = client.get("/t/acme/settings/").content.decode()
    assert '<option value="Europe/Moscow">Europe/Moscow (UTC+03:00)</option>' in page
    assert '<option value="UTC" selected>' in page
    data = {"name": "Acme", "auto_cancel_minutes": "0"}
    assert client.post("/t/acme/settings/", {**data, "time_zone": "Europe/Moscow"}).status_code == 302
    team.refresh_from_db()
    assert team.time_zone == "Europe/Moscow"
    assert client.post("/t/acme/settings/", {**data, "time_zone": "Nowhere/Atlantis"}).status_code == 200
    team.refresh_from_db()
    assert team.time_zone == "Europe/Moscow"
    assert client_for(vera).post("/t/acme/settings/", {**data, "time_zone": "UTC"}).status_code == 403


# --- the 24-hour clock -------------------------------------------------------------------------------

MOMENT = datetime(2026, 3, 1, 13, 5, tzinfo=UTC)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_format_counts_hours_to_24(language):
    with translation.override(language), timezone.override(UTC):
        for name in ("TIME_FORMAT", "DATETIME_FORMAT", "SHORT_DATETIME_FORMAT"):
            text = formats.date_format(MOMENT, name)
            assert "13:05" in text, (name, text)
            assert not re.search(r"[ap]\.?m\.?|AM|PM", text, re.IGNORECASE), (name, text)
    with translation.override("en"):
        assert formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT") == "2026-03-01 13:05"


def test_no_template_formats_a_time_on_a_12_hour_clock():
    # Letters of Django's date format that write a 12-hour clock or an am/pm marker.
    twelve = re.compile(r"(?<!\\)[gGhHaAPf]")
    found = []
    for template in Path(django_settings.BASE_DIR, "templates").rglob("*.html"):
        for arg in re.findall(r"\|(?:date|time):[\"']([^\"']*)[\"']", template.read_text()):
            letters = set(twelve.findall(arg)) - {"G", "H"}  # G and H are 0-23
            if letters:
                found.append(f"{template.name}: {arg}")
    assert not found


# --- where the day starts ------------------------------------------------------------------------------


@pytest.fixture
def moscow_spend(team, bob, monkeypatch):
    """Moscow's Acme at 01:30 Moscow time (22:30 UTC): bob spent 30 yesterday (20:00 UTC, 23:00 Moscow)
    and 5 today (21:15 UTC, 00:15 Moscow) with one key."""
    _moscow(team)
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    key = make_key(team)
    for amount, at, event in (
        ("30", datetime(2026, 3, 1, 20, 0, tzinfo=UTC), "y"),
        ("5", datetime(2026, 3, 1, 21, 15, tzinfo=UTC), "t"),
    ):
        LedgerEntry.objects.create(
            team=team,
            api_key=key,
            member=bob,
            kind="purchase",
            amount=Decimal(amount),
            currency="RUB",
            event_key=event,
            created_at=at,
        )
    return key


def test_today_starts_at_midnight_in_the_teams_zone(team, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    assert start_of_today(team) == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)  # a UTC team: still 1 March
    assert start_of_today(_moscow(team)) == datetime(2026, 3, 1, 21, 0, tzinfo=UTC)  # Moscow: 2 March began


def test_yesterdays_spend_in_the_teams_zone_is_not_spent_today(team, bob, moscow_spend):
    operator = membership(team, bob)
    assert spent_today(membership=operator, currency="RUB") == Decimal("5")
    assert spent_today(api_key=moscow_spend) == Decimal("5")
    totals = team_summary(membership(team, bob)).totals
    assert [(a.value, a.currency) for a in totals] == [(Decimal("5"), "RUB")]


def test_the_members_daily_limit_counts_from_the_teams_midnight(team, bob, moscow_spend):
    operator = membership(team, bob)
    operator.daily_spend_limit = Decimal("10")
    operator.save()
    check_spend_allowed(membership=operator, api_key=moscow_spend, amount=Decimal("5"))  # 5 + 5 = the limit
    with pytest.raises(SpendDenied):
        check_spend_allowed(membership=operator, api_key=moscow_spend, amount=Decimal("6"))


def test_the_keys_daily_budget_counts_from_the_teams_midnight(team, bob, moscow_spend):
    moscow_spend.daily_budget = Decimal("20")
    moscow_spend.save()
    operator = membership(team, bob)
    check_spend_allowed(membership=operator, api_key=moscow_spend, amount=Decimal("15"))
    with pytest.raises(SpendDenied):
        check_spend_allowed(membership=operator, api_key=moscow_spend, amount=Decimal("16"))


def test_the_readers_own_zone_does_not_move_the_teams_day(team, bob, moscow_spend):
    bob.time_zone = "America/Los_Angeles"  # still 1 March there: 14:30
    bob.save()
    with timezone.override("America/Los_Angeles"):
        assert spent_today(membership=membership(team, bob), currency="RUB") == Decimal("5")
