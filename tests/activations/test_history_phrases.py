"""A purchase's stored error (a `kit.phrases` phrase) in the history page and its CSVs: said in the reader's
language in the spreadsheet flavour, in English in the plain one, and the same from PostgreSQL's COPY."""

import csv
import io
import os
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils.translation import gettext_noop

from activations.models import Activation, ActivationStatus
from kit.phrases import Money, phrase
from tests.catalogs import install_russian

from .test_history import PLAIN, _rows, key  # noqa: F401 (the fixture)
from .test_views import login, url

LIMIT = "Your daily spend limit is reached (%(left)s left of %(limit)s)."
BANNED = "The provider has banned this account until %(until)s."
RUSSIAN_LIMIT = "Дневной лимит исчерпан (осталось %(left)s из %(limit)s)."


@pytest.fixture
def russian(settings, tmp_path):
    install_russian(
        settings, tmp_path, {LIMIT: RUSSIAN_LIMIT, BANNED: "Провайдер заблокировал аккаунт до %(until)s."}
    )


def _failed(rows: list[Activation]) -> None:
    limit = phrase(gettext_noop(LIMIT), left=Money(Decimal("0"), "RUB"), limit=Money(Decimal("100"), "RUB"))
    banned = phrase(gettext_noop(BANNED), until=datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    for row, words in zip(rows, (limit, banned), strict=False):
        Activation.objects.filter(pk=row.pk).update(
            status=ActivationStatus.FAILED, error_message=words.stored(300)
        )


def _errors(response) -> list[str]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    dialect = csv.Sniffer().sniff(body.splitlines()[0], delimiters=",;")
    return [row[-1] for row in csv.reader(io.StringIO(body), dialect)][1:]


def test_the_history_says_a_stored_error_in_the_readers_language(russian, team, alice, key):  # noqa: F811
    _failed(_rows(team, key, 2, member=alice))
    client = login(alice)
    page = client.get(url("history", team), {"status": "failed"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Дневной лимит исчерпан (осталось 0.00 RUB из 100.00 RUB)." in page
    assert "Your daily" not in page and '{"m"' not in page

    spreadsheet = _errors(client.get(url("history_csv", team), HTTP_ACCEPT_LANGUAGE="ru"))
    assert "Дневной лимит исчерпан (осталось 0.00 RUB из 100.00 RUB)." in spreadsheet
    # The plain flavour is for scripts: English whoever downloads it, times in UTC.
    plain = _errors(client.get(url("history_csv", team), PLAIN, HTTP_ACCEPT_LANGUAGE="ru"))
    assert sorted(plain) == [
        "The provider has banned this account until 2026-03-01 12:00.",
        "Your daily spend limit is reached (0.00 RUB left of 100.00 RUB).",
    ]


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="COPY is PostgreSQL's"
)
def test_the_copy_export_says_a_stored_error_as_the_python_writer_does(
    russian,
    team,
    alice,
    key,  # noqa: F811
    monkeypatch,
):
    rows = _rows(team, key, 5, member=alice)
    _failed(rows)
    Activation.objects.filter(pk=rows[2].pk).update(operator="a,b", error_message='Old words, "quoted"')
    client = login(alice)
    copied = b"".join(
        client.get(url("history_csv", team), PLAIN, HTTP_ACCEPT_LANGUAGE="ru").streaming_content
    )
    monkeypatch.setattr(connection, "vendor", "python")
    from_python = b"".join(
        client.get(url("history_csv", team), PLAIN, HTTP_ACCEPT_LANGUAGE="ru").streaming_content
    )
    assert copied == from_python
    assert b"Your daily spend limit is reached (0.00 RUB left of 100.00 RUB)." in copied
    assert b'{""m""' not in copied
