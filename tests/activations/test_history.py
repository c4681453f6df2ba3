"""History: filters, keyset pagination, the streamed CSV exports of activations and of the ledger."""

import csv
import io
import itertools
import os
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from accounts.models import ApiKey, LedgerEntry, LedgerKind, Membership, Team, User
from activations import selectors
from activations.export import HEADER, LEDGER_COLUMNS
from activations.models import Activation, ActivationStatus, Sms
from activations.services import BuyRequest, activation_buy
from providers.keys import provider_of
from providers.models import CatalogCountry, CatalogService, Provider
from tests.accounts.conftest import SECRET, SECRET_HEAD, make_key

from .test_views import login, url

_ids = itertools.count(10**10)
BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HEADER_INDEX = {name: index for index, name in enumerate(HEADER)}


@pytest.fixture
def key(team):
    return make_key(team)


def _rows(
    team, api_key, n: int, *, member=None, start: datetime = BASE, tie_every: int = 3, **fields
) -> list[Activation]:
    """n activations; every `tie_every` share one created_at, so the keyset must break ties by id."""
    rows = [
        Activation(
            team=team,
            api_key=api_key,
            member=member,
            service=fields.get("service", "tg"),
            country=fields.get("country", 0),
            phone=f"7900{i:07d}",
            cost=Decimal("12.5000"),
            currency="RUB",
            status=fields.get("status", ActivationStatus.FINISHED),
            created_at=start + timedelta(minutes=i // tie_every),
            upstream_id=str(next(_ids)),
        )
        for i in range(n)
    ]
    return Activation.objects.bulk_create(rows)


# The plain flavour (`kit.csv`): stable English names, RFC 4180, UTC ISO 8601; the default is Excel's.
PLAIN = {"format": "plain"}


def _book(row: Activation, kind: str, amount: str, event: str = "purchase") -> None:
    """A ledger row of the activation, as `purchases.services.ledger_book` writes it."""
    LedgerEntry.objects.create(
        team=row.team, api_key=row.api_key, member=row.member, kind=kind, amount=Decimal(amount),
        currency=row.currency, reference=row.upstream_id or "", purchase_ref=f"activation:{row.pk}",
        event_key=f"activation:{row.pk}:{event}",
    )  # fmt: skip


def _csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(body)))


def _walk_pages(client: Client, team, params: dict | None = None) -> list[str]:
    """Follow the "Older" links to the end; returns the public ids in page order."""
    seen: list[str] = []
    query = dict(params or {})
    for _ in range(100):
        page = client.get(url("history", team), query).content.decode()
        seen += re.findall(r'data-row="([0-9a-f-]+)"', page)
        older = re.search(r'id="history-older" href="\?([^"]+)"', page)
        if not older:
            return seen
        cursor = re.search(r"after=([^&\"]+)", older.group(1).replace("&amp;", "&")).group(1)
        from urllib.parse import unquote

        query = {**(params or {}), "after": unquote(cursor)}
    raise AssertionError("too many pages")


def test_keyset_pages_cover_every_row_once_in_order(team, alice, key):
    _rows(team, key, 123, member=alice)
    seen = _walk_pages(login(alice), team)
    expected = [str(a.public_id) for a in Activation.objects.order_by("-created_at", "-id")]
    assert seen == expected
    assert len(seen) == 123 and len(set(seen)) == 123


def test_keyset_pages_keep_the_filters(team, alice, key):
    _rows(team, key, 60, member=alice)
    _rows(team, key, 70, service="wa", start=BASE + timedelta(hours=1))
    seen = _walk_pages(login(alice), team, {"service": "wa"})
    assert len(seen) == 70
    assert set(seen) == {
        str(p) for p in Activation.objects.filter(service="wa").values_list("public_id", flat=True)
    }


def test_a_page_is_one_indexed_query_without_offset(team, alice, key, django_assert_max_num_queries):
    _rows(team, key, 120)
    membership = Membership.objects.get(team=team, user=alice)
    first = selectors.history_page(membership, selectors.HistoryFilters(), after=None)
    with django_assert_max_num_queries(4) as ctx:  # the page, then its keys, buyers and codes by id
        second = selectors.history_page(membership, selectors.HistoryFilters(), after=first.next_cursor)
    assert "OFFSET" not in ctx.captured_queries[0]["sql"].upper()
    assert not {a.pk for a in first.rows} & {a.pk for a in second.rows}


def test_filters(team, alice, bob, key):
    other_key = make_key(team, label="Second", secret="sk-second-key-000000000")
    _rows(team, key, 3, member=alice)
    _rows(team, other_key, 4, member=bob, service="wa", country=1, start=BASE + timedelta(days=2))
    Activation.objects.filter(service="wa").update(status=ActivationStatus.CANCELLED)
    Activation.objects.filter(phone="79000000001", api_key=key).update(phone="79990001122")
    client = login(alice)

    def count(**params) -> int:
        return len(re.findall(r"data-row=", client.get(url("history", team), params).content.decode()))

    assert count() == 7
    assert count(api_key=other_key.public_id) == 4
    assert count(member=bob.public_id) == 4
    assert count(service="WA") == 4
    assert count(country=1) == 4
    assert count(status="cancelled") == 4
    assert count(phone="+7 999 000-11-22") == 1
    assert count(date_from="2026-03-03") == 4
    assert count(date_to="2026-03-01") == 3
    assert count(date_from="2026-03-02", date_to="2026-03-02") == 0
    # An invalid filter filters nothing rather than hiding everything.
    assert count(country="abc") == 7


def test_the_history_is_team_scoped_and_operators_see_their_keys(team, alice, bob, vera, charlie, key):
    hidden_key = make_key(
        team, label="Restricted", secret="sk-restricted-0000000000", restrict_to_members=True
    )
    _rows(team, key, 2)
    _rows(team, hidden_key, 3, start=BASE + timedelta(hours=2))
    assert len(re.findall("data-row=", login(vera).get(url("history", team)).content.decode())) == 5
    assert len(re.findall("data-row=", login(bob).get(url("history", team)).content.decode())) == 2
    assert login(charlie).get(url("history", team)).status_code == 404
    assert login(charlie).get(url("history_csv", team)).status_code == 404
    assert login(charlie).get(reverse("activations:ledger_csv", args=[team.slug])).status_code == 404
    assert len(_csv(login(bob).get(url("history_csv", team)))) == 2


def test_the_csv_is_exactly_what_the_filters_show(team, alice, vera, key):
    rows = _rows(team, key, 5, member=alice)
    _rows(team, key, 4, service="wa", start=BASE + timedelta(days=1))
    Sms.objects.create(team=team, activation=rows[0], code="12345", text="Your code is 12345")
    Sms.objects.create(team=team, activation=rows[0], code="67890")
    _book(rows[0], LedgerKind.PURCHASE, "12.5")
    response = login(vera).get(url("history_csv", team), {"service": "tg", **PLAIN})  # viewers may export
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="activations-acme-')
    data = _csv(response)
    assert [r["upstream_id"] for r in data] == [
        a.upstream_id for a in Activation.objects.filter(service="tg").order_by("-created_at", "-id")
    ]
    first = next(r for r in data if r["upstream_id"] == rows[0].upstream_id)
    assert (first["cost"], first["refund"], first["net"], first["currency"]) == (
        "12.5000",
        "0.0000",
        "12.5000",
        "RUB",
    )
    # The money is the ledger's: a row it booked nothing for has none (not its quoted price).
    assert {(r["cost"], r["refund"], r["net"]) for r in data if r is not first} == {("", "", "")}
    assert first["created_at"] == rows[0].created_at.isoformat() and first["created_at"].endswith("+00:00")
    assert first["codes"] == "12345 67890"
    assert first["key"] == key.label and first["member"] == "alice"
    assert first["phone"] == rows[0].phone
    # No catalogue for the key's provider: a name column holds the code.
    assert (first["service_name"], first["country_name"]) == ("tg", "0")


def test_the_csv_never_contains_the_secret(team, alice, key):
    _rows(team, key, 3, member=alice)
    body = b"".join(login(alice).get(url("history_csv", team)).streaming_content).decode()
    assert SECRET not in body and SECRET_HEAD not in body and "••••" not in body
    ledger = b"".join(login(alice).get(reverse("activations:ledger_csv", args=[team.slug])).streaming_content)
    assert SECRET_HEAD not in ledger.decode()


def test_the_csv_streams_in_chunks(team, alice, key, django_assert_max_num_queries):
    _rows(team, key, 4500)
    response = login(alice).get(url("history_csv", team), PLAIN)
    assert response.streaming
    lines = iter(response.streaming_content)
    assert next(lines).startswith(b"created_at,")  # the header comes before any row is read
    # 4500 rows in chunks of 2000: three row queries plus three prefetches of codes, never 4500.
    with django_assert_max_num_queries(8):
        assert sum(1 for _ in lines) == 4500


def test_an_empty_export_still_has_its_header(team, alice):
    body = b"".join(login(alice).get(url("history_csv", team), PLAIN).streaming_content).decode()
    assert body.startswith("created_at,bought_at,closed_at,status,service,service_name,country,country_name")
    assert body.endswith(",error\r\n") and body.count("\n") == 1


def test_the_ledger_csv_has_the_money_movements(team, alice, bob, vera, make_key):
    api_key, _ = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    owner = Membership.objects.get(team=team, user=alice)
    bought = activation_buy(membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0))
    LedgerEntry.objects.create(
        team=team, api_key=api_key, member=bob, kind=LedgerKind.REFUND, amount=Decimal("-3.5"),
        currency="RUB", reference="x", event_key="test:refund",
    )  # fmt: skip
    ledger_url = reverse("activations:ledger_csv", args=[team.slug])
    data = _csv(login(vera).get(ledger_url, PLAIN))
    assert [(r["kind"], r["amount"], r["member"]) for r in data] == [
        ("refund", "-3.5000", "bob"),
        ("purchase", f"{bought.cost:.4f}", "alice"),
    ]
    assert data[1]["reference"] == bought.upstream_id and data[1]["key"] == api_key.label
    assert [r["kind"] for r in _csv(login(vera).get(ledger_url, {"member": bob.public_id, **PLAIN}))] == [
        "refund"
    ]
    today = datetime.now(UTC).date()
    assert (
        _csv(login(vera).get(ledger_url, {"date_to": (today - timedelta(days=1)).isoformat(), **PLAIN})) == []
    )


def _russian_excel(response) -> list[dict[str, str]]:
    """A Russian Excel download read by the columns' stable names (its header is translated)."""
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    _header, *rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";")
    return rows


def test_a_russian_excel_history_says_each_status_and_the_plain_one_keeps_its_code(team, alice, key):
    _rows(team, key, 1, member=alice)
    _rows(team, key, 1, member=alice, status=ActivationStatus.CANCELLED, start=BASE + timedelta(hours=1))
    _rows(team, key, 1, member=alice, status=ActivationStatus.FAILED, start=BASE + timedelta(hours=2))
    User.objects.filter(pk=alice.pk).update(language="ru")
    client = login(alice)
    status = HEADER_INDEX["status"]
    excel = [row[status] for row in _russian_excel(client.get(url("history_csv", team)))]
    assert excel == ["Не куплен", "Отменён", "Завершён"]  # newest first
    assert [row["status"] for row in _csv(client.get(url("history_csv", team), PLAIN))] == [
        "failed",
        "cancelled",
        "finished",
    ]


def test_a_russian_excel_ledger_says_each_kind_and_the_plain_one_keeps_its_code(team, alice, key):
    for kind, amount, seconds in ((LedgerKind.PURCHASE, "12.5", 0), (LedgerKind.REFUND, "-12.5", 1)):
        entry = LedgerEntry.objects.create(
            team=team, api_key=key, member=alice, kind=kind, amount=Decimal(amount), currency="RUB",
            reference="1", event_key=f"test:{kind}",
        )  # fmt: skip
        LedgerEntry.objects.filter(pk=entry.pk).update(created_at=BASE + timedelta(seconds=seconds))
    User.objects.filter(pk=alice.pk).update(language="ru")
    client = login(alice)
    ledger_url = reverse("activations:ledger_csv", args=[team.slug])
    kind = [column.header for column in LEDGER_COLUMNS].index("kind")
    assert [row[kind] for row in _russian_excel(client.get(ledger_url))] == ["Возврат", "Покупка"]
    assert [row["kind"] for row in _csv(client.get(ledger_url, PLAIN))] == ["refund", "purchase"]


def test_other_teams_rows_never_show(team, alice, charlie, key):
    other = Team.objects.get(slug="other")
    foreign_key = make_key(other, label="Foreign", secret="sk-foreign-00000000000")
    _rows(other, foreign_key, 3)
    _rows(team, key, 2)
    assert len(re.findall("data-row=", login(alice).get(url("history", team)).content.decode())) == 2
    assert len(_csv(login(alice).get(url("history_csv", team)))) == 2
    # A filter naming another team's key is invalid, so it filters nothing of ours and shows nothing of theirs.
    assert len(_csv(login(alice).get(url("history_csv", team), {"api_key": foreign_key.public_id}))) == 2


HYPERLINK = '=HYPERLINK("http://x","y")'


def _formulas_everywhere(team, key, member, row: Activation) -> None:
    """Text a spreadsheet would run, in every text column a member or a provider can fill."""
    ApiKey.objects.filter(pk=key.pk).update(label=HYPERLINK)
    User.objects.filter(pk=member.pk).update(username=HYPERLINK)
    Activation.objects.filter(pk=row.pk).update(
        operator="@SUM(1+1)", phone="+79001234567", error_message="-2+3", forward=True
    )
    Sms.objects.create(team=team, activation=row, code="=1+1")


def test_the_history_csv_neutralises_formulas(team, alice, key):
    rows = _rows(team, key, 2, member=alice)
    _formulas_everywhere(team, key, alice, rows[0])
    _book(rows[1], LedgerKind.CORRECTION, "-5")
    body = b"".join(login(alice).get(url("history_csv", team), PLAIN).streaming_content).decode()
    data = list(csv.DictReader(io.StringIO(body)))
    first = next(r for r in data if r["upstream_id"] == rows[0].upstream_id)
    assert first["key"] == first["member"] == "'" + HYPERLINK
    assert first["operator"] == "'@SUM(1+1)" and first["phone"] == "'+79001234567"
    assert first["error"] == "'-2+3" and first["codes"] == "'=1+1"
    assert first["forward"] == "1" and first["verification"] == "0"
    # Numbers are written from numbers: never prefixed, even negative.
    assert next(r for r in data if r["upstream_id"] == rows[1].upstream_id)["cost"] == "-5.0000"
    assert "\r\n" in body and body.count("\r\n") == body.count("\n") == 3


def test_the_ledger_csv_neutralises_formulas(team, alice, key):
    _formulas_everywhere(team, key, alice, _rows(team, key, 1, member=alice)[0])
    LedgerEntry.objects.create(
        team=team, api_key=key, member=alice, kind=LedgerKind.REFUND, amount=Decimal("-5"),
        currency="RUB", reference="+1 correction", event_key="test:formula",
    )  # fmt: skip
    ledger_url = reverse("activations:ledger_csv", args=[team.slug])
    body = b"".join(login(alice).get(ledger_url, PLAIN).streaming_content)
    assert body.decode().endswith("\r\n")
    [row] = list(csv.DictReader(io.StringIO(body.decode())))
    assert row["key"] == row["member"] == "'" + HYPERLINK
    assert row["reference"] == "'+1 correction"
    assert row["amount"] == "-5.0000" and row["balance_after"] == ""


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="COPY is PostgreSQL's"
)
def test_the_postgresql_copy_export_matches_the_python_one_byte_for_byte(team, alice, bob, key, monkeypatch):
    from django.db import connection

    from activations import export

    rows = _rows(team, key, 30, member=alice)
    _rows(team, key, 7, member=bob, service="wa", start=BASE + timedelta(days=1))
    Activation.objects.filter(pk=rows[1].pk).update(
        cost=Decimal("0.0725"),
        upstream_id=None,
        phone="",
        country=None,
        error_message='He said "no", then left',
    )
    Activation.objects.filter(pk=rows[2].pk).update(
        created_at=BASE.replace(microsecond=123456), cost=Decimal("7")
    )
    # The ledger's money: a purchase, a cancelled one (cost, refund, net 0), a negative correction.
    _book(rows[1], LedgerKind.PURCHASE, "0.0725")
    _book(rows[2], LedgerKind.PURCHASE, "7")
    _book(rows[2], LedgerKind.REFUND, "-7", event="refund")
    _book(rows[4], LedgerKind.CORRECTION, "-5.1235")
    # Names from the key's catalogue (English in the plain flavour), one of them a formula.
    provider = provider_of(key, create=True)
    Provider.objects.filter(pk=provider.pk).update(catalog_synced_at=BASE)
    CatalogService.objects.create(provider=provider, code="tg", name_en="Telegram", name_ru="Телеграм")
    CatalogService.objects.create(provider=provider, code="wa", name_en="=WhatsApp", name_ru="Ватсап")
    CatalogCountry.objects.create(provider=provider, code=0, name_eng="Russia", name_rus="Россия")
    Sms.objects.create(team=team, activation=rows[0], code="12,345", text="Your code")
    Sms.objects.create(team=team, activation=rows[0], code="67890")
    # Formula text in every text column, and values starting with a tab, a carriage return or a line break.
    _formulas_everywhere(team, key, alice, rows[3])
    Activation.objects.filter(pk=rows[4].pk).update(
        operator="\tTAB",
        error_message="\rCR",
        status="-",
        service="=",
        currency="@",
        cost=Decimal("-5.12345"),
    )
    Activation.objects.filter(pk=rows[5].pk).update(error_message="two\nlines", phone=" +7 spaced")
    client = login(alice)
    copied = b"".join(client.get(url("history_csv", team), PLAIN).streaming_content).decode()
    # The Python path is what SQLite serves: render it here on PostgreSQL too and compare whole files.
    monkeypatch.setattr(connection, "vendor", "python")
    from_python = b"".join(client.get(url("history_csv", team), PLAIN).streaming_content).decode()
    assert copied == from_python
    assert copied.splitlines()[0] == ",".join(export.HEADER)
    assert ",tg,Telegram,0,Russia," in copied and ",wa,'=WhatsApp,0,Russia," in copied
    assert '"He said ""no"", then left"' in copied and ",0.0725,0.0000,0.0725," in copied
    assert ",7.0000,7.0000,0.0000," in copied
    # CRLF ends every row (the header and 37 rows); a value's own newline is kept inside its quotes.
    assert copied.count("\r\n") == 1 + 37 and '"two\nlines"' in copied
    assert "'" + HYPERLINK.replace('"', '""') in copied and ",'+79001234567," in copied
    assert ",'\tTAB," in copied and '"\'\rCR"' in copied and ",-5.1235,0.0000,-5.1235," in copied
    assert ",'-,'=,'=," in copied
    assert ",finished,tg,Telegram," in copied and "Finished" not in copied  # codes, for scripts


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="COPY is PostgreSQL's"
)
@pytest.mark.parametrize(("language", "zone"), [("ru", "Europe/Moscow"), ("en", "America/New_York")])
def test_the_postgresql_copy_of_the_excel_flavour_matches_the_python_one_byte_for_byte(
    team, alice, key, monkeypatch, language, zone
):
    from django.db import connection

    rows = _rows(team, key, 12, member=alice)
    Activation.objects.filter(pk=rows[0].pk).update(
        bought_at=BASE.replace(microsecond=999999), closed_at=BASE + timedelta(days=200), error_message="a;b"
    )
    _book(rows[0], LedgerKind.PURCHASE, "0.0725")
    _book(rows[1], LedgerKind.PURCHASE, "12.5")
    _book(rows[1], LedgerKind.REFUND, "-12.5", event="refund")
    _formulas_everywhere(team, key, alice, rows[2])
    # Statuses as their labels in the reader's language (one with a comma, quoted in English), a code
    # outside the choices as it is.
    Activation.objects.filter(pk=rows[3].pk).update(status=ActivationStatus.FAILED)
    Activation.objects.filter(pk=rows[4].pk).update(status=ActivationStatus.UNKNOWN)
    Activation.objects.filter(pk=rows[5].pk).update(status=ActivationStatus.PENDING)
    Activation.objects.filter(pk=rows[6].pk).update(status="=odd")
    provider = provider_of(key, create=True)
    Provider.objects.filter(pk=provider.pk).update(catalog_synced_at=BASE)
    CatalogService.objects.create(provider=provider, code="tg", name_en="Telegram", name_ru="Телеграм")
    CatalogCountry.objects.create(provider=provider, code=0, name_eng="Russia", name_rus="Россия")
    User.objects.filter(pk=alice.pk).update(language=language, time_zone=zone)
    client = login(alice)
    copied = b"".join(client.get(url("history_csv", team)).streaming_content)
    monkeypatch.setattr(connection, "vendor", "python")
    from_python = b"".join(client.get(url("history_csv", team)).streaming_content)
    assert copied == from_python
    text = copied.decode("utf-8")
    assert text.startswith("\ufeff") and text.count("\r\n") == 1 + 12
    if language == "ru":
        assert ";tg;Телеграм;0;Россия;" in text and ";0,0725;0,0000;0,0725;" in text
        assert ";12,5000;12,5000;0,0000;" in text and '"a;b"' in text
        assert "2026-03-01 15:00:00" in text  # 12:00 UTC in Moscow
        assert ";Завершён;tg;" in text and ";Не куплен;tg;" in text and ";Покупка…;tg;" in text
        assert (
            ";Результат неизвестен, проверяем;tg;" in text and ";'=odd;tg;" in text and "finished" not in text
        )
    else:
        assert ",tg,Telegram,0,Russia," in text and ",0.0725,0.0000,0.0725," in text
        assert "2026-03-01 07:00:00" in text and "2026-09-17 08:00:00" in text  # EST, then EDT
        assert ",Finished,tg," in text and ',"Outcome unknown, checking",tg,' in text and ",'=odd,tg," in text
