"""The buy form's lists come from the catalogue the sweeper stored (in the user's language) once it is
synced, and from the provider itself (cached) before that."""

from django.utils import translation

from providers import selectors as catalog
from providers.catalog import catalog_sync
from providers.client import ProviderClient


def test_it_reads_the_provider_until_the_catalogue_is_stored_then_the_stored_one(make_key, monkeypatch):
    api_key, _ = make_key()
    countries = catalog.countries(api_key)
    assert ("0", "Russia") in {(o.code, o.name) for o in countries}

    catalog_sync(api_key=api_key)
    calls = []
    monkeypatch.setattr(ProviderClient, "get_countries", lambda self: calls.append(1) or [])
    with translation.override("ru"):
        stored = {o.code: o.name for o in catalog.countries(api_key)}
        services = {o.code: o.name for o in catalog.services(api_key)}
    assert stored["0"] == "Россия"
    assert "tg" in services and services["tg"]
    assert calls == []  # the stored catalogue answered
