"""Gateway keys: issued by owners and admins, shown once, stored as a digest and a prefix, revocable."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.crypto import secret_digest
from accounts.models import AuditEntry, KeyStatus, Role, Team
from accounts.services import ActionRefused
from gateway.models import GatewayKey
from gateway.services import authenticate, gateway_key_create, gateway_key_revoke
from tests.accounts.conftest import client_for, make_key, membership

HANDLER = "/stubs/handler_api.php"


@pytest.fixture
def owner(team, alice):
    return membership(team, alice)


@pytest.fixture
def upstream(team):
    """The team's API key the gateway keys act through (never called: its URL is closed)."""
    return make_key(team)


def issue(owner, upstream, **fields):
    fields = {"label": "Bot", "api_key": upstream, **fields}
    return gateway_key_create(membership=owner, **fields)


def test_it_shows_the_key_once_and_stores_only_its_digest_and_prefix(owner, upstream):
    gateway_key, plain = issue(owner, upstream, label="Scraper")

    assert len(plain) == 32 and int(plain, 16) >= 0  # shaped like a provider's key
    row = GatewayKey.objects.get(pk=gateway_key.pk)
    assert row.prefix == plain[:8]
    assert row.digest == secret_digest(plain)
    stored = json.dumps(model_to_dict(row), default=str) + json.dumps(
        list(GatewayKey.objects.filter(pk=row.pk).values()), default=str
    )
    assert plain not in stored
    entry = AuditEntry.objects.get(team=owner.team, action="gateway_key.create")
    assert entry.actor == owner.user and entry.api_key == upstream
    said = f"{entry.summary} {json.dumps(entry.details)} {entry.summary_phrase}"
    assert "Scraper" in str(said)
    assert plain not in str(said)
    assert authenticate(plain) == row


def test_two_keys_are_different(owner, upstream):
    _first, one = issue(owner, upstream)
    _second, two = issue(owner, upstream)
    assert one != two


def test_it_normalises_services_and_countries(owner, upstream):
    gateway_key, _ = issue(owner, upstream, services=["TG", " wa", "tg"], countries=["0", 6, "6"])
    gateway_key.refresh_from_db()
    assert gateway_key.services == ["tg", "wa"]
    assert gateway_key.countries == [0, 6]


@pytest.mark.parametrize(
    "fields",
    [{"services": ["not a code"]}, {"countries": ["russia"]}, {"countries": ["-1"]}, {"label": "  "}],
    ids=["service", "country", "negative-country", "label"],
)
def test_it_refuses_what_is_not_a_code(owner, upstream, fields):
    with pytest.raises(ActionRefused):
        issue(owner, upstream, **fields)
    assert not GatewayKey.objects.exists()


def test_it_refuses_a_negative_amount(owner, upstream):
    with pytest.raises(ActionRefused):
        issue(owner, upstream, max_price=Decimal("-1"))


def test_it_acts_as_the_issuer_when_no_member_is_given(owner, upstream):
    gateway_key, _ = issue(owner, upstream)
    assert gateway_key.member == owner and gateway_key.created_by == owner.user


def test_a_viewer_only_gets_a_read_only_key(owner, upstream, team, vera):
    viewer = membership(team, vera)
    with pytest.raises(ActionRefused):
        issue(owner, upstream, member=viewer)
    gateway_key, _ = issue(owner, upstream, member=viewer, read_only=True)
    assert gateway_key.read_only and gateway_key.member == viewer


def test_an_operator_needs_a_grant_on_the_key(owner, team, bob):
    operator = membership(team, bob)
    restricted = make_key(team, label="Restricted", restrict_to_members=True)
    with pytest.raises(ActionRefused):
        issue(owner, restricted, member=operator)
    with pytest.raises(ActionRefused):
        issue(owner, restricted, member=operator, read_only=True)  # he does not even see it
    restricted.allowed_members.add(operator)
    gateway_key, _ = issue(owner, restricted, member=operator)
    assert gateway_key.member == operator


def test_an_archived_or_foreign_key_or_member_is_refused(owner, team, charlie):
    other_team = Team.objects.get(slug="other")
    other_key = make_key(other_team, label="Foreign", secret="sk-other-team-secret-0000")
    archived = make_key(team, label="Old", status=KeyStatus.ARCHIVED)
    with pytest.raises(ActionRefused):
        issue(owner, archived)
    with pytest.raises(ActionRefused):
        issue(owner, other_key)
    own_key = make_key(team, label="Own", secret="sk-own-second-0001")
    with pytest.raises(ActionRefused):
        issue(owner, own_key, member=membership(other_team, charlie))
    assert not GatewayKey.objects.filter(team=team).exists()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.VIEWER])
def test_only_owners_and_admins_issue_and_revoke(owner, upstream, team, bob, vera, role):
    member = membership(team, bob if role == Role.OPERATOR else vera)
    with pytest.raises(PermissionDenied):
        issue(member, upstream, member=member, read_only=True)
    gateway_key, _ = issue(owner, upstream)
    with pytest.raises(PermissionDenied):
        gateway_key_revoke(membership=member, gateway_key=gateway_key)
    assert GatewayKey.objects.get(pk=gateway_key.pk).revoked_at is None


def test_an_admin_issues_too(upstream, team, dave):
    gateway_key, plain = issue(membership(team, dave), upstream)
    assert authenticate(plain) == gateway_key


def test_a_revoked_key_answers_bad_key(owner, upstream, client):
    gateway_key, plain = issue(owner, upstream)
    # Before: the key is known, so an unknown action is the complaint.
    assert client.get(HANDLER, {"api_key": plain, "action": "noSuchAction"}).content != b"BAD_KEY"

    gateway_key_revoke(membership=owner, gateway_key=gateway_key)

    assert GatewayKey.objects.get(pk=gateway_key.pk).revoked_at is not None
    assert authenticate(plain) is None
    for action in ("getBalance", "noSuchAction"):
        response = client.get(HANDLER, {"api_key": plain, "action": action})
        assert response.content == b"BAD_KEY", action
        response = client.post(HANDLER, {"api_key": plain, "action": action})
        assert response.content == b"BAD_KEY", action
    entry = AuditEntry.objects.get(team=owner.team, action="gateway_key.revoke")
    assert entry.actor == owner.user and plain not in json.dumps(entry.details) + entry.summary


def test_revoking_twice_is_refused_and_audited_once(owner, upstream):
    gateway_key, _ = issue(owner, upstream)
    gateway_key_revoke(membership=owner, gateway_key=gateway_key)
    with pytest.raises(ActionRefused):
        gateway_key_revoke(membership=owner, gateway_key=GatewayKey.objects.get(pk=gateway_key.pk))
    assert AuditEntry.objects.filter(action="gateway_key.revoke").count() == 1


def test_last_use_is_written_at_most_once_a_minute(owner, upstream):
    gateway_key, plain = issue(owner, upstream)
    assert gateway_key.last_used_at is None

    authenticate(plain)
    first = GatewayKey.objects.get(pk=gateway_key.pk).last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=5)
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            assert authenticate(plain) is not None
    assert not [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("UPDATE")]
    assert GatewayKey.objects.get(pk=gateway_key.pk).last_used_at == first

    GatewayKey.objects.filter(pk=gateway_key.pk).update(last_used_at=first - timedelta(seconds=61))
    authenticate(plain)
    assert GatewayKey.objects.get(pk=gateway_key.pk).last_used_at > first - timedelta(seconds=1)


def test_an_unknown_key_answers_bad_key(client, db):
    assert client.get(HANDLER, {"api_key": "0" * 32, "action": "getBalance"}).content == b"BAD_KEY"
    assert client_for(None).get(HANDLER, {"action": "getBalance"}).content == b"BAD_KEY"


def test_a_member_who_leaves_the_team_leaves_their_gateway_key_listed_but_stopped(owner, upstream, team, bob):
    from accounts.services import member_remove

    operator = membership(team, bob)
    gateway_key, plain = issue(owner, upstream, member=operator)
    assert authenticate(plain) == gateway_key

    member_remove(membership=owner, target=operator)

    gateway_key.refresh_from_db()
    assert gateway_key.member is None and not gateway_key.is_active
    assert authenticate(plain) is None
    page = client_for(owner.user).get(f"/t/{team.slug}/gateway/").content.decode()
    assert "Bot" in page and "left the team" in page
