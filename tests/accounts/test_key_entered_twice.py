"""A secret entered twice in a team is refused with a link to the key that holds it (its balance would count
twice); it is found by a keyed digest stored beside the ciphertext, never by decrypting every key."""

import hashlib
import importlib
import io
import logging

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import IntegrityError, transaction

from accounts import crypto
from accounts.crypto import decrypt_secret, secret_digest
from accounts.models import ApiKey, AuditEntry, KeyStatus
from accounts.services import api_key_set_status
from providers import services
from tests.accounts.conftest import client_for, make_key, membership
from tests.conftest import sandbox_account


def _add(client, *, secret: str, label: str = "Main", htmx: bool = False, team_slug: str = "acme"):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        f"/t/{team_slug}/keys/new/",
        {"label": label, "profile": "sandbox", "base_url": "", "secret": secret},
        **headers,
    )


def _leaks(text: str, secret: str) -> bool:
    # The masked form shows the last four characters on purpose; anything longer is a leak.
    return secret in text or secret[:-4] in text


@pytest.mark.parametrize("htmx", [False, True])
def test_a_secret_added_twice_is_refused_with_a_link_to_the_key_and_nothing_is_saved(
    alice, team, sandbox_key, htmx, caplog
):
    client = client_for(alice)
    assert _add(client, secret=sandbox_key, label="Main account").status_code == 302
    first = ApiKey.objects.get(team=team)
    caplog.set_level(logging.DEBUG)

    # Surrounding spaces are what a paste brings: still the same secret.
    response = _add(client, secret=f"  {sandbox_key} ", label="Again", htmx=htmx)

    assert response.status_code == 200
    page = response.content.decode()
    assert "This key is already in the team as “Main account”." in page
    assert f'<a href="/t/acme/keys/{first.public_id}/">' in page
    assert list(ApiKey.objects.filter(team=team)) == [first]
    assert AuditEntry.objects.filter(team=team, action="key.add").count() == 1
    assert not _leaks(page, sandbox_key)
    for record in caplog.records:
        assert not _leaks(record.getMessage(), sandbox_key)


def test_a_duplicate_is_refused_before_the_provider_is_asked(alice, team, sandbox_key, monkeypatch):
    owner = membership(team, alice)
    services.api_key_create(
        membership=owner, label="Main", profile="sandbox", base_url="", secret=sandbox_key
    )
    asked = []
    monkeypatch.setattr(services, "_check_secret", lambda **kwargs: asked.append(kwargs))
    with pytest.raises(services.DuplicateKey) as refused:
        services.api_key_create(
            membership=owner, label="Again", profile="sandbox", base_url="", secret=sandbox_key
        )
    assert refused.value.existing.label == "Main"
    assert asked == []


def test_the_label_in_the_refusal_is_escaped(alice, team, sandbox_key):
    client = client_for(alice)
    _add(client, secret=sandbox_key, label="<b>Main</b>")
    page = _add(client, secret=sandbox_key, label="Again").content.decode()
    assert "“&lt;b&gt;Main&lt;/b&gt;”" in page and "<b>Main</b>" not in page


def test_rotating_onto_a_secret_the_team_already_has_is_refused(alice, team, sandbox_url):
    first_secret, second_secret = sandbox_account("--balance", "10"), sandbox_account("--balance", "20")
    client = client_for(alice)
    _add(client, secret=first_secret, label="First")
    _add(client, secret=second_secret, label="Second")
    first, second = ApiKey.objects.get(label="First"), ApiKey.objects.get(label="Second")

    response = client.post(f"/t/acme/keys/{second.public_id}/rotate/", {"secret": first_secret})

    assert response.status_code == 200
    page = response.content.decode()
    assert "This key is already in the team as “First”." in page
    assert f'<a href="/t/acme/keys/{first.public_id}/">' in page
    assert not _leaks(page, first_secret) and not _leaks(page, second_secret)
    second.refresh_from_db()
    assert decrypt_secret(second.secret_encrypted) == second_secret
    assert second.secret_digest == secret_digest(second_secret)
    assert not AuditEntry.objects.filter(action="key.rotate").exists()


def test_re_entering_a_keys_own_secret_is_not_a_duplicate(alice, team, sandbox_key):
    owner = membership(team, alice)
    api_key = services.api_key_create(
        membership=owner, label="Main", profile="sandbox", base_url="", secret=sandbox_key
    )
    services.api_key_rotate_secret(membership=owner, api_key=api_key, secret=sandbox_key)
    assert ApiKey.objects.get().secret_digest == secret_digest(sandbox_key)


def test_another_team_may_add_the_same_secret_and_learns_nothing(alice, team, charlie, sandbox_key):
    _add(client_for(alice), secret=sandbox_key, label="Acme's")
    response = _add(client_for(charlie), secret=sandbox_key, label="Mine", team_slug="other")
    assert response.status_code == 302
    theirs = ApiKey.objects.get(team__slug="other")
    assert theirs.label == "Mine" and theirs.secret_digest == secret_digest(sandbox_key)
    assert "Acme" not in client_for(charlie).get(response["Location"]).content.decode()


def test_an_archived_key_does_not_block_the_secret(alice, team, sandbox_key):
    owner = membership(team, alice)
    old = services.api_key_create(
        membership=owner, label="Old", profile="sandbox", base_url="", secret=sandbox_key
    )
    api_key_set_status(membership=owner, api_key=old, status=KeyStatus.ARCHIVED)
    new = services.api_key_create(
        membership=owner, label="New", profile="sandbox", base_url="", secret=sandbox_key
    )
    assert new.secret_digest == old.secret_digest
    # The archived one's secret may be re-entered into another key too, but not the live one's.
    with pytest.raises(services.DuplicateKey) as refused:
        services.api_key_create(
            membership=owner, label="Third", profile="sandbox", base_url="", secret=sandbox_key
        )
    assert refused.value.existing == new


def test_a_disabled_key_still_holds_its_secret(alice, team, sandbox_key):
    owner = membership(team, alice)
    key = services.api_key_create(
        membership=owner, label="Main", profile="sandbox", base_url="", secret=sandbox_key
    )
    api_key_set_status(membership=owner, api_key=key, status=KeyStatus.DISABLED)
    with pytest.raises(services.DuplicateKey):
        services.api_key_create(
            membership=owner, label="Again", profile="sandbox", base_url="", secret=sandbox_key
        )


def test_two_adds_at_once_are_caught_by_the_constraint_and_refused_the_same_way(
    alice, team, sandbox_key, monkeypatch
):
    """Both requests pass the friendly check before either saves: the database refuses the second."""
    owner = membership(team, alice)
    check = services._check_secret

    def check_while_someone_else_saves(**kwargs):
        make_key(team, label="Theirs", secret=sandbox_key, secret_digest=secret_digest(sandbox_key))
        return check(**kwargs)

    monkeypatch.setattr(services, "_check_secret", check_while_someone_else_saves)
    with pytest.raises(services.DuplicateKey) as refused:
        services.api_key_create(
            membership=owner, label="Mine", profile="sandbox", base_url="", secret=sandbox_key
        )
    assert refused.value.existing.label == "Theirs"
    assert list(ApiKey.objects.values_list("label", flat=True)) == ["Theirs"]


# --- the digest and the constraint ---------------------------------------------------------------


def test_the_digest_is_keyed_not_a_plain_hash(settings):
    secret = "sk-plain-hash-test-1234"
    digest = secret_digest(secret)
    assert len(digest) == 64 and secret not in digest
    assert digest != hashlib.sha256(secret.encode()).hexdigest()
    # Keyed with the encryption key: another installation (another key) gets another digest.
    settings.SIMDESK_ENCRYPTION_KEY = Fernet.generate_key().decode()
    assert secret_digest(secret) != digest


def test_the_database_refuses_a_second_live_row_with_the_same_digest(team, other_team):
    digest = secret_digest("sk-same")
    make_key(team, label="One", secret="sk-same", secret_digest=digest)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_key(team, label="Two", secret="sk-same", secret_digest=digest)
    make_key(team, label="Archived", secret="sk-same", secret_digest=digest, status=KeyStatus.ARCHIVED)
    make_key(other_team, label="Theirs", secret="sk-same", secret_digest=digest)
    # Keys stored without a digest (before there was one) never collide.
    make_key(team, label="Old 1", secret="sk-old")
    make_key(team, label="Old 2", secret="sk-old")
    assert ApiKey.objects.count() == 5


def test_the_migration_fills_the_digests_and_leaves_old_duplicates_unmarked(team, other_team):
    migration = importlib.import_module("accounts.migrations.0004_apikey_secret_digest")
    first = make_key(team, label="First", secret="sk-twice")
    again = make_key(team, label="Again", secret="sk-twice")
    archived = make_key(team, label="Archived", secret="sk-twice", status=KeyStatus.ARCHIVED)
    single = make_key(team, label="Single", secret="sk-once")
    theirs = make_key(other_team, label="Theirs", secret="sk-twice")

    migration.fill_digests(apps, None)

    digests = dict(ApiKey.objects.values_list("pk", "secret_digest"))
    assert digests[first.pk] == digests[archived.pk] == digests[theirs.pk] == secret_digest("sk-twice")
    assert digests[single.pk] == secret_digest("sk-once")
    assert digests[again.pk] == ""  # the team must archive one of the two itself


def test_a_duplicate_is_found_while_the_encryption_key_changes_and_the_rotation_remakes_the_digests(
    alice, team, settings
):
    stored = make_key(team, secret="sk-rotating", secret_digest=secret_digest("sk-rotating"))
    old_key = settings.SIMDESK_ENCRYPTION_KEY
    settings.SIMDESK_ENCRYPTION_KEY = Fernet.generate_key().decode()
    settings.SIMDESK_ENCRYPTION_KEYS_OLD = [old_key]
    crypto.reset_cache()
    try:
        # Before the rotation command ran, the stored digest is the old key's: still found.
        assert services._same_secret(team=team, secret="sk-rotating") == stored
        call_command("rotate_encryption_key", stdout=io.StringIO())
        stored.refresh_from_db()
        assert stored.secret_digest == secret_digest("sk-rotating")
        assert stored.secret_digest != secret_digest("sk-rotating", key=old_key)
        settings.SIMDESK_ENCRYPTION_KEYS_OLD = []
        crypto.reset_cache()
        assert decrypt_secret(stored.secret_encrypted) == "sk-rotating"
        assert services._same_secret(team=team, secret="sk-rotating") == stored
    finally:
        crypto.reset_cache()
