"""The one way lists declare their filters (`kit.filters`), and every list read through it.

The property test sends random query strings to the three lists (activation history, rental history,
audit log) and their exports: never a 500, never a row of another team or of a key the member does
not see, and every export holds exactly the rows its page shows.
"""

import csv
import io
import itertools
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.filters import AuditFilters, KeyFilter, TeamFilters
from accounts.models import AuditEntry, LedgerEntry, Membership, Team
from accounts.services import audit_record
from activations.filters import HistoryFilters
from activations.models import Activation, ActivationStatus
from kit.cursor import Cursor
from kit.filters import DayFromFilter, DayToFilter, ListFilters
from rentals.models import Rental, RentalSms, RentalStatus
from tests.accounts.conftest import make_key

_ids = itertools.count(7 * 10**10)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _entry(team, moment: datetime, summary: str) -> AuditEntry:
    entry = audit_record(team=team, actor=None, action="team.note", summary=summary)
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=moment)
    return entry


class _DayFilters(ListFilters):
    date_from = DayFromFilter(label="From")
    date_to = DayToFilter(label="To")

    class Meta:
        model = AuditEntry
        fields = ()


def _summaries(filters: ListFilters, team) -> list[str]:
    rows = filters.apply(AuditEntry.objects.filter(team=team)).order_by("created_at")
    return list(rows.values_list("summary", flat=True))


# --- the kit ----------------------------------------------------------------------------------------


def test_days_are_whole_days_of_the_readers_zone_both_ends_included(team, settings):
    # Tokyo is UTC+9: its 1 March runs from 28 February 15:00 UTC to 1 March 15:00 UTC.
    _entry(team, datetime(2026, 2, 28, 15, 0, tzinfo=UTC), "first moment")
    _entry(team, datetime(2026, 3, 1, 14, 59, 59, 999999, tzinfo=UTC), "last moment")
    _entry(team, datetime(2026, 3, 1, 15, 0, tzinfo=UTC), "next day")
    _entry(team, datetime(2026, 2, 28, 14, 59, 59, 999999, tzinfo=UTC), "day before")
    with timezone.override("Asia/Tokyo"):
        assert _summaries(_DayFilters({"date_from": "2026-03-01", "date_to": "2026-03-01"}), team) == [
            "first moment",
            "last moment",
        ]
        assert _summaries(_DayFilters({"date_from": "2026-03-02"}), team) == ["next day"]
        assert _summaries(_DayFilters({"date_to": "2026-02-28"}), team) == ["day before"]
    # A reader in UTC sees the UTC days.
    with timezone.override("UTC"):
        assert _summaries(_DayFilters({"date_from": "2026-03-01", "date_to": "2026-03-01"}), team) == [
            "last moment",
            "next day",
        ]


def test_the_last_and_first_days_filter_without_error(team):
    _entry(team, datetime(2026, 3, 1, tzinfo=UTC), "one")
    assert _summaries(_DayFilters({"date_to": "9999-12-31", "date_from": "0001-01-01"}), team) == ["one"]


def test_unbound_filters_nothing_and_an_unreadable_value_filters_nothing(team):
    _entry(team, datetime(2026, 3, 1, tzinfo=UTC), "one")
    _entry(team, datetime(2026, 3, 5, tzinfo=UTC), "two")
    unbound = _DayFilters()
    assert not unbound.is_bound and not unbound.ignored and unbound.query == ""
    assert _summaries(unbound, team) == ["one", "two"]
    assert _summaries(_DayFilters({}), team) == ["one", "two"]  # an empty query string is no filter
    broken = _DayFilters({"date_from": "2026-03-03", "date_to": "garbage"})
    assert _summaries(broken, team) == ["two"]
    assert broken.ignored and broken.problems == [("To", "Enter a valid date.")]


def test_the_query_keeps_the_declared_filters_only(team):
    filters = _DayFilters({"after": "x", "date_to": "2026-03-01", "junk": "1", "date_from": ""})
    assert filters.query == "date_to=2026-03-01"


def test_a_filterset_holds_no_rows_of_its_own(team):
    _entry(team, datetime(2026, 3, 1, tzinfo=UTC), "one")
    assert list(_DayFilters({"date_from": "2000-01-01"}).qs) == []


def test_a_row_filter_without_choices_fails_loudly(team):
    class Unlimited(ListFilters):
        key = KeyFilter("api_key", label="Key")

        class Meta:
            model = AuditEntry
            fields = ()

    with pytest.raises(ImproperlyConfigured):
        Unlimited({"key": str(uuid.uuid4())}).form.is_valid()


def test_key_and_member_choices_are_the_members_own(team, alice, bob, charlie):
    own = make_key(team, label="Own")
    restricted = make_key(team, label="Restricted", restrict_to_members=True)
    foreign = make_key(Team.objects.get(slug="other"), label="Foreign")
    owner = Membership.objects.get(team=team, user=alice)
    operator = Membership.objects.get(team=team, user=bob)

    def choices(filters: TeamFilters, name: str) -> set[str]:
        return {str(value) for value, _label in filters.form.fields[name].choices if value}

    assert choices(HistoryFilters(membership=owner), "api_key") == {
        str(own.public_id),
        str(restricted.public_id),
    }
    assert choices(HistoryFilters(membership=operator), "api_key") == {str(own.public_id)}
    assert choices(HistoryFilters(membership=owner), "member") == {str(alice.public_id), str(bob.public_id)}
    assert choices(HistoryFilters(), "api_key") == set()
    restricted.allowed_members.add(operator)
    own.allowed_members.add(operator, owner)  # grants on an open key must not list it twice
    assert sorted(choices(HistoryFilters(membership=operator), "api_key")) == sorted(
        [str(own.public_id), str(restricted.public_id)]
    )
    for value in (foreign.public_id, charlie.public_id):
        filters = AuditFilters({"key": str(value), "member": str(value)}, membership=owner)
        assert set(filters.form.errors) == {"key", "member"}


# --- every list, under random query strings ---------------------------------------------------------

# Longer than any value the strategy below sends, so a page echoing a submitted value cannot fake them.
FOREIGN = "OTHER-TEAM-MARKER-3b9f2c7d1e"
HIDDEN = "HIDDEN-KEY-MARKER-8a1c5e9f0b"
FOREIGN_PHONE = "7" + "3" * 25
HIDDEN_PHONE = "7" + "5" * 25

LISTS = [
    # (page, its exports, how a page counts its rows, whether an operator may open it)
    ("activations:history", ["activations:history_csv"], "activations", True),
    ("rentals:rent_history", ["rentals:export"], "rentals", True),
    ("accounts:audit_log", ["accounts:audit_csv"], "audit", False),
]
OTHER_EXPORTS = ["activations:ledger_csv", "rentals:export_messages"]
NAMES = [
    "date_from", "date_to", "api_key", "member", "key", "service", "country", "status", "phone",
    "action", "after",
]  # fmt: skip
TOKENS = ["OWN_KEY", "HIDDEN_KEY", "FOREIGN_KEY", "ALICE", "BOB", "CHARLIE", "CURSOR"]

values = st.one_of(
    st.text(max_size=20),
    st.dates().map(date.isoformat),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.uuids().map(str),
    st.sampled_from(TOKENS),
    st.sampled_from(
        ["tg", "wa", "TG", "+7 900", "finished", "cancelled", "active", "team.note", "key.update"]
    ),
    st.datetimes(timezones=st.timezones()).map(lambda moment: f"{moment.isoformat()},{moment.microsecond}"),
    # Edges of the calendar: a cursor or a day whose UTC (or next day) is outside it.
    st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-31T23:59:59-12:00,5", "0001-01-01T00:00+12:00,5"]),
)
queries = st.lists(st.tuples(st.one_of(st.sampled_from(NAMES), st.text(max_size=8)), values), max_size=6)


@pytest.fixture
def world(team, alice, bob, charlie):
    """Rows of every list in alice's team, behind a key bob is not granted, and in charlie's team."""
    other = Team.objects.get(slug="other")
    own = make_key(team, label="Own")
    hidden = make_key(team, label=HIDDEN, restrict_to_members=True)
    foreign = make_key(other, label=FOREIGN, secret="sk-other-team-secret-0000")
    base = datetime(2026, 3, 1, 12, tzinfo=UTC)
    for n, (owner_team, key, member, phone) in enumerate(
        [
            (team, own, alice, "79000000001"),
            (team, own, bob, "79000000002"),
            (team, own, None, "79000000003"),
            (team, hidden, alice, HIDDEN_PHONE),
            (other, foreign, charlie, FOREIGN_PHONE),
        ]
    ):
        for i in range(3):  # three at one moment: pages break ties by id
            Activation.objects.create(
                team=owner_team, api_key=key, member=member, service=["tg", "wa"][i % 2], country=i,
                phone=phone, cost=Decimal("12.5"), currency="RUB", upstream_id=str(next(_ids)),
                status=[ActivationStatus.FINISHED, ActivationStatus.CANCELLED][i % 2],
                created_at=base + timedelta(days=n),
            )  # fmt: skip
            rental = Rental.objects.create(
                team=owner_team, api_key=key, member=member, upstream_id=str(next(_ids)), phone=phone,
                service=["tg", "wa"][i % 2], country=i, cost=Decimal("5"), total_cost=Decimal("5"),
                currency="RUB", status=[RentalStatus.ACTIVE, RentalStatus.CANCELLED][i % 2],
                created_at=base + timedelta(days=n),
            )  # fmt: skip
            RentalSms.objects.create(
                team=owner_team, rental=rental, phone_from="bank", text=f"code for {key.label}",
                code="123456", fingerprint=f"f{rental.pk}",
            )  # fmt: skip
            LedgerEntry.objects.create(
                team=owner_team, api_key=key, member=member, kind="purchase", amount=Decimal("1"),
                currency="RUB", reference=phone, event_key=f"ledger-{next(_ids)}",
                created_at=base + timedelta(days=n),
            )  # fmt: skip
            entry = audit_record(
                team=owner_team, actor=member, action=["team.note", "key.update"][i % 2],
                summary=f"about {key.label}", api_key=key,
            )  # fmt: skip
            AuditEntry.objects.filter(pk=entry.pk).update(created_at=base + timedelta(days=n))
    return {
        "OWN_KEY": str(own.public_id),
        "HIDDEN_KEY": str(hidden.public_id),
        "FOREIGN_KEY": str(foreign.public_id),
        "ALICE": str(alice.public_id),
        "BOB": str(bob.public_id),
        "CHARLIE": str(charlie.public_id),
        "CURSOR": str(Cursor(base + timedelta(days=1), Activation.objects.order_by("id").first().pk + 4)),
    }


def _body(response) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode()


def _csv_rows(body: str) -> int:
    return len(list(csv.reader(io.StringIO(body)))) - 1


def _page_rows(kind: str, body: str) -> int:
    if kind == "activations":
        return len(re.findall(r"data-row=", body))
    if kind == "rentals":
        return max(body.count("<tr>") - 1, 0)
    return body.count('<code class="action">')


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries)
def test_random_filters_never_fail_nor_show_another_teams_rows(world, alice, bob, query):
    pairs = [(name, world.get(value, value)) for name, value in query]
    query_string = urlencode(pairs)
    for user in (alice, bob):
        client = _client(user)
        forbidden = [FOREIGN, FOREIGN_PHONE] + ([HIDDEN, HIDDEN_PHONE] if user is bob else [])
        for page, exports, kind, operators_may in LISTS:
            if user is bob and not operators_may:
                for name in [page, *exports]:
                    assert client.get(f"{reverse(name, args=['acme'])}?{query_string}").status_code == 403
                continue
            bodies = {}
            for name in [page, *exports]:
                response = client.get(f"{reverse(name, args=['acme'])}?{query_string}")
                assert response.status_code == 200, (name, query_string, response.status_code)
                bodies[name] = _body(response)
                for marker in forbidden:
                    assert marker not in bodies[name], (name, query_string, marker)
            if not re.search(r"(^|&)after=", query_string):  # a later page shows fewer rows than the export
                assert _page_rows(kind, bodies[page]) == _csv_rows(bodies[exports[0]]), (page, query_string)
        for name in OTHER_EXPORTS:
            response = client.get(f"{reverse(name, args=['acme'])}?{query_string}")
            assert response.status_code == 200, (name, query_string)
            body = _body(response)
            assert not any(marker in body for marker in forbidden), (name, query_string)
