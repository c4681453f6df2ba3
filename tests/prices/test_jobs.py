"""No web request waits on a sweep: "take a snapshot now" and "refresh the catalogue" answer at once and a
real Celery worker does the reading, against the sandbox over HTTP; the page follows the job (204 while it
runs, then the outcome)."""

from collections.abc import Iterator

import pytest
from django.test import Client

from prices.models import Snapshot
from providers.keys import provider_of
from providers.models import CatalogCountry
from tests.activations.conftest import register_key
from tests.conftest import celery_worker, sandbox_account, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def shared_worker(live_server, sandbox_url, tmp_path, monkeypatch, settings) -> Iterator[str]:
    """A real worker that shares this process's cache, where jobs live: the file cache the settings give
    without Redis (each test process otherwise has a private in-memory one)."""
    monkeypatch.setenv("REDIS_URL", "")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(settings.VAR_DIR / "cache"),
        }
    }
    settings.SANDBOX_PRICE_DRIFT = False
    with celery_worker(live_server, tmp_path, beat=False) as queue:
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        yield queue


def _follow(client: Client, location: str) -> str:
    """Poll the job the page shows until it answers with its outcome; the outcome's text."""
    job_id = location.split("job=")[1].split("&")[0]
    url = location.split("/prices/")[0] + f"/jobs/{job_id}/"
    answers: list = []
    assert wait_for(
        lambda: answers.append(client.get(url, HTTP_HX_REQUEST="true")) or answers[-1].status_code == 200, 90
    )
    assert {a.status_code for a in answers} <= {200, 204}
    assert answers[-1]["HX-Refresh"] == "true"
    return answers[-1].content.decode()


def test_snapshot_and_catalogue_refresh_run_in_the_worker_and_the_page_follows_them(
    shared_worker, team, alice
):
    key = register_key(team, sandbox_account("--balance", "100"))
    client = Client()
    client.force_login(alice)

    response = client.post(f"/t/{team.slug}/prices/snapshot/")
    assert response.status_code == 302
    assert "Snapshot stored:" in _follow(client, response["Location"])
    assert Snapshot.objects.filter(provider=provider_of(key)).exists()
    assert "Snapshot stored:" in client.get(response["Location"]).content.decode()

    response = client.post(f"/t/{team.slug}/prices/catalog/refresh/", {"key": str(key.public_id)})
    assert response.status_code == 302
    assert "refreshed." in _follow(client, response["Location"])
    assert CatalogCountry.objects.filter(provider=provider_of(key)).exists()
