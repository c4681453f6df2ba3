"""Daily spend limits: nobody changes their own, and only an owner changes an admin's or an owner's."""

from decimal import Decimal

import pytest

from accounts import services
from accounts.models import Role
from tests.accounts.conftest import client_for, membership
from tests.conftest import _member


def _set_limit(team, user, limit: str | None) -> None:
    target = membership(team, user)
    target.daily_spend_limit = Decimal(limit) if limit is not None else None
    target.save(update_fields=["daily_spend_limit"])


def _update(team, actor, target, limit: str | None):
    target_membership = membership(team, target)
    return services.member_update(
        membership=membership(team, actor),
        target=target_membership,
        role=target_membership.role,
        daily_spend_limit=Decimal(limit) if limit is not None else None,
    )


def test_it_refuses_an_admin_removing_its_own_limit(team, dave):
    _set_limit(team, dave, "10")
    with pytest.raises(services.ActionRefused):
        _update(team, dave, dave, None)
    assert membership(team, dave).daily_spend_limit == Decimal("10")


def test_it_refuses_an_owner_changing_its_own_limit(team, alice):
    with pytest.raises(services.ActionRefused):
        _update(team, alice, alice, "500")
    assert membership(team, alice).daily_spend_limit is None


def test_it_refuses_an_admin_raising_another_admins_limit(team, dave):
    adam = _member(team, "adam", Role.ADMIN)
    _set_limit(team, adam, "10")
    with pytest.raises(services.ActionRefused):
        _update(team, dave, adam, "1000")
    assert membership(team, adam).daily_spend_limit == Decimal("10")


def test_it_lets_an_admin_change_an_operators_limit(team, dave, bob):
    _update(team, dave, bob, "25")
    assert membership(team, bob).daily_spend_limit == Decimal("25")


def test_it_lets_an_owner_change_an_admins_limit(team, alice, dave):
    _set_limit(team, dave, "10")
    _update(team, alice, dave, None)
    assert membership(team, dave).daily_spend_limit is None


def test_it_lets_a_member_save_their_own_role_form_with_the_limit_unchanged(team, alice, dave):
    _set_limit(team, dave, "10")
    _update(team, dave, dave, "10.0000")
    assert membership(team, dave).daily_spend_limit == Decimal("10")


def test_it_disables_the_field_and_keeps_the_limit_when_an_admin_posts_its_own(team, dave):
    _set_limit(team, dave, "10")
    client = client_for(dave)
    url = f"/t/acme/members/{membership(team, dave).public_id}/"
    page = client.get(url).content.decode()
    assert "disabled" in page and "Nobody can change their own daily spend limit" in page
    client.post(url, {"role": "admin", "daily_spend_limit": ""})
    assert membership(team, dave).daily_spend_limit == Decimal("10")


def test_it_disables_the_field_for_an_admin_editing_another_admin(team, dave):
    adam = _member(team, "adam", Role.ADMIN)
    _set_limit(team, adam, "10")
    client = client_for(dave)
    url = f"/t/acme/members/{membership(team, adam).public_id}/"
    assert "Only an owner can change" in client.get(url).content.decode()
    client.post(url, {"role": "admin", "daily_spend_limit": "9999"})
    assert membership(team, adam).daily_spend_limit == Decimal("10")


def test_it_leaves_the_field_enabled_for_an_owner_editing_an_admin(team, alice, dave):
    client = client_for(alice)
    url = f"/t/acme/members/{membership(team, dave).public_id}/"
    client.post(url, {"role": "admin", "daily_spend_limit": "42"})
    assert membership(team, dave).daily_spend_limit == Decimal("42")
