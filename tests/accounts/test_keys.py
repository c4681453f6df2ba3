"""API key pages: add (checked upstream against the sandbox over HTTP), settings and grants, rotation,
status, balance refresh, and what each role may do."""

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.utils import timezone

from accounts.crypto import decrypt_secret
from accounts.models import ApiKey, AuditEntry, KeyHealth, KeyStatus, Role
from accounts.permissions import SpendDenied, check_spend_allowed
from tests.accounts.conftest import SECRET, SECRET_HEAD, UNREACHABLE_URL, client_for, make_key, membership
from tests.conftest import sandbox_account


def _add(
    client, *, secret: str, profile: str = "sandbox", base_url: str = "", label: str = "Main", htmx=False
):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(
        "/t/acme/keys/new/",
        {"label": label, "profile": profile, "base_url": base_url, "secret": secret},
        **headers,
    )


def test_the_secret_input_is_a_password_field_without_autocomplete(alice, team):
    content = client_for(alice).get("/t/acme/keys/new/").content.decode()
    field = re.search(r"<input[^>]*name=\"secret\"[^>]*>", content).group(0)
    assert 'type="password"' in field
    assert 'autocomplete="off"' in field
    assert "value=" not in field


def test_it_adds_a_key_checked_with_get_balance(alice, team, sandbox_key):
    response = _add(client_for(alice), secret=sandbox_key)
    assert response.status_code == 302
    key = ApiKey.objects.get(team=team)
    assert response["Location"] == f"/t/acme/keys/{key.public_id}/"
    assert key.secret_encrypted != sandbox_key and sandbox_key not in key.secret_encrypted
    assert decrypt_secret(key.secret_encrypted) == sandbox_key
    assert key.secret_last4 == sandbox_key[-4:]
    assert key.balance == Decimal("1000")
    assert key.health == KeyHealth.OK
    page = client_for(alice).get(response["Location"]).content.decode()
    assert f"••••{sandbox_key[-4:]}" in page
    assert sandbox_key not in page
    assert AuditEntry.objects.filter(team=team, action="key.add", api_key=key, actor=alice).exists()


def test_htmx_add_redirects_the_whole_page(alice, team, sandbox_key):
    response = _add(client_for(alice), secret=sandbox_key, htmx=True)
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/t/acme/keys/")


def test_a_wrong_key_gets_a_clear_message_and_nothing_is_saved(alice, team, sandbox_url):
    wrong = "wrong-" + SECRET
    response = _add(client_for(alice), secret=wrong, htmx=True)
    assert response.status_code == 200
    content = response.content.decode()
    assert "BAD_KEY" in content
    assert 'id="key-form"' in content and "<html" not in content
    assert wrong not in content and SECRET_HEAD not in content
    assert not ApiKey.objects.exists()


def test_an_unreachable_provider_gets_a_clear_message(alice, team):
    response = _add(client_for(alice), secret=SECRET, profile="custom", base_url=UNREACHABLE_URL)
    assert response.status_code == 200
    # One wording for every failure to reach (tests/providers/test_outbound.py).
    assert "No SMS-activation provider answered at this address" in response.content.decode()
    assert SECRET_HEAD not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_an_html_answer_gets_a_clear_message(alice, team, sandbox_key):
    call_command("sandbox_account", "set", sandbox_key, "--fault", "html=1", stdout=io.StringIO())
    response = _add(client_for(alice), secret=sandbox_key)
    assert response.status_code == 200
    assert "No SMS-activation provider answered at this address" in response.content.decode()
    assert sandbox_key not in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_custom_provider_needs_a_base_url(alice, team):
    response = _add(client_for(alice), secret=SECRET, profile="custom")
    assert response.status_code == 200
    assert "needs its base URL" in response.content.decode()
    assert not ApiKey.objects.exists()


def test_a_custom_provider_works_with_any_compatible_base_url(alice, team, sandbox_url, sandbox_key):
    response = _add(client_for(alice), secret=sandbox_key, profile="custom", base_url=sandbox_url)
    assert response.status_code == 302
    key = ApiKey.objects.get()
    assert key.profile == "custom" and key.base_url == sandbox_url


def test_viewers_and_operators_cannot_add_keys(vera, bob, team):
    for user in (vera, bob):
        client = client_for(user)
        assert b"/t/acme/keys/new/" not in client.get("/t/acme/keys/").content
        assert client.get("/t/acme/keys/new/").status_code == 403
        assert _add(client, secret=SECRET, profile="custom", base_url=UNREACHABLE_URL).status_code == 403
    assert not ApiKey.objects.exists()


def test_everyone_in_the_team_sees_keys_masked(vera, team, api_key):
    content = client_for(vera).get("/t/acme/keys/").content.decode()
    assert "Main" in content and "••••QZX9" in content
    assert SECRET_HEAD not in content


def test_settings_rename_and_set_budget_price_and_grants(alice, team, bob, vera, api_key):
    client = client_for(alice)
    page = client.get(f"/t/acme/keys/{api_key.public_id}/edit/").content.decode()
    bob_m = membership(team, bob)
    assert str(bob_m.public_id) in page
    response = client.post(
        f"/t/acme/keys/{api_key.public_id}/edit/",
        {
            "label": "Renamed",
            "daily_budget": "500",
            "max_price": "25.5",
            "restrict_to_members": "on",
            "allowed_members": [str(bob_m.public_id)],
        },
    )
    assert response.status_code == 302
    api_key.refresh_from_db()
    assert api_key.label == "Renamed"
    assert api_key.daily_budget == Decimal("500") and api_key.max_price == Decimal("25.5")
    assert api_key.restrict_to_members
    assert list(api_key.allowed_members.all()) == [bob_m]
    assert AuditEntry.objects.filter(action="key.update", api_key=api_key).exists()


def test_grants_cannot_name_a_member_of_another_team(alice, team, charlie, api_key):
    foreign = charlie.memberships.get()
    response = client_for(alice).post(
        f"/t/acme/keys/{api_key.public_id}/edit/",
        {"label": "Main", "restrict_to_members": "on", "allowed_members": [str(foreign.public_id)]},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not api_key.allowed_members.exists()


def test_grants_are_enforced_when_spending(team, alice, bob, vera, dave, api_key):
    api_key.restrict_to_members = True
    api_key.max_price = Decimal("10")
    api_key.save()
    with pytest.raises(SpendDenied):
        check_spend_allowed(membership=membership(team, bob), api_key=api_key, amount=Decimal("1"))
    with pytest.raises(PermissionDenied):
        check_spend_allowed(membership=membership(team, vera), api_key=api_key, amount=Decimal("1"))
    check_spend_allowed(membership=membership(team, dave), api_key=api_key, amount=Decimal("1"))
    with pytest.raises(SpendDenied):
        check_spend_allowed(membership=membership(team, dave), api_key=api_key, amount=Decimal("11"))


def test_rotation_replaces_the_secret_after_checking_it(alice, team, sandbox_key):
    _add(client_for(alice), secret=sandbox_key)
    key = ApiKey.objects.get()
    new_secret = sandbox_account("--balance", "5")
    response = client_for(alice).post(f"/t/acme/keys/{key.public_id}/rotate/", {"secret": new_secret})
    assert response.status_code == 302
    key.refresh_from_db()
    assert decrypt_secret(key.secret_encrypted) == new_secret
    assert key.secret_last4 == new_secret[-4:]
    assert key.balance == Decimal("5")
    assert AuditEntry.objects.filter(action="key.rotate", api_key=key).exists()


def test_rotation_with_a_wrong_secret_keeps_the_old_one(alice, team, sandbox_key):
    _add(client_for(alice), secret=sandbox_key)
    key = ApiKey.objects.get()
    response = client_for(alice).post(f"/t/acme/keys/{key.public_id}/rotate/", {"secret": SECRET})
    assert response.status_code == 200
    assert "BAD_KEY" in response.content.decode()
    assert SECRET_HEAD not in response.content.decode()
    key.refresh_from_db()
    assert decrypt_secret(key.secret_encrypted) == sandbox_key


def test_disable_enable_and_archive(alice, team, api_key):
    client = client_for(alice)
    url = f"/t/acme/keys/{api_key.public_id}/status/"
    client.post(url, {"status": "disabled"})
    api_key.refresh_from_db()
    assert api_key.status == KeyStatus.DISABLED
    client.post(url, {"status": "active"})
    api_key.refresh_from_db()
    assert api_key.status == KeyStatus.ACTIVE
    client.post(url, {"status": "archived"})
    api_key.refresh_from_db()
    assert api_key.status == KeyStatus.ARCHIVED
    response = client.post(url, {"status": "active"}, follow=True)
    assert "cannot be used again" in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.status == KeyStatus.ARCHIVED
    # Archived keys leave the list but keep their history and page.
    assert "Main" not in client.get("/t/acme/keys/").content.decode().split("<main")[1]
    assert "Main" in client.get("/t/acme/keys/?archived=1").content.decode()
    assert client.get(f"/t/acme/keys/{api_key.public_id}/").status_code == 200
    actions = set(AuditEntry.objects.filter(api_key=api_key).values_list("action", flat=True))
    assert {"key.disabled", "key.active", "key.archived"} <= actions


def _job_of(response) -> str:
    match = re.search(r"/jobs/([0-9a-f]{32})/", response.content.decode() or response.get("Location", ""))
    assert match, "the answer follows no job"
    return match.group(1)


def test_refresh_with_htmx_hands_the_call_to_the_worker_and_polls_for_the_outcome(
    alice, team, sandbox_key, run_jobs
):
    _add(client_for(alice), secret=sandbox_key)
    key = ApiKey.objects.get()
    call_command("sandbox_account", "set", sandbox_key, "--balance", "777", stdout=io.StringIO())
    response = client_for(alice).post(f"/t/acme/keys/{key.public_id}/refresh/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    content = response.content.decode()
    assert f'id="balance-{key.public_id}"' in content
    assert "<html" not in content
    assert 'hx-trigger="every 1s"' in content
    # The worker has read the balance; the poll reloads the page, which tells the outcome once.
    client = client_for(alice)
    job = client.get(f"/t/acme/jobs/{_job_of(response)}/", HTTP_HX_REQUEST="true")
    assert job.status_code == 200
    assert job["HX-Refresh"] == "true"
    page = client.get("/t/acme/keys/").content.decode()
    assert "Balance of “Main” refreshed." in page and "777.00 RUB" in page
    assert "refreshed." not in client.get("/t/acme/keys/").content.decode()


def test_the_job_poll_answers_204_while_the_worker_has_not_finished(alice, vera, charlie, team, api_key):
    response = client_for(alice).post(f"/t/acme/keys/{api_key.public_id}/refresh/", HTTP_HX_REQUEST="true")
    job_url = f"/t/acme/jobs/{_job_of(response)}/"
    assert client_for(alice).get(job_url).status_code == 204
    assert client_for(vera).get(job_url).status_code == 204  # any member of the team may follow it
    assert client_for(charlie).get(job_url).status_code == 404
    assert client_for(alice).get("/t/acme/jobs/" + "0" * 32 + "/").status_code == 404
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.UNKNOWN  # the request itself never called the provider


def test_refresh_without_htmx_returns_to_the_key_which_shows_the_job(alice, vera, team, api_key, run_jobs):
    response = client_for(alice).post(f"/t/acme/keys/{api_key.public_id}/refresh/")
    assert response["Location"].startswith(f"/t/acme/keys/{api_key.public_id}/?job=")
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.UNREACHABLE
    page = client_for(vera).get(response["Location"]).content.decode()
    assert "did not give the balance" in page


def test_refresh_marks_a_revoked_key_invalid(alice, team, sandbox_url, run_jobs):
    key = make_key(team, profile="sandbox", base_url="")
    client_for(alice).post(f"/t/acme/keys/{key.public_id}/refresh/", HTTP_HX_REQUEST="true")
    key.refresh_from_db()
    assert key.health == KeyHealth.INVALID
    page = client_for(alice).get("/t/acme/").content.decode()
    assert "the provider rejects this key" in page


def test_health_shows_a_ban_with_its_end(alice, team, api_key):
    until = timezone.now() + timedelta(hours=3)
    ApiKey.objects.filter(pk=api_key.pk).update(health=KeyHealth.BANNED, banned_until=until)
    content = client_for(alice).get("/t/acme/keys/").content.decode()
    assert f"Banned until {timezone.localtime(until):%Y-%m-%d %H:%M}" in content


def test_the_key_list_shows_balance_and_cashback(alice, team):
    make_key(team, balance=Decimal("12.5"), cashback=Decimal("3"), health=KeyHealth.OK)
    content = client_for(alice).get("/t/acme/keys/").content.decode()
    assert "12.50 RUB" in content
    assert "+3.00 RUB cashback" in content


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_members_without_key_management_see_no_buttons(role, team, bob, vera, api_key):
    user = bob if role == Role.OPERATOR else vera
    content = client_for(user).get(f"/t/acme/keys/{api_key.public_id}/").content.decode()
    assert "/rotate/" not in content and "/edit/" not in content and "/status/" not in content


def test_refreshing_a_balance_records_a_sample_for_the_charts(team, sandbox_url):
    from providers.models import BalanceSample
    from providers.services import api_key_refresh_balance
    from tests.activations.conftest import register_key
    from tests.conftest import sandbox_account

    api_key = register_key(team, sandbox_account("--balance", "321.5"))
    api_key_refresh_balance(api_key=api_key)
    api_key_refresh_balance(api_key=api_key)  # unchanged: no second sample
    sample = BalanceSample.objects.get(api_key=api_key)
    assert sample.balance == Decimal("321.5")


def test_an_operator_sees_only_the_keys_granted_to_him(alice, bob, vera, team, api_key):
    restricted = make_key(team, label="Reserved")
    restricted.restrict_to_members = True
    restricted.save(update_fields=["restrict_to_members"])
    listing = client_for(bob).get("/t/acme/keys/").content.decode()
    assert api_key.label in listing and "Reserved" not in listing
    assert client_for(bob).get(f"/t/acme/keys/{restricted.public_id}/").status_code == 404
    assert client_for(bob).post(f"/t/acme/keys/{restricted.public_id}/refresh/").status_code == 404
    # Viewers and admins see every key of the team.
    assert "Reserved" in client_for(vera).get("/t/acme/keys/").content.decode()
    assert client_for(alice).get(f"/t/acme/keys/{restricted.public_id}/").status_code == 200
