"""No web request waits on a sweep: "take a snapshot now" and "refresh the catalogue" answer at once and a
real Celery worker does the reading, against the sandbox over HTTP; the page follows the job (204 while it
runs, then the outcome)."""

import pytest
from django.test import Client

from prices.models import Snapshot
from providers.keys import provider_of
from providers.models import CatalogCountry
from tests.activations.conftest import register_key
from tests.conftest import sandbox_account, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def _follow(client: Client, location: str) -> str:
    """Poll the job the page shows until it ended; the reloaded page, which tells the outcome."""
    job_id = location.split("job=")[1].split("&")[0]
    url = location.split("/prices/")[0] + f"/jobs/{job_id}/"
    answers: list = []
    assert wait_for(
        lambda: answers.append(client.get(url, HTTP_HX_REQUEST="true")) or answers[-1].status_code == 200, 90
    )
    assert {a.status_code for a in answers} <= {200, 204}
    assert answers[-1]["HX-Refresh"] == "true"
    return client.get(location).content.decode()


def test_snapshot_and_catalogue_refresh_run_in_the_worker_and_the_page_follows_them(job_worker, team, alice):
    key = register_key(team, sandbox_account("--balance", "100"))
    client = Client()
    client.force_login(alice)

    response = client.post(f"/t/{team.slug}/prices/snapshot/")
    assert response.status_code == 302
    assert "Snapshot stored:" in _follow(client, response["Location"])
    assert Snapshot.objects.filter(provider=provider_of(key)).exists()

    response = client.post(f"/t/{team.slug}/prices/catalog/refresh/", {"key": str(key.public_id)})
    assert response.status_code == 302
    assert "refreshed." in _follow(client, response["Location"])
    assert CatalogCountry.objects.filter(provider=provider_of(key)).exists()
