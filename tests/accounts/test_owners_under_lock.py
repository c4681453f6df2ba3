"""A team always keeps an owner: owner counts and role changes run under a lock on the team's row.

The rule itself is checked on any database; the races use real threads against PostgreSQL (SQLite
has no row locks), each thread with its own connection.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from accounts import services
from accounts.models import Membership, Role, Team
from tests.accounts.conftest import membership
from tests.conftest import _member

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks are PostgreSQL's; CI runs it"
)


def _owners(team: Team) -> int:
    return Membership.objects.filter(team=team, role=Role.OWNER).count()


def test_it_refuses_to_demote_the_last_owner(team, alice):
    me = membership(team, alice)
    with pytest.raises(services.ActionRefused):
        services.member_update(membership=me, target=me, role=Role.ADMIN, daily_spend_limit=None)
    assert _owners(team) == 1


def test_it_refuses_to_let_the_last_owner_leave(team, alice):
    me = membership(team, alice)
    with pytest.raises(services.ActionRefused):
        services.member_remove(membership=me, target=me)
    assert _owners(team) == 1


def test_it_lets_one_of_two_owners_demote_the_other_then_refuses_the_reverse(team, alice):
    olga = _member(team, "olga", Role.OWNER)
    mine, hers = membership(team, alice), membership(team, olga)
    services.member_update(membership=mine, target=hers, role=Role.ADMIN, daily_spend_limit=None)
    # Olga's stale membership still says owner; the service reads who she is now.
    with pytest.raises(services.ActionRefused):
        services.member_update(membership=hers, target=mine, role=Role.ADMIN, daily_spend_limit=None)
    assert _owners(team) == 1


def test_it_refuses_a_member_who_was_removed_meanwhile(team, alice, dave, bob):
    admin = membership(team, dave)
    services.member_remove(membership=membership(team, alice), target=admin)
    with pytest.raises(services.ActionRefused):
        services.member_remove(membership=admin, target=membership(team, bob))
    assert Membership.objects.filter(team=team, user=bob).exists()


def _at_once(jobs: list) -> list:
    """Run the jobs in threads released together; each returns its result or the exception it raised."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        try:
            barrier.wait()
            return job()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(4))
def test_two_owners_demoting_each_other_at_once_leave_one_owner(trial):
    from tests.conftest import _user

    team = Team.objects.create(name="Race", slug=f"race-{trial}")
    first, second = (
        Membership.objects.create(team=team, user=_user(f"o{trial}{n}"), role=Role.OWNER) for n in (1, 2)
    )

    def demote(actor: Membership, target: Membership):
        return lambda: services.member_update(
            membership=Membership.objects.get(pk=actor.pk),
            target=Membership.objects.get(pk=target.pk),
            role=Role.ADMIN,
            daily_spend_limit=None,
        )

    results = _at_once([demote(first, second), demote(second, first)])
    refused = [r for r in results if isinstance(r, services.ActionRefused)]
    assert len(refused) == 1, results
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, services.ActionRefused)]
    assert _owners(team) == 1


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trial", range(4))
def test_two_owners_leaving_at_once_leave_one_owner_and_refuse_the_other_clearly(trial):
    from tests.conftest import _user

    team = Team.objects.create(name="Race", slug=f"race-{trial}")
    first, second = (
        Membership.objects.create(team=team, user=_user(f"o{trial}{n}"), role=Role.OWNER) for n in (1, 2)
    )

    def leave(member: Membership):
        return lambda: services.member_remove(
            membership=Membership.objects.get(pk=member.pk), target=Membership.objects.get(pk=member.pk)
        )

    results = _at_once([leave(first), leave(second)])
    refused = [r for r in results if isinstance(r, services.ActionRefused)]
    assert len(refused) == 1, results
    assert "last owner" in refused[0].message
    assert results.count(None) == 1
    assert _owners(team) == 1
    assert Membership.objects.filter(team=team).count() == 1
