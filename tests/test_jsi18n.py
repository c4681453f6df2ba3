"""The scripts' translations: Django's JavaScript catalog per language, loaded before our scripts,
rendered once and revalidated by the browser instead of fetched again."""

import re

import pytest
from django.test import Client

from config import jsi18n
from tests.accounts.conftest import client_for
from tests.catalogs import install_russian

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_catalogs(monkeypatch, tmp_path, settings):
    install_russian(settings, tmp_path)
    monkeypatch.setattr(jsi18n, "_rendered", {})


def test_the_catalog_speaks_the_language_in_its_url(fresh_catalogs):
    russian = Client().get("/jsi18n/ru/")
    assert russian.status_code == 200 and russian["Content-Type"].startswith("text/javascript")
    body = russian.content.decode()
    assert (
        '"stock": "\\u0432 \\u043d\\u0430\\u043b\\u0438\\u0447\\u0438\\u0438"' in body or "в наличии" in body
    )
    assert "function gettext" in body or "django.gettext" in body
    assert "в наличии" not in Client().get("/jsi18n/en/").content.decode()
    # Whatever the browser asks for: the URL decides.
    assert Client().get("/jsi18n/ru/", HTTP_ACCEPT_LANGUAGE="en").content == russian.content
    assert Client().get("/jsi18n/de/").status_code == 404


def test_it_is_rendered_once_and_revalidated_with_a_304(fresh_catalogs, team, alice, monkeypatch):
    calls = []
    real = jsi18n._catalog
    monkeypatch.setattr(jsi18n, "_catalog", lambda request: calls.append(1) or real(request))
    client = client_for(alice)
    first = client.get("/jsi18n/ru/")
    client.get("/jsi18n/ru/")
    assert len(calls) == 1
    # Kept by this browser only and asked again with If-Modified-Since (no-store would refetch it).
    assert "private" in first["Cache-Control"] and "no-store" not in first["Cache-Control"]
    again = client.get("/jsi18n/ru/", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert again.status_code == 304


def test_every_page_loads_the_catalog_of_its_language_before_our_script(team, alice):
    alice.language = "ru"
    alice.save()
    page = client_for(alice).get("/t/acme/").content.decode()
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert "/jsi18n/ru/" in scripts
    assert scripts.index("/jsi18n/ru/") < next(
        i for i, s in enumerate(scripts) if s.endswith("js/simdesk.js")
    )
