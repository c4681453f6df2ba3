"""Changing a key's webhook URL: owners and admins only, a new secret token, the old URL 404 at once."""

import json

from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import AuditEntry, KeyStatus
from tests.accounts.conftest import client_for


def _rotate_url(team, api_key) -> str:
    return reverse("providers:key_webhook_rotate", args=[team.slug, api_key.public_id])


def _hook(token: str, kind: str = "activations") -> str:
    return reverse(f"{kind}:webhook", args=[token])


def _post_hook(token: str, kind: str = "activations"):
    return Client().post(
        _hook(token, kind), json.dumps({"activationId": "1"}), content_type="application/json"
    )


def test_it_gives_the_key_a_new_token_and_the_old_url_404s_at_once(team, alice, api_key):
    old = str(api_key.webhook_token)
    assert _post_hook(old).status_code == 200
    response = client_for(alice).post(_rotate_url(team, api_key))
    assert response.status_code == 302 and response["Location"].endswith("#webhook")
    api_key.refresh_from_db()
    new = api_key.webhook_token
    assert new != old and len(new) >= 32
    assert _post_hook(old).status_code == 404
    assert _post_hook(old, "rentals").status_code == 404
    assert _post_hook(new).status_code == 200
    assert _post_hook(new, "rentals").status_code == 200


def test_it_shows_the_new_url_on_the_key_page(team, dave, api_key):
    old = str(api_key.webhook_token)
    page = client_for(dave).post(_rotate_url(team, api_key), follow=True).content.decode()
    api_key.refresh_from_db()
    assert settings.SITE_URL.rstrip("/") + _hook(api_key.webhook_token) in page
    assert old not in page
    assert "the old one no longer works" in page


def test_it_records_the_change_in_the_audit_log_without_the_token(team, alice, api_key):
    old = str(api_key.webhook_token)
    client_for(alice).post(_rotate_url(team, api_key))
    api_key.refresh_from_db()
    entry = AuditEntry.objects.get(team=team, action="key.webhook_rotate")
    assert entry.actor == alice and entry.api_key == api_key
    written = entry.summary + json.dumps(entry.details)
    assert old not in written and api_key.webhook_token not in written


def test_it_offers_the_button_to_admins_only(team, alice, bob, api_key):
    detail = reverse("providers:key_detail", args=[team.slug, api_key.public_id])
    assert _rotate_url(team, api_key) in client_for(alice).get(detail).content.decode()
    assert _rotate_url(team, api_key) not in client_for(bob).get(detail).content.decode()


def test_viewers_and_operators_get_403_and_the_token_stays(team, bob, vera, api_key):
    old = str(api_key.webhook_token)
    for user in (bob, vera):
        assert client_for(user).post(_rotate_url(team, api_key)).status_code == 403
    api_key.refresh_from_db()
    assert api_key.webhook_token == old


def test_outsiders_get_404(team, charlie, api_key):
    old = str(api_key.webhook_token)
    assert client_for(charlie).post(_rotate_url(team, api_key)).status_code == 404
    api_key.refresh_from_db()
    assert api_key.webhook_token == old


def test_it_refuses_an_archived_key(team, alice, api_key):
    api_key.status = KeyStatus.ARCHIVED
    api_key.save(update_fields=["status"])
    old = str(api_key.webhook_token)
    client_for(alice).post(_rotate_url(team, api_key))
    api_key.refresh_from_db()
    assert api_key.webhook_token == old


def test_it_answers_405_to_get(team, alice, api_key):
    assert client_for(alice).get(_rotate_url(team, api_key)).status_code == 405
