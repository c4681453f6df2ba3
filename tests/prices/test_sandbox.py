"""Snapshots and catalog sync against the sandbox provider over real HTTP (live_server)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from activations.models import Preset
from prices.models import LatestPrice, PriceKind, PricePoint, Snapshot, TeamPriceSettings
from prices.services import snapshot_claim_due
from prices.tasks import snapshot_sweep, snapshot_team_prices, sync_catalog
from providers.keys import provider_of
from providers.models import CatalogCountry, CatalogOperator, CatalogService
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(team, sandbox_url, settings):
    settings.SANDBOX_PRICE_DRIFT = False
    return register_key(team, sandbox_account("--balance", "100"))


def test_the_snapshot_task_stores_the_whole_catalog_then_only_changes(team, key, settings, monkeypatch):
    snapshot_team_prices(team.pk)

    provider = provider_of(key, create=True)
    first = Snapshot.objects.get(provider=provider, kind=PriceKind.ACTIVATION)
    assert first.entries > 100 and first.changes == first.entries
    assert LatestPrice.objects.filter(provider=provider, kind=PriceKind.ACTIVATION).count() == first.entries
    tg_russia = LatestPrice.objects.get(provider=provider, kind=PriceKind.ACTIVATION, service="tg", country=0)
    assert tg_russia.cost > 0 and tg_russia.count > 0

    # Pinned prices: the next snapshot is a header and nothing else.
    snapshot_team_prices(team.pk)
    second = Snapshot.objects.filter(provider=provider, kind=PriceKind.ACTIVATION).first()
    assert second.pk != first.pk and second.changes == 0
    assert PricePoint.objects.filter(snapshot=second).count() == 0

    # Drifting prices (a new bucket every ten minutes): an hour later only what moved is stored.
    settings.SANDBOX_PRICE_DRIFT = True
    snapshot_team_prices(team.pk)
    later = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr(timezone, "now", lambda: later)  # the sandbox and the snapshot read the same clock
    snapshot_team_prices(team.pk)
    drifted = Snapshot.objects.filter(provider=provider, kind=PriceKind.ACTIVATION).first()
    assert 0 < drifted.changes <= drifted.entries
    assert PricePoint.objects.filter(snapshot=drifted).count() == drifted.changes
    assert TeamPriceSettings.objects.get(team=team).last_snapshot_at is not None


def test_favourites_add_top_countries_with_free_price_maps_and_rent_prices(team, key, alice):
    Preset.objects.create(team=team, api_key=key, name="TG RU", service="tg", country=0)

    snapshot_team_prices(team.pk)

    provider = provider_of(key, create=True)
    top = LatestPrice.objects.filter(provider=provider, kind=PriceKind.TOP, service="tg")
    assert top.count() > 1
    assert all(row.detail for row in top if row.count)
    rent = LatestPrice.objects.filter(provider=provider, kind=PriceKind.RENT, country=0)
    assert rent.filter(service="tg").exists()


def test_the_sweeper_claims_a_team_once_per_interval(team, key):
    assert snapshot_claim_due() == [team.pk]
    assert snapshot_claim_due() == []
    settings_row = TeamPriceSettings.objects.get(team=team)
    assert settings_row.interval_minutes == 60


def test_the_sweeper_fans_out_and_snapshots(team, key, monkeypatch):
    ran = []
    monkeypatch.setattr(snapshot_team_prices, "apply_async", lambda args, **options: ran.append(args[0]))
    snapshot_sweep()
    assert ran == [team.pk]


def test_a_provider_that_fails_is_recorded_and_the_rest_go_on(team, key):
    from accounts.crypto import encrypt_secret
    from accounts.models import ApiKey

    ApiKey.objects.create(
        team=team,
        label="Down",
        profile="custom",
        base_url="http://127.0.0.1:9",
        secret_encrypted=encrypt_secret("secret-down-0000"),
        secret_last4="0000",
    )
    snapshot_team_prices(team.pk)

    settings_row = TeamPriceSettings.objects.get(team=team)
    assert "Other compatible provider" in settings_row.last_error
    assert Snapshot.objects.filter(provider=provider_of(key, create=True)).exists()


def test_the_catalog_sync_stores_names_in_three_languages_services_and_operators(team, key):
    sync_catalog(key.pk)

    provider = provider_of(key, create=True)
    russia = CatalogCountry.objects.get(provider=provider, code=0)
    assert (russia.name_eng, russia.name_rus, russia.name_chn) == ("Russia", "Россия", "俄罗斯")
    assert russia.name_in("ru") == "Россия" and russia.name_in("zh-hans") == "俄罗斯"
    assert CatalogService.objects.get(provider=provider, code="tg").name_en == "Telegram"
    assert CatalogOperator.objects.filter(provider=provider, country=0, name="mts").exists()
    assert provider.catalog_synced_at is not None


def test_the_catalog_refresh_button_syncs_on_demand(team, key, alice, client, run_jobs):
    client.force_login(alice)
    response = client.post(f"/t/{team.slug}/prices/catalog/refresh/", {"key": str(key.public_id)})
    assert response.status_code == 302 and "job=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert "Russia" in page and "Telegram" in page
    assert "refreshed." in page


def test_snapshot_now_button(team, key, alice, bob, client, run_jobs):
    client.force_login(bob)
    assert client.post(f"/t/{team.slug}/prices/snapshot/").status_code == 403
    client.force_login(alice)
    response = client.post(f"/t/{team.slug}/prices/snapshot/")
    assert response.status_code == 302 and "?job=" in response["Location"]
    assert Snapshot.objects.filter(provider=provider_of(key, create=True)).exists()
    assert "Snapshot stored:" in client.get(response["Location"]).content.decode()


def test_the_buttons_answer_without_calling_the_provider(team, key, alice, client):
    """The request only enqueues: with no worker running nothing is read, and the job poll says 204."""
    client.force_login(alice)
    snapshot = client.post(f"/t/{team.slug}/prices/snapshot/")
    catalogue = client.post(f"/t/{team.slug}/prices/catalog/refresh/", {"key": str(key.public_id)})
    assert not Snapshot.objects.exists() and not CatalogCountry.objects.exists()
    for response in (snapshot, catalogue):
        job_id = response["Location"].split("job=")[1].split("&")[0]
        assert client.get(f"/t/{team.slug}/jobs/{job_id}/").status_code == 204
