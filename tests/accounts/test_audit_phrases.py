"""Audit entries are said in the reader's language: written in English (a worker, another member), read in
Russian on the log page and in its CSV; entries written before as plain text read as they were."""

from html import unescape

import pytest
from django.utils import translation

from accounts.models import AuditEntry, KeyStatus
from accounts.services import api_key_set_status, audit_record, member_remove
from tests.accounts.conftest import client_for, membership
from tests.catalogs import install_russian

SET_KEY = "Set key %(label)s to %(status)s"
REMOVED = "Removed %(user)s"


@pytest.fixture
def russian(settings, tmp_path):
    install_russian(
        settings,
        tmp_path,
        {
            SET_KEY: "Ключ %(label)s переведён в состояние «%(status)s»",
            "Disabled": "Отключён",
            REMOVED: "Удалён %(user)s",
        },
    )


def _page(user, language: str) -> str:
    return unescape(client_for(user).get("/t/acme/audit/", HTTP_ACCEPT_LANGUAGE=language).content.decode())


def _csv(user, language: str) -> str:
    response = client_for(user).get("/t/acme/audit.csv", HTTP_ACCEPT_LANGUAGE=language)
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_an_entry_written_in_english_reads_in_russian(russian, alice, bob, team, api_key):
    with translation.override("en"):
        api_key_set_status(membership=membership(team, alice), api_key=api_key, status=KeyStatus.DISABLED)
        member_remove(membership=membership(team, alice), target=membership(team, bob))
    entry = AuditEntry.objects.get(action="key.disabled")
    # Stored untranslated: the msgid and its parameters, the status as its label's msgid.
    assert entry.summary == SET_KEY
    assert entry.details["phrase"] == {"p": {"label": "Main", "status": {"m": "Disabled"}}}

    russian_page = _page(alice, "ru")
    assert "Ключ Main переведён в состояние «Отключён»" in russian_page
    assert "Удалён bob" in russian_page
    assert "Set key" not in russian_page
    english_page = _page(alice, "en")
    assert "Set key Main to Disabled" in english_page and "Removed bob" in english_page


def test_the_audit_csv_says_it_as_the_page_does(russian, alice, team, api_key):
    with translation.override("en"):
        api_key_set_status(membership=membership(team, alice), api_key=api_key, status=KeyStatus.DISABLED)
    assert "Ключ Main переведён в состояние «Отключён»" in _csv(alice, "ru")
    assert "Set key Main to Disabled" in _csv(alice, "en")


def test_an_entry_from_before_reads_as_it_was_written(russian, alice, team):
    # Plain words in the writer's language, with no phrase in its details (as every entry was before).
    AuditEntry.objects.create(team=team, action="team.note", summary="Добавлен ключ Main (50% скидка)")
    audit_record(team=team, actor=alice, action="team.note", summary="An old English note")
    for language in ("ru", "en"):
        page = _page(alice, language)
        assert "Добавлен ключ Main (50% скидка)" in page and "An old English note" in page
        assert "Добавлен ключ Main (50% скидка)" in _csv(alice, language)


def test_the_admin_lists_an_entry_as_the_log_says_it(russian, alice, bob, team, admin_client):
    with translation.override("en"):
        member_remove(membership=membership(team, alice), target=membership(team, bob))
    page = unescape(
        admin_client.get("/admin/accounts/auditentry/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    )
    assert "Removed bob" in page and "%(user)s" not in page
