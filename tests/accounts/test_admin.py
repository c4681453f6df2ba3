"""The Django admin covers every model and never shows or accepts a key's secret."""

import pytest
from django.apps import apps
from django.contrib import admin

from tests.accounts.conftest import SECRET_HEAD, client_for


@pytest.fixture
def superuser(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    return alice


def test_every_accounts_model_is_registered():
    for model in apps.get_app_config("accounts").get_models():
        assert admin.site.is_registered(model), model.__name__


def test_the_key_admin_shows_only_the_masked_secret(superuser, team, api_key):
    client = client_for(superuser)
    changelist = client.get("/admin/accounts/apikey/").content.decode()
    change = client.get(f"/admin/accounts/apikey/{api_key.pk}/change/").content.decode()
    for page in (changelist, change):
        assert "••••QZX9" in page
        assert SECRET_HEAD not in page
        assert api_key.secret_encrypted not in page
    assert 'name="secret_encrypted"' not in change


def test_keys_cannot_be_added_through_the_admin(superuser):
    assert client_for(superuser).get("/admin/accounts/apikey/add/").status_code == 403


def test_saving_a_key_in_the_admin_keeps_its_secret(superuser, team, api_key):
    before = api_key.secret_encrypted
    response = client_for(superuser).post(
        f"/admin/accounts/apikey/{api_key.pk}/change/",
        {"label": "Renamed", "status": "active", "restrict_to_members": "", "currency": "RUB"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    api_key.refresh_from_db()
    assert api_key.label == "Renamed"
    assert api_key.secret_encrypted == before


def test_history_is_read_only(superuser):
    client = client_for(superuser)
    assert client.get("/admin/accounts/auditentry/add/").status_code == 403
    assert client.get("/admin/accounts/ledgerentry/add/").status_code == 403
