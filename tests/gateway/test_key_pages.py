"""The gateway key pages: owners and admins issue (the key shown once, never cached) and revoke; any member
lists the keys of the upstream keys they see, with last use in their own time zone."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from accounts.models import AuditEntry, KeyStatus
from gateway.models import GatewayKey
from gateway.services import authenticate, gateway_key_create
from tests.accounts.conftest import client_for, make_key, membership

KEY_IN_PAGE = re.compile(rb'data-copy-text="([0-9a-f]{32})"')


@pytest.fixture
def upstream(team):
    return make_key(team, label="Main")


def create_url(team):
    return reverse("gateway:key_create", args=[team.slug])


def form_data(upstream, member, **extra):
    return {"label": "Scraper", "api_key": str(upstream.public_id), "member": str(member.public_id), **extra}


def test_the_key_is_shown_once_on_a_page_no_one_keeps(team, alice, upstream, settings):
    settings.SITE_URL = "https://desk.example.com/"
    client = client_for(alice)
    owner = membership(team, alice)

    response = client.post(
        create_url(team), form_data(upstream, owner, services="TG, wa", countries="0, 6", max_price="12.5")
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    plain = KEY_IN_PAGE.search(response.content).group(1).decode()
    assert b"https://desk.example.com/stubs/handler_api.php" in response.content
    gateway_key = GatewayKey.objects.get(team=team)
    assert authenticate(plain) == gateway_key
    assert gateway_key.services == ["tg", "wa"] and gateway_key.countries == [0, 6]
    assert str(gateway_key.max_price) == "12.5000" and gateway_key.member == owner
    # Nowhere else: not on the list, not in the audit log.
    listing = client.get(reverse("gateway:key_list", args=[team.slug]))
    assert gateway_key.prefix.encode() in listing.content and plain.encode() not in listing.content
    assert plain.encode() not in client.get(reverse("accounts:audit_log", args=[team.slug])).content
    assert AuditEntry.objects.filter(team=team, action="gateway_key.create", actor=alice).count() == 1


def test_a_refused_binding_is_a_form_error(team, alice, vera, upstream):
    response = client_for(alice).post(create_url(team), form_data(upstream, membership(team, vera)))
    assert response.status_code == 200
    assert b"read-only" in response.content
    assert not KEY_IN_PAGE.search(response.content)
    assert not GatewayKey.objects.exists()


def test_the_form_offers_only_the_teams_keys_in_use(team, alice, charlie, upstream):
    archived = make_key(team, label="Gone", secret="sk-archived-0000", status=KeyStatus.ARCHIVED)
    foreign = make_key(team.__class__.objects.get(slug="other"), label="Foreign", secret="sk-foreign-0000")
    client = client_for(alice)
    page = client.get(create_url(team))
    assert str(upstream.public_id).encode() in page.content
    assert str(archived.public_id).encode() not in page.content
    response = client.post(
        create_url(team), form_data(upstream, membership(team, alice)) | {"api_key": str(foreign.public_id)}
    )
    assert response.status_code == 200 and not GatewayKey.objects.exists()


@pytest.mark.parametrize("who", ["bob", "vera"])
def test_operators_and_viewers_may_not_issue_or_revoke(team, alice, bob, vera, upstream, who):
    user = {"bob": bob, "vera": vera}[who]
    gateway_key, _ = gateway_key_create(membership=membership(team, alice), label="Bot", api_key=upstream)
    client = client_for(user)
    member = membership(team, user)
    assert client.get(create_url(team)).status_code == 403
    assert client.post(create_url(team), form_data(upstream, member, read_only="on")).status_code == 403
    revoke = reverse("gateway:key_revoke", args=[team.slug, gateway_key.public_id])
    assert client.post(revoke).status_code == 403
    assert GatewayKey.objects.count() == 1 and GatewayKey.objects.get().revoked_at is None
    # They see the list, without the buttons.
    listing = client.get(reverse("gateway:key_list", args=[team.slug]))
    assert listing.status_code == 200 and b"Bot" in listing.content and revoke.encode() not in listing.content


def test_outsiders_get_404(team, alice, charlie, upstream):
    gateway_key, _ = gateway_key_create(membership=membership(team, alice), label="Bot", api_key=upstream)
    client = client_for(charlie)
    assert client.get(reverse("gateway:key_list", args=[team.slug])).status_code == 404
    assert client.post(create_url(team), {}).status_code == 404
    revoke = reverse("gateway:key_revoke", args=[team.slug, gateway_key.public_id])
    assert client.post(revoke).status_code == 404
    # Nor can charlie revoke it through his own team's URL.
    assert (
        client.post(reverse("gateway:key_revoke", args=["other", gateway_key.public_id])).status_code == 404
    )
    assert GatewayKey.objects.get().revoked_at is None


def test_an_admin_revokes_and_the_key_stops_working(team, alice, dave, upstream, client):
    gateway_key, plain = gateway_key_create(membership=membership(team, alice), label="Bot", api_key=upstream)
    admin = client_for(dave)
    listing = admin.get(reverse("gateway:key_list", args=[team.slug]))
    assert b"data-confirm" in listing.content

    response = admin.post(reverse("gateway:key_revoke", args=[team.slug, gateway_key.public_id]), follow=True)

    assert response.status_code == 200
    assert GatewayKey.objects.get().revoked_at is not None
    assert (
        client.get("/stubs/handler_api.php", {"api_key": plain, "action": "getBalance"}).content == b"BAD_KEY"
    )
    assert AuditEntry.objects.filter(team=team, action="gateway_key.revoke", actor=dave).count() == 1


def test_the_list_shows_last_use_in_the_readers_zone(team, alice, bob, upstream):
    gateway_key, _ = gateway_key_create(membership=membership(team, alice), label="Bot", api_key=upstream)
    GatewayKey.objects.filter(pk=gateway_key.pk).update(last_used_at=datetime(2026, 3, 1, 22, 5, tzinfo=UTC))
    alice.time_zone = "Asia/Tokyo"
    alice.save()
    page = client_for(alice).get(reverse("gateway:key_list", args=[team.slug])).content.decode()
    assert "2026-03-02 07:05" in page


def test_an_operator_sees_only_the_gateway_keys_of_keys_granted_to_him(team, alice, bob, upstream):
    owner = membership(team, alice)
    restricted = make_key(team, label="Restricted", secret="sk-restricted-0000", restrict_to_members=True)
    gateway_key_create(membership=owner, label="Open bot", api_key=upstream)
    gateway_key_create(membership=owner, label="Secret bot", api_key=restricted)
    page = client_for(bob).get(reverse("gateway:key_list", args=[team.slug])).content
    assert b"Open bot" in page and b"Secret bot" not in page
