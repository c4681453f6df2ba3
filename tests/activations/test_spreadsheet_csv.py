"""The history CSV as a Russian team opens it in a spreadsheet: bought, finished, cancelled and refused numbers
against the sandbox over real HTTP, then the Excel flavour read with Python's csv in the Russian dialect. Its
net column must add up to the ledger, and a number that was never bought must cost nothing."""

import csv
import io
import re
import uuid
import zoneinfo
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from accounts.models import LedgerEntry, User
from activations import polling
from activations.export import HISTORY_COLUMNS
from activations.models import Activation, ActivationStatus
from providers.keys import provider_of
from providers.models import CatalogCountry, CatalogService, Provider

from .test_views import buy_data, login, url

MOSCOW = "Europe/Moscow"
RUSSIAN = {"accept-language": "ru"}


def _russian_sheet(response) -> list[dict[str, str]]:
    """The download as a Russian Excel reads it: UTF-8 with a BOM, `;` between cells, `,` in numbers. Rows are
    keyed by the columns' stable names (the header itself is translated)."""
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM: a double-clicked file shows Cyrillic right
    text = body.decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(header) == len(HISTORY_COLUMNS) and "cost" not in header and "net" not in header
    names = [column.header for column in HISTORY_COLUMNS]
    return [dict(zip(names, row, strict=True)) for row in rows]


def _number(text: str) -> Decimal:
    assert re.fullmatch(r"-?\d+,\d{4}", text), text  # a decimal comma, four places, no dot, no grouping
    return Decimal(text.replace(",", "."))


def test_the_russian_excel_csv_sums_its_net_column_to_the_ledger(team, bob, make_key):
    User.objects.filter(pk=bob.pk).update(time_zone=MOSCOW)
    coded, _secret = make_key("--sms-delay", "0")
    waiting, _secret = make_key("--sms-delay", "3600", "--cancel-lock", "0")
    # The catalogue names the service and the country, in Russian too.
    provider = provider_of(coded, create=True)
    Provider.objects.filter(pk=provider.pk).update(catalog_synced_at=timezone.now())
    CatalogService.objects.create(provider=provider, code="tg", name_en="Telegram", name_ru="Телеграм")
    CatalogCountry.objects.create(provider=provider, code=0, name_eng="Russia", name_rus="Россия")
    client = login(bob)

    # Buy over HTTP: a number that gets its code and is finished, one that is cancelled (refund), one kept
    # waiting, and one the provider refuses (never bought).
    for api_key in (coded, waiting, waiting):
        assert client.post(url("buy", team), buy_data(api_key)).status_code == 302
    refused = client.post(url("buy", team), buy_data(waiting, max_price="0.01"))
    assert refused.status_code == 200 and "lowest price now is" in refused.content.decode()
    finished, cancelled, kept, never = Activation.objects.order_by("created_at", "id")
    polling.poll_key(coded.pk)
    # Our side waits out the profile's cancel lock (the sandbox account has none): skip the wait.
    Activation.objects.filter(pk=cancelled.pk).update(cancel_allowed_at=timezone.now())
    for activation, action in ((finished, "finish"), (cancelled, "cancel")):
        response = client.post(url("action", team), {"activation": activation.public_id, "action": action})
        assert response.status_code == 302
    for activation in (finished, cancelled, kept, never):
        activation.refresh_from_db()
    assert [a.status for a in (finished, cancelled, kept, never)] == [
        ActivationStatus.FINISHED,
        ActivationStatus.CANCELLED,
        ActivationStatus.WAITING,
        ActivationStatus.FAILED,
    ]

    response = client.get(url("history_csv", team), headers=RUSSIAN)
    assert response.status_code == 200
    rows = {row["upstream_id"] or "never": row for row in _russian_sheet(response)}
    assert len(rows) == 4

    # What the spreadsheet adds up is what the ledger says was spent on these purchases.
    refs = [f"activation:{a.pk}" for a in (finished, cancelled, kept, never)]
    ledger = LedgerEntry.objects.filter(purchase_ref__in=refs).aggregate(total=Sum("amount"))["total"]
    net = sum((_number(row["net"]) for row in rows.values() if row["net"]), Decimal("0"))
    assert net == ledger == finished.cost + kept.cost

    # Each row's own story: cost, refund and net.
    assert [rows[finished.upstream_id][part] for part in ("cost", "refund")] == [
        f"{finished.cost:.4f}".replace(".", ","),
        "0,0000",
    ]
    back = rows[cancelled.upstream_id]
    assert _number(back["cost"]) == _number(back["refund"]) == cancelled.cost and back["net"] == "0,0000"
    assert _number(rows[kept.upstream_id]["net"]) == kept.cost
    assert (rows["never"]["cost"], rows["never"]["refund"], rows["never"]["net"]) == ("", "", "")
    # Each status as the reader says it, not its code.
    assert [rows[a.upstream_id or "never"]["status"] for a in (finished, cancelled, kept, never)] == [
        "Завершён",
        "Отменён",
        "Ожидает код",
        "Не куплен",
    ]

    # Names beside codes, in the reader's language.
    first = rows[finished.upstream_id]
    assert (first["service"], first["service_name"], first["country"], first["country_name"]) == (
        "tg",
        "Телеграм",
        "0",
        "Россия",
    )
    assert all(row["service_name"] == "Телеграм" for row in rows.values())

    # Times as a spreadsheet reads them, in the reader's zone.
    moscow = zoneinfo.ZoneInfo(MOSCOW)
    assert first["created_at"] == timezone.localtime(finished.created_at, moscow).strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    assert first["closed_at"] == timezone.localtime(finished.closed_at, moscow).strftime("%Y-%m-%d %H:%M:%S")


def test_the_plain_csv_of_the_same_history_is_for_scripts(team, bob, make_key):
    api_key, _secret = make_key("--sms-delay", "3600")
    client = login(bob)
    assert (
        client.post(url("buy", team), buy_data(api_key, request_token=str(uuid.uuid4()))).status_code == 302
    )
    activation = Activation.objects.get()
    response = client.get(url("history_csv", team), {"format": "plain"}, headers=RUSSIAN)
    body = b"".join(response.streaming_content).decode("utf-8")
    assert not body.startswith("\ufeff")
    [row] = list(csv.DictReader(io.StringIO(body)))
    assert row["net"] == row["cost"] == f"{activation.cost:.4f}" and row["refund"] == "0.0000"
    assert row["created_at"] == activation.created_at.isoformat() and row["created_at"].endswith("+00:00")


def test_every_export_link_offers_both_flavours(team, alice):
    client = login(alice)
    history = client.get(url("history", team)).content.decode()
    for link in ("export-csv", "export-ledger"):
        assert f'id="{link}"' in history and f'id="{link}-plain"' in history
    assert "Excel (CSV)" in history and "Plain CSV" in history and "format=plain" in history
    rentals = client.get(reverse("rentals:rent_history", args=[team.slug])).content.decode()
    for link in ("export-rentals", "export-messages"):
        assert f'id="{link}"' in rentals and f'id="{link}-plain"' in rentals
