"""The rental pages over HTTP: the live board (204 when unchanged, an event when SMS arrive), renting,
cancelling, extending, auto-renew, history and the streamed CSV exports; foreign rentals are 404."""

import csv
import io
import uuid
from datetime import timedelta
from decimal import Decimal
from urllib.parse import unquote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry, LedgerKind, User
from rentals import polling
from rentals.export import MESSAGE_COLUMNS, RENTAL_COLUMNS
from rentals.models import Rental, RentalSms, RentalSmsVia, RentalStatus
from rentals.services import RentRequest, rental_rent
from tests.accounts.conftest import make_key as make_team_key
from tests.conftest import login
from tests.rentals.conftest import shift_end

TG = RentRequest(service="tg", country=0, hours=4)


@pytest.fixture
def rented(make_key, owner):
    api_key, secret = make_key("--sms-delay", "3600")
    return rental_rent(membership=owner, api_key=api_key, request=TG)


def board_url(team) -> str:
    return reverse("rentals:board", args=[team.slug])


def test_the_board_shows_the_rental_and_its_inbox_live(rented, team, alice, vera):
    client = login(vera)  # viewers watch
    page = client.get(board_url(team))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"+{rented.phone}" in html and "Cancel with refund" not in html  # viewers get no buttons
    poll = login(alice).get(board_url(team), HTTP_HX_REQUEST="true")
    version = poll.content.decode().split("?v=")[1].split('"')[0]
    unchanged = login(alice).get(board_url(team), {"v": version}, HTTP_HX_REQUEST="true")
    assert unchanged.status_code == 204
    call_command("sandbox_account", "sms", rented.upstream_id, "Your code is 908070")
    polling.poll_key(rented.api_key_id)
    changed = login(alice).get(board_url(team), {"v": version}, HTTP_HX_REQUEST="true")
    assert changed.status_code == 200
    assert "rentSmsArrived" in changed["HX-Trigger"] and "908070" in changed["HX-Trigger"]
    assert '<mark class="code mono">908070</mark>' in changed.content.decode()


def test_a_page_about_something_else_reads_no_rental(rented, team, alice):
    """The navigation's at-risk badge comes after the page, from the rentals board: the key list (like
    every page outside rentals) runs no query on the rentals tables."""
    shift_end(rented, to=timezone.now() + timedelta(minutes=30))  # at risk: the badge would show
    client = login(alice)
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("providers:key_list", args=[team.slug]))
    assert page.status_code == 200
    assert not [q["sql"] for q in queries.captured_queries if "rentals_" in q["sql"]]
    assert f'hx-get="{board_url(team)}?part=risk" hx-trigger="load"' in page.content.decode()


def test_the_navigation_badge_counts_the_rentals_at_risk(rented, team, alice, vera):
    badge = login(vera).get(board_url(team), {"part": "risk"}, HTTP_HX_REQUEST="true")
    assert badge.status_code == 200 and "rent-risk-badge" not in badge.content.decode()
    shift_end(rented, to=timezone.now() + timedelta(minutes=30))
    badge = login(vera).get(board_url(team), {"part": "risk"}, HTTP_HX_REQUEST="true")
    html = badge.content.decode()
    assert 'class="badge rent-risk-badge"' in html and ">1</span>" in html
    assert "1 rented number ends soon without a working auto-renew" in html
    # The browser keeps it a little while (one member's answer: private).
    assert "private" in badge["Cache-Control"] and "max-age=30" in badge["Cache-Control"]


def test_it_rents_from_the_form(make_key, team, alice):
    make_key("--sms-delay", "3600")
    client = login(alice)
    page = client.get(reverse("rentals:rent", args=[team.slug]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-service="full"' in html and 'data-service="tg"' in html
    api_key = Rental._meta.get_field("api_key").related_model.objects.get()
    response = client.post(
        reverse("rentals:rent", args=[team.slug]),
        {
            "api_key": str(api_key.public_id),
            "country": 0,
            "operator": "",
            "hours": 12,
            "service": "full",
            "request_token": "7d7c1b7e-2f7a-4a57-9a4e-0b1d2c3e4f50",
        },
    )
    assert response.status_code == 302
    rental = Rental.objects.get()
    assert rental.status == RentalStatus.ACTIVE and rental.service == "full" and rental.hours == 12


def test_cancel_within_20_minutes_refunds_and_after_explains(rented, team, alice, bob, vera):
    url = reverse("rentals:action", args=[team.slug])
    assert login(vera).post(url, {"action": "cancel", "rental": rented.public_id}).status_code == 403
    response = login(alice).post(url, {"action": "cancel", "rental": rented.public_id}, follow=True)
    assert "comes back" in response.content.decode()
    assert LedgerEntry.objects.get(kind=LedgerKind.REFUND).amount == -rented.cost
    other = rental_rent(
        membership=rented.team.memberships.get(user=alice), api_key=rented.api_key, request=TG
    )
    Rental.objects.filter(pk=other.pk).update(started_at=timezone.now() - timedelta(minutes=21))
    board = login(alice).get(board_url(team)).content.decode()
    assert "Refund only in the first 20 minutes" in board
    response = login(bob).post(url, {"action": "cancel", "rental": other.public_id}, follow=True)
    assert "first 20 minutes" in response.content.decode()
    assert Rental.objects.get(pk=other.pk).status == RentalStatus.ACTIVE


def test_extend_shows_the_price_then_extends(rented, team, alice):
    url = reverse("rentals:extend", args=[team.slug, rented.public_id])
    client = login(alice)
    quote = client.get(url, {"hours": 12}, HTTP_HX_REQUEST="true")
    assert quote.status_code == 200 and 'class="rent-price"' in quote.content.decode()
    assert client.post(url, {"hours": 12}).status_code == 302
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1
    refused = client.post(url, {"hours": 2})
    assert refused.status_code == 200 and "4" in refused.content.decode()


def test_auto_renew_is_set_from_its_form(rented, team, alice):
    url = reverse("rentals:auto_renew", args=[team.slug, rented.public_id])
    response = login(alice).post(url, {"enabled": "on", "before_hours": 2, "hours": 24, "budget": "100"})
    assert response.status_code == 302
    rented.refresh_from_db()
    assert rented.auto_renew and rented.renew_hours == 24 and rented.renew_by == alice


def test_foreign_rentals_are_404(rented, team, charlie):
    from accounts.models import Membership

    other = Membership.objects.get(user=charlie).team
    client = login(charlie)
    assert client.get(reverse("rentals:extend", args=[other.slug, rented.public_id])).status_code == 404
    assert (
        client.post(
            reverse("rentals:action", args=[other.slug]), {"action": "finish", "rental": rented.public_id}
        ).status_code
        == 404
    )
    assert f"+{rented.phone}" not in client.get(board_url(other)).content.decode()


PLAIN = {"format": "plain"}  # kit.csv's flavour for scripts: stable English names, RFC 4180, UTC ISO 8601


def _csv(response) -> list[list[str]]:
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_exports_stream_rentals_and_messages_without_secrets(rented, team, vera):
    call_command("sandbox_account", "sms", rented.upstream_id, "Code 123456")
    call_command("sandbox_account", "sms", rented.upstream_id, "Code 654321")
    polling.poll_key(rented.api_key_id)
    rented.refresh_from_db()
    client = login(vera)
    rows = _csv(client.get(reverse("rentals:export", args=[team.slug]), PLAIN))
    header, row = rows[0], rows[1]
    record = dict(zip(header, row, strict=True))
    assert record["rent_id"] == rented.upstream_id and record["phone"] == rented.phone
    assert record["cost"] == record["net"] == f"{rented.cost:.4f}" and "E" not in record["cost"]
    assert record["refund"] == "0.0000" and record["service"] == "tg"
    assert record["auto_renew"] == "0"
    assert record["created_at"].endswith("+00:00") and "T" in record["created_at"]
    assert record["messages"] == "2"
    messages = _csv(client.get(reverse("rentals:export_messages", args=[team.slug]), PLAIN))
    code = messages[0].index("code")
    assert sorted(r[code] for r in messages[1:]) == ["123456", "654321"]
    everything = str(rows) + str(messages)
    assert rented.api_key.secret_last4 not in everything or rented.api_key.secret_last4 in rented.phone
    filtered = _csv(client.get(reverse("rentals:export", args=[team.slug]), {"status": "cancelled", **PLAIN}))
    assert len(filtered) == 1


HYPERLINK = '=HYPERLINK("http://x","y")'


def test_csv_exports_neutralise_formulas(team, alice):
    api_key = make_team_key(team, label=HYPERLINK)
    User.objects.filter(pk=alice.pk).update(username=HYPERLINK)
    rental = Rental.objects.create(
        team=team, api_key=api_key, member=alice, upstream_id="555", phone="+79001234567", service="tg",
        country=0, operator="-any", cost=Decimal("-5"), total_cost=Decimal("12.5"), currency="RUB",
        status=RentalStatus.ACTIVE, auto_renew=True,
    )  # fmt: skip
    RentalSms.objects.create(
        team=team, rental=rental, phone_from="@bank", text=HYPERLINK, code="123456", fingerprint="f1"
    )
    LedgerEntry.objects.create(
        team=team, api_key=api_key, member=alice, kind=LedgerKind.CORRECTION, amount=Decimal("-5"),
        currency="RUB", purchase_ref=f"rental:{rental.pk}", event_key=f"rental:{rental.pk}:correction:1",
    )  # fmt: skip
    client = login(alice)
    body = b"".join(client.get(reverse("rentals:export", args=[team.slug]), PLAIN).streaming_content).decode()
    assert body.endswith("\r\n") and body.count("\r\n") == 2
    [record] = csv.DictReader(io.StringIO(body))
    assert record["key"] == record["member"] == "'" + HYPERLINK
    assert record["phone"] == "'+79001234567" and record["operator"] == "'-any"
    assert record["cost"] == record["net"] == "-5.0000" and record["refund"] == "0.0000"  # never prefixed
    assert record["auto_renew"] == "1" and record["country"] == "0" and record["previous_rent_id"] == ""
    response = client.get(reverse("rentals:export_messages", args=[team.slug]), PLAIN)
    [message] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert message["text"] == "'" + HYPERLINK and message["from"] == "'@bank"
    assert message["code"] == "123456" and message["phone"] == "'+79001234567"


def _sheet(response, delimiter: str) -> list[dict[str, str]]:
    """A download read by the columns' stable names (the Excel header is translated): the header's order."""
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    _header, *rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    return rows


def test_a_russian_excel_export_says_each_status_and_how_a_message_came(team, alice):
    api_key = make_team_key(team)
    rental = Rental.objects.create(
        team=team, api_key=api_key, member=alice, upstream_id="555", phone="79001234567", service="tg",
        country=0, cost=Decimal("5"), currency="RUB", status=RentalStatus.ACTIVE,
    )  # fmt: skip
    RentalSms.objects.create(team=team, rental=rental, text="Code 1", fingerprint="f1", via=RentalSmsVia.POLL)
    User.objects.filter(pk=alice.pk).update(language="ru")
    client = login(alice)
    status = [column.header for column in RENTAL_COLUMNS].index("status")
    via = [column.header for column in MESSAGE_COLUMNS].index("via")
    rentals, messages = (
        reverse("rentals:export", args=[team.slug]),
        reverse("rentals:export_messages", args=[team.slug]),
    )
    assert [row[status] for row in _sheet(client.get(rentals), ";")] == ["Активен"]
    assert [row[via] for row in _sheet(client.get(messages), ";")] == ["Опрос"]
    # The plain flavour keeps the codes scripts compare against.
    assert [row[status] for row in _sheet(client.get(rentals, PLAIN), ",")] == ["active"]
    assert [row[via] for row in _sheet(client.get(messages, PLAIN), ",")] == ["poll"]


def test_history_is_keyset_paginated(rented, team, alice):
    base = Rental.objects.get(pk=rented.pk)
    for i in range(60):
        base.pk = None
        base.public_id = uuid.uuid4()
        base.upstream_id = str(2_000_000 + i)
        base.request_token = None
        base.created_at = timezone.now() - timedelta(minutes=i + 1)
        base.save()
    client = login(alice)
    first = client.get(reverse("rentals:rent_history", args=[team.slug]))
    html = first.content.decode()
    assert first.status_code == 200 and "after=" in html
    cursor = unquote(html.split("after=")[1].split('"')[0])
    second = client.get(reverse("rentals:rent_history", args=[team.slug]), {"after": cursor})
    assert second.status_code == 200 and second.content.decode().count("<tr>") == 61 - 50 + 1
