"""The API key secret never reaches a page, a partial, an admin page or a log line.

Alice (owner, and a superuser here so the admin opens too) renders every page of the site with a key
whose secret is a distinctive string, walks the key's upstream paths (refresh, add, rotate, all failing
against the sandbox), and the test greps every response and every captured log record for the secret.
"""

import logging

import pytest
from django.contrib import admin
from django.urls import get_resolver, reverse

from accounts import services
from accounts.models import AuditEntry, LedgerEntry, Membership
from tests.accounts.conftest import SECRET, SECRET_HEAD, client_for, make_key
from tests.accounts.test_access_matrix import PARAM, _walk, fill


def _leaks(text: str, secret: str) -> bool:
    # The masked form shows the last four characters on purpose; anything longer is a leak.
    return secret in text or secret[:-4] in text


def _assert_clean(responses: dict[str, bytes], records: list[logging.LogRecord], secret: str) -> None:
    for url, body in responses.items():
        assert not _leaks(body.decode("utf-8", "replace"), secret), f"the secret appears in {url}"
    for record in records:
        text = record.getMessage() + (
            logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        )
        assert not _leaks(text, secret), f"the secret appears in a log line of {record.name}"


def _site_pages(values: dict[str, str]) -> list[str]:
    """Every URL of the URL conf that can be filled: plain routes and team pages."""
    urls = []
    for route, _pattern in _walk(get_resolver().url_patterns):
        if route.startswith("admin/") or "(" in route or "^" in route:
            continue  # the admin is walked through its registry instead
        names = [m.group("name") for m in PARAM.finditer(route)]
        if all(name in values for name in names):
            urls.append(fill(route, values))
    return sorted(set(urls))


def _admin_pages(*, only_app: str | None = None) -> list[str]:
    urls = [reverse("admin:index")]
    for model, _model_admin in admin.site._registry.items():
        meta = model._meta
        if only_app and meta.app_label != only_app:
            continue
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        for obj in model._default_manager.all()[:3]:
            urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
    return urls


def _get_all(client, urls: list[str]) -> dict[str, bytes]:
    responses = {}
    for url in urls:
        for htmx in (False, True):
            headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
            response = client.get(url, **headers)
            assert response.status_code < 500, f"{url}: {response.status_code}"
            # CSV exports stream: read them whole, they are pages too.
            body = b"".join(response.streaming_content) if response.streaming else response.content
            responses[f"{url} (htmx={htmx})"] = body
    return responses


@pytest.fixture
def staff_alice(alice):
    alice.is_staff = alice.is_superuser = True
    alice.save()
    return alice


def test_the_secret_appears_on_no_page_and_in_no_log(
    staff_alice, team, dave, bob, vera, sandbox_url, caplog, run_jobs
):
    caplog.set_level(logging.DEBUG)
    key = make_key(team, profile="sandbox", base_url="")
    owner = Membership.objects.get(team=team, user=staff_alice)
    _invite, token = services.invite_create(membership=owner, role="viewer", email="x@example.com")
    LedgerEntry.objects.create(
        team=team, api_key=key, member=bob, kind="purchase", amount="3", currency="RUB", event_key="leak-1"
    )
    client = client_for(staff_alice)
    responses: dict[str, bytes] = {}

    # Upstream paths that carry the secret: refresh (BAD_KEY at the sandbox), add and rotate with it.
    responses["refresh"] = client.post(
        f"/t/acme/keys/{key.public_id}/refresh/", HTTP_HX_REQUEST="true"
    ).content
    responses["refresh-plain"] = client.post(f"/t/acme/keys/{key.public_id}/refresh/", follow=True).content
    responses["add"] = client.post(
        "/t/acme/keys/new/",
        {"label": "Again", "profile": "sandbox", "secret": SECRET},
        HTTP_HX_REQUEST="true",
    ).content
    responses["add-custom"] = client.post(
        "/t/acme/keys/new/",
        {"label": "Again", "profile": "custom", "base_url": "http://127.0.0.1:9", "secret": SECRET},
    ).content
    responses["rotate"] = client.post(f"/t/acme/keys/{key.public_id}/rotate/", {"secret": SECRET}).content
    assert AuditEntry.objects.filter(api_key=key).exists()

    values = {
        "team_slug": team.slug,
        "key_id": key.public_id,
        "member_id": Membership.objects.get(team=team, user=bob).public_id,
        "invite_id": _invite.public_id,
        "token": token,
    }
    pages = [url for url in _site_pages(values) if "logout" not in url]
    assert "/t/acme/" in pages and f"/t/acme/keys/{key.public_id}/" in pages
    responses.update(_get_all(client, pages))
    responses.update(_get_all(client, _admin_pages()))
    responses["audit-filtered"] = client.get("/t/acme/audit/", {"key": str(key.public_id)}).content
    # The audit CSV (walked above with the other pages) filtered by the key whose entries name it.
    assert "/t/acme/audit.csv" in pages
    audit_csv = client.get("/t/acme/audit.csv", {"key": str(key.public_id)})
    responses["audit-csv-filtered"] = b"".join(audit_csv.streaming_content)
    assert responses["audit-csv-filtered"].count(b"\r\n") > 1  # the key's entries are in it

    _assert_clean(responses, caplog.records, SECRET)
    assert SECRET_HEAD  # the check above is not vacuous
    assert any(b"\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2QZX9" in body for body in responses.values())


def test_a_real_sandbox_key_is_not_shown_after_adding_it(staff_alice, team, sandbox_key, caplog, run_jobs):
    caplog.set_level(logging.DEBUG)
    client = client_for(staff_alice)
    response = client.post(
        "/t/acme/keys/new/", {"label": "Sandbox", "profile": "sandbox", "secret": sandbox_key}, follow=True
    )
    assert response.status_code == 200
    key = team.api_keys.get()
    responses = {"after-add": response.content}
    responses["refresh"] = client.post(
        f"/t/acme/keys/{key.public_id}/refresh/", HTTP_HX_REQUEST="true"
    ).content
    values = {"team_slug": team.slug, "key_id": key.public_id}
    responses.update(_get_all(client, [u for u in _site_pages(values) if "logout" not in u]))
    # The sandbox's own admin lists its accounts' keys by design; ours must not.
    responses.update(_get_all(client, _admin_pages(only_app="accounts")))
    _assert_clean(responses, caplog.records, sandbox_key)
