"""Every CSV export of the site in both flavours, as a Russian reader downloads it: the Excel one with a BOM,
`;` between cells and translated headers, the plain one without a BOM, with `,` and its stable English names."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User

EXPORTS = [
    "activations:history_csv",
    "activations:ledger_csv",
    "rentals:export",
    "rentals:export_messages",
    "accounts:audit_csv",
    "prices:history_csv",
    "prices:cheapest_csv",
    "prices:compare_csv",
    "prices:balance_csv",
    "prices:spend_csv",
]


def _body(client: Client, name: str, team, **query) -> str:
    response = client.get(reverse(name, args=[team.slug]), query)
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content).decode("utf-8")


@pytest.mark.parametrize("name", EXPORTS)
def test_every_export_comes_in_both_flavours(name, team, alice):
    User.objects.filter(pk=alice.pk).update(language="ru", time_zone="Europe/Moscow")
    client = Client()
    client.force_login(alice)
    excel = _body(client, name, team)
    plain = _body(client, name, team, format="plain")
    assert excel.startswith("\ufeff") and not plain.startswith("\ufeff")
    excel_header, plain_header = excel[1:].split("\r\n")[0], plain.split("\r\n")[0]
    if "," in plain_header:  # several columns (a price chart with nothing chosen has none)
        assert ";" in excel_header and "," not in excel_header.replace('","', "")
        assert plain_header.isascii() and ";" not in plain_header
        assert excel_header.count(";") == plain_header.count(",")
