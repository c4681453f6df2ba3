"""The audit log: owners and admins only, filterable, paginated, never another team's entries."""

import csv
import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from html import unescape

from django.utils import timezone

from accounts.models import AuditEntry
from accounts.services import audit_record
from accounts.views import AUDIT_PAGE_SIZE
from tests.accounts.conftest import SECRET, SECRET_HEAD, client_for, make_key


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


def _older(response) -> str | None:
    """The query string of the "Older" link, or None on the last page."""
    link = re.search(r'id="audit-older" href="\?([^"]+)"', response.content.decode())
    return unescape(link.group(1)) if link else None


def test_it_paginates_and_htmx_gets_only_the_results(alice, team):
    for n in range(AUDIT_PAGE_SIZE + 5):
        audit_record(team=team, actor=alice, action="team.note", summary=f"entry {n}")
    client = client_for(alice)
    first = client.get("/t/acme/audit/", {"action": "team.note"})
    assert _rows(first) == AUDIT_PAGE_SIZE
    older = _older(first)
    assert older is not None and "action=team.note" in older and "after=" in older
    second = client.get(f"/t/acme/audit/?{older}", HTTP_HX_REQUEST="true")
    assert _rows(second) == 5
    assert 'id="audit-results"' in second.content.decode()
    assert "<html" not in second.content.decode()
    assert _older(second) is None


def test_operators_and_viewers_cannot_read_it(bob, vera, team):
    assert client_for(bob).get("/t/acme/audit/").status_code == 403
    assert client_for(vera).get("/t/acme/audit/").status_code == 403
    assert b"/t/acme/audit/" not in client_for(bob).get("/t/acme/").content


# --- keyset paging ----------------------------------------------------------------------------------


def _entries(team, actor, n: int, *, tie_every: int = 3, start=None, **fields) -> list[AuditEntry]:
    """n entries; every `tie_every` share one created_at, so the keyset must break ties by id."""
    start = start or timezone.now() - timedelta(days=1)
    rows = [
        AuditEntry(
            team=team,
            actor=actor,
            action=fields.get("action", "team.note"),
            api_key=fields.get("api_key"),
            summary=f"entry {i}",
            created_at=start + timedelta(minutes=i // tie_every),
        )
        for i in range(n)
    ]
    return AuditEntry.objects.bulk_create(rows)


def _walk(client, params: dict | None = None) -> list[str]:
    """Follow the "Older" links (as htmx does) to the end; the summaries in page order."""
    seen: list[str] = []
    response = client.get("/t/acme/audit/", params or {})
    for _ in range(100):
        seen += re.findall(r"<td>(entry \d+)</td>", response.content.decode())
        older = _older(response)
        if older is None:
            return seen
        response = client.get(f"/t/acme/audit/?{older}", HTTP_HX_REQUEST="true")
    raise AssertionError("too many pages")


def test_keyset_pages_cover_every_entry_once_in_order_across_equal_timestamps(alice, team):
    _entries(team, alice, 2 * AUDIT_PAGE_SIZE + 23, tie_every=7)
    seen = _walk(client_for(alice))
    expected = list(
        AuditEntry.objects.filter(team=team).order_by("-created_at", "-id").values_list("summary", flat=True)
    )
    assert seen == expected
    assert len(seen) == len(set(seen)) == 2 * AUDIT_PAGE_SIZE + 23


def test_keyset_pages_keep_the_filters(alice, team, api_key):
    _entries(team, alice, 60, tie_every=5)
    _entries(team, alice, 70, tie_every=5, api_key=api_key, action="key.update")
    seen = _walk(client_for(alice), {"key": str(api_key.public_id), "action": "key.update"})
    assert len(seen) == len(set(seen)) == 70
    assert set(seen) == set(AuditEntry.objects.filter(api_key=api_key).values_list("summary", flat=True))


def test_a_page_is_one_query_on_the_index_without_offset(alice, team, django_assert_max_num_queries):
    from accounts import selectors
    from kit.cursor import Cursor

    _entries(team, alice, 120)
    first = selectors.audit_page(team, None, after=None, size=AUDIT_PAGE_SIZE)
    with django_assert_max_num_queries(3) as ctx:  # the page, then its actors and keys by id
        second = selectors.audit_page(team, None, after=first.next_cursor, size=AUDIT_PAGE_SIZE)
    assert "OFFSET" not in ctx.captured_queries[0]["sql"].upper()
    assert not {e.pk for e in first.rows} & {e.pk for e in second.rows}
    assert Cursor.parse(str(first.next_cursor)) == first.next_cursor
    assert any(list(index.fields) == ["team", "-created_at", "-id"] for index in AuditEntry._meta.indexes), (
        "the log's order needs its index"
    )


def test_a_tampered_cursor_is_the_first_page(alice, team):
    _entries(team, alice, 5)
    response = client_for(alice).get("/t/acme/audit/", {"after": "not-a-cursor"})
    assert response.status_code == 200 and _rows(response) == 5


# --- filters that cannot be read --------------------------------------------------------------------


def test_an_unreadable_filter_says_so_and_filters_nothing_while_the_others_apply(alice, team, api_key):
    audit_record(team=team, actor=alice, action="activation.buy", summary="one", api_key=api_key)
    audit_record(team=team, actor=alice, action="key.update", summary="two", api_key=api_key)
    client = client_for(alice)
    response = client.get("/t/acme/audit/", {"action": "key.update", "date_from": "2026-13-45"})
    assert response.status_code == 200 and _rows(response) == 1
    assert "Enter a valid date." in response.content.decode()
    response = client.get("/t/acme/audit/", {"member": "garbage", "key": str(uuid.uuid4())})
    assert response.status_code == 200 and _rows(response) == 2
    assert response.content.decode().count("Select a valid choice.") == 2


def test_another_teams_key_or_member_is_never_a_choice(alice, team, charlie, other_key):
    response = client_for(alice).get(
        "/t/acme/audit/", {"key": str(other_key.public_id), "member": str(charlie.public_id)}
    )
    content = response.content.decode()
    assert response.status_code == 200 and "Select a valid choice." in content
    assert other_key.label not in content.replace(f'value="{other_key.public_id}"', "")
    assert ">charlie<" not in content


# --- the CSV export ---------------------------------------------------------------------------------


PLAIN = {"format": "plain"}  # kit.csv's flavour for scripts: stable English names, RFC 4180, UTC ISO 8601


def _csv(response) -> list[dict]:
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


HYPERLINK = '=HYPERLINK("http://x","y")'


def test_the_csv_is_exactly_what_the_filters_show(alice, team, bob, api_key):
    second = make_key(team, label="Second")
    audit_record(
        team=team, actor=bob, action="activation.buy", summary="one", api_key=api_key, amount=Decimal("12.5")
    )
    audit_record(team=team, actor=alice, action="activation.buy", summary="two", api_key=second)
    audit_record(team=team, actor=None, action="key.update", summary="three")
    client = client_for(alice)
    rows = _csv(client.get("/t/acme/audit.csv", PLAIN))
    assert [r["summary"] for r in rows] == ["three", "two", "one"]
    assert list(rows[0]) == ["created_at", "member", "action", "summary", "key", "amount", "currency"]
    assert rows[2] | {"created_at": ""} == {
        "created_at": "",
        "member": "bob",
        "action": "activation.buy",
        "summary": "one",
        "key": "Main",
        "amount": "12.5000",
        "currency": "RUB",
    }
    assert rows[2]["created_at"].endswith("+00:00") and rows[0]["member"] == rows[0]["key"] == ""
    query = {"action": "activation.buy", "key": str(api_key.public_id)}
    assert [r["summary"] for r in _csv(client.get("/t/acme/audit.csv", {**query, **PLAIN}))] == ["one"]
    # The page links both flavours of the export with its own filters.
    page = client.get("/t/acme/audit/", query).content.decode()
    link = re.search(r'id="export-audit-plain" href="([^"]+)"', page).group(1)
    assert [r["summary"] for r in _csv(client.get(unescape(link)))] == ["one"]
    link = re.search(r'id="export-audit" href="([^"]+)"', page).group(1)
    assert len(_csv(client.get(unescape(link)))) == 1 and "format=plain" not in link
    # An unreadable filter filters nothing here either.
    assert len(_csv(client.get("/t/acme/audit.csv", {"date_to": "yesterday"}))) == 3


def test_the_csv_neutralises_formulas_and_never_holds_a_secret(alice, team, api_key):
    from accounts.models import ApiKey, User

    ApiKey.objects.filter(pk=api_key.pk).update(label=HYPERLINK)
    User.objects.filter(pk=alice.pk).update(username="@" + HYPERLINK)
    audit_record(team=team, actor=alice, action="key.update", summary=HYPERLINK, api_key=api_key)
    body = b"".join(client_for(alice).get("/t/acme/audit.csv", PLAIN).streaming_content).decode()
    [row] = csv.DictReader(io.StringIO(body))
    assert row["summary"] == row["key"] == "'" + HYPERLINK
    assert row["member"] == "'@" + HYPERLINK
    assert SECRET not in body and SECRET_HEAD not in body
    assert body.endswith("\r\n")


def test_the_csv_is_for_owners_and_admins_only(alice, dave, bob, vera, charlie, team):
    audit_record(team=team, actor=alice, action="team.note", summary="private")
    assert len(_csv(client_for(dave).get("/t/acme/audit.csv"))) == 1
    assert client_for(bob).get("/t/acme/audit.csv").status_code == 403
    assert client_for(vera).get("/t/acme/audit.csv").status_code == 403
    assert client_for(charlie).get("/t/acme/audit.csv").status_code == 404
    assert client_for(None).get("/t/acme/audit.csv").status_code == 302
    assert _csv(client_for(charlie).get("/t/other/audit.csv")) == []
