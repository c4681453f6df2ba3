"""The rentals CSV as a Russian team opens it in a spreadsheet: rents over real HTTP against the sandbox (one
extended, one cancelled with a refund, one refused), then the Excel flavour read with Python's csv in the
Russian dialect; its net column adds up to the ledger."""

import csv
import io
import re
import uuid
from decimal import Decimal

from django.db.models import Sum
from django.urls import reverse

from accounts.models import LedgerEntry, LedgerKind
from rentals.export import RENTAL_COLUMNS
from rentals.models import Rental, RentalStatus
from tests.conftest import sandbox_account

from .conftest import register_key
from .test_views import login


def _rent(client, team, api_key) -> None:
    client.post(
        reverse("rentals:rent", args=[team.slug]),
        {
            "api_key": str(api_key.public_id),
            "country": 0,
            "operator": "",
            "hours": 4,
            "service": "tg",
            "request_token": str(uuid.uuid4()),
        },
    )


def _number(text: str) -> Decimal:
    assert re.fullmatch(r"-?\d+,\d{4}", text), text  # a decimal comma, four places
    return Decimal(text.replace(",", "."))


def test_the_russian_excel_rentals_csv_sums_its_net_column_to_the_ledger(team, alice, make_key):
    api_key, _secret = make_key("--sms-delay", "3600")
    broke = register_key(team, sandbox_account("--balance", "0"), label="Broke")
    client = login(alice)
    for key in (api_key, api_key, api_key, broke):
        _rent(client, team, key)
    extended, cancelled, kept, refused = Rental.objects.order_by("created_at", "id")
    assert refused.status == RentalStatus.FAILED and refused.api_key == broke
    action = reverse("rentals:action", args=[team.slug])
    assert client.post(action, {"action": "cancel", "rental": cancelled.public_id}).status_code == 302
    extend = reverse("rentals:extend", args=[team.slug, extended.public_id])
    assert client.post(extend, {"hours": 12}).status_code == 302
    assert LedgerEntry.objects.filter(kind=LedgerKind.RENEWAL).count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerKind.REFUND).count() == 1

    response = client.get(reverse("rentals:export", args=[team.slug]), headers={"accept-language": "ru"})
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")
    header, *lines = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    names = [column.header for column in RENTAL_COLUMNS]
    assert len(header) == len(names)
    rows = {row["id"]: row for row in (dict(zip(names, line, strict=True)) for line in lines)}
    assert len(rows) == 4

    refs = [f"rental:{r.pk}" for r in (extended, cancelled, kept, refused)]
    ledger = LedgerEntry.objects.filter(purchase_ref__in=refs).aggregate(total=Sum("amount"))["total"]
    net = sum((_number(row["net"]) for row in rows.values() if row["net"]), Decimal("0"))
    assert net == ledger and net > 0

    for rental in (extended, cancelled, kept):
        rental.refresh_from_db()
    longer = rows[str(extended.public_id)]
    assert _number(longer["cost"]) == _number(longer["net"]) == extended.total_cost > extended.cost
    assert longer["renewals"] == "1" and longer["refund"] == "0,0000"
    back = rows[str(cancelled.public_id)]
    assert _number(back["cost"]) == _number(back["refund"]) == cancelled.cost and back["net"] == "0,0000"
    assert _number(rows[str(kept.public_id)]["net"]) == kept.cost
    never = rows[str(refused.public_id)]
    assert (never["cost"], never["refund"], never["net"]) == ("", "", "")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", longer["created_at"])
    # Each status as the reader says it, not its code.
    assert [rows[str(r.public_id)]["status"] for r in (extended, cancelled, kept, refused)] == [
        "Активен",
        "Отменён",
        "Активен",
        "Не арендован",
    ]
