"""Who may have a key's balance asked upstream, and how long a page waits on a provider."""

import requests

from accounts.models import KeyHealth
from tests.accounts.conftest import UNREACHABLE_URL, client_for


def test_it_refuses_a_viewer_the_balance_refresh(vera, team, api_key, run_jobs):
    response = client_for(vera).post(f"/t/acme/keys/{api_key.public_id}/refresh/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.UNKNOWN  # nothing was asked upstream


def test_it_lets_an_operator_refresh_a_key_granted_to_them(bob, team, api_key, run_jobs):
    response = client_for(bob).post(f"/t/acme/keys/{api_key.public_id}/refresh/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200


def test_it_hides_the_refresh_button_from_a_viewer(alice, vera, team, api_key):
    refresh_url = f"/t/acme/keys/{api_key.public_id}/refresh/"
    for page in ("/t/acme/keys/", "/t/acme/"):
        assert refresh_url not in client_for(vera).get(page).content.decode()
        assert refresh_url in client_for(alice).get(page).content.decode()


def test_it_checks_a_new_secret_with_one_short_attempt(alice, team, settings, monkeypatch):
    settings.PROVIDER_READ_RETRIES = 5
    settings.PROVIDER_READ_TIMEOUT = 60.0
    settings.PROVIDER_WEB_READ_TIMEOUT = 3.0
    calls: list[tuple] = []

    def timing_out(self, url, **kwargs):
        calls.append(kwargs["timeout"])
        raise requests.ReadTimeout("slow provider")

    monkeypatch.setattr(requests.Session, "get", timing_out)
    response = client_for(alice).post(
        "/t/acme/keys/new/",
        {"label": "Slow", "profile": "custom", "base_url": UNREACHABLE_URL, "secret": "sk-slow-provider-1"},
    )
    assert response.status_code == 200  # the form again, with the refusal
    assert len(calls) == 1
    assert calls[0][1] == 3.0
    assert not team.api_keys.exists()
