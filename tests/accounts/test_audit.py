"""The audit log: owners and admins only, filterable, paginated, never another team's entries."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import AuditEntry
from accounts.services import audit_record
from accounts.views import AUDIT_PAGE_SIZE
from tests.accounts.conftest import client_for, make_key


def _rows(response) -> int:
    return response.content.decode().count('<code class="action">')


def test_it_lists_changes_and_money_moves(alice, team, bob, api_key):
    audit_record(
        team=team,
        actor=bob,
        action="activation.buy",
        summary="Bought a number",
        api_key=api_key,
        amount=Decimal("12.5"),
    )
    content = client_for(alice).get("/t/acme/audit/").content.decode()
    assert "activation.buy" in content
    assert "Bought a number" in content
    assert "bob" in content
    assert "12.50 RUB" in content
    assert "Main" in content and "••••QZX9" in content


def test_it_never_shows_another_teams_entries(alice, team, charlie):
    from accounts.models import Team

    audit_record(
        team=Team.objects.get(slug="other"), actor=charlie, action="secret.thing", summary="Other team"
    )
    assert "secret.thing" not in client_for(alice).get("/t/acme/audit/").content.decode()


def test_it_filters_by_action_member_key_and_dates(alice, team, bob, api_key):
    second = make_key(team, label="Second")
    audit_record(
        team=team, actor=bob, action="activation.buy", summary="one", api_key=api_key, amount=Decimal("1")
    )
    audit_record(
        team=team, actor=alice, action="activation.buy", summary="two", api_key=second, amount=Decimal("2")
    )
    old = audit_record(team=team, actor=alice, action="key.update", summary="three", api_key=api_key)
    AuditEntry.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    client = client_for(alice)

    assert _rows(client.get("/t/acme/audit/", {"action": "activation.buy"})) == 2
    assert _rows(client.get("/t/acme/audit/", {"member": str(bob.public_id)})) == 1
    assert _rows(client.get("/t/acme/audit/", {"key": str(second.public_id)})) == 1
    since = (timezone.now() - timedelta(days=2)).date().isoformat()
    assert _rows(client.get("/t/acme/audit/", {"date_from": since})) == 2
    until = (timezone.now() - timedelta(days=5)).date().isoformat()
    assert _rows(client.get("/t/acme/audit/", {"date_to": until})) == 1


def test_filters_only_accept_this_teams_members_and_keys(alice, team, charlie):
    from tests.accounts.conftest import make_key as mk

    foreign_key = mk(charlie.memberships.get().team, label="Foreign", secret="sk-foreign-0001")
    response = client_for(alice).get("/t/acme/audit/", {"key": str(foreign_key.public_id)})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content or b"Foreign" not in response.content


def test_it_paginates_and_htmx_gets_only_the_results(alice, team):
    for n in range(AUDIT_PAGE_SIZE + 5):
        audit_record(team=team, actor=alice, action="team.note", summary=f"entry {n}")
    client = client_for(alice)
    first = client.get("/t/acme/audit/", {"action": "team.note"})
    assert _rows(first) == AUDIT_PAGE_SIZE
    assert "page=2" in first.content.decode()
    second = client.get("/t/acme/audit/", {"action": "team.note", "page": 2}, HTTP_HX_REQUEST="true")
    assert _rows(second) == 5
    assert 'id="audit-results"' in second.content.decode()
    assert "<html" not in second.content.decode()


def test_operators_and_viewers_cannot_read_it(bob, vera, team):
    assert client_for(bob).get("/t/acme/audit/").status_code == 403
    assert client_for(vera).get("/t/acme/audit/").status_code == 403
    assert b"/t/acme/audit/" not in client_for(bob).get("/t/acme/").content
