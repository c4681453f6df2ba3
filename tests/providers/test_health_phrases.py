"""A key's health message is stored untranslated (a worker writes it) and said in the reader's language on
the key's pages, as is the audit entry that told the team."""

from html import unescape

import pytest
from django.utils import translation

from accounts.models import AuditEntry
from providers import errors
from providers.services import api_key_mark_health
from tests.accounts.conftest import client_for, make_key
from tests.catalogs import install_russian

BAD_KEY = "The provider rejected this API key (BAD_KEY). Check that you copied it completely."
RUSSIAN_BAD_KEY = "Провайдер отклонил этот ключ API (BAD_KEY). Проверьте, что он скопирован полностью."


@pytest.fixture
def russian(settings, tmp_path):
    install_russian(
        settings,
        tmp_path,
        {BAD_KEY: RUSSIAN_BAD_KEY, "Key %(label)s: %(message)s": "Ключ %(label)s: %(message)s"},
    )


def test_a_health_message_written_by_a_worker_reads_in_russian(russian, alice, team):
    api_key = make_key(team)
    with translation.override("en"):
        api_key_mark_health(api_key=api_key, exc=errors.BadKey())
    api_key.refresh_from_db()
    assert RUSSIAN_BAD_KEY not in api_key.health_message and BAD_KEY in api_key.health_message

    detail = f"/t/acme/keys/{api_key.public_id}/"
    assert RUSSIAN_BAD_KEY in unescape(
        client_for(alice).get(detail, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    )
    assert BAD_KEY in unescape(client_for(alice).get(detail, HTTP_ACCEPT_LANGUAGE="en").content.decode())
    keys = unescape(client_for(alice).get("/t/acme/keys/", HTTP_ACCEPT_LANGUAGE="ru").content.decode())
    assert f'title="{RUSSIAN_BAD_KEY}"' in keys

    audit = unescape(client_for(alice).get("/t/acme/audit/", HTTP_ACCEPT_LANGUAGE="ru").content.decode())
    assert f"Ключ Main: {RUSSIAN_BAD_KEY}" in audit
    assert AuditEntry.objects.get(action="key.invalid").details["phrase"]["p"]["message"]["m"] == BAD_KEY
