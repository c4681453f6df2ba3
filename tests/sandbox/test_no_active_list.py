"""An account without the live list, like SMSBower: getActiveActivations and getNumbersStatus answer BAD_ACTION."""

import io
import json

import pytest
from django.core.management import call_command

from sandbox.models import Account

from .conftest import HERO_URL


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("sandbox_account", *args, stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize("action", ["getActiveActivations", "getNumbersStatus"])
def test_it_answers_bad_action_like_smsbower(make_account, api, action):
    account = make_account(no_active_list=True)
    response = api(account, action, country=0)
    assert response.status_code == 200 and response.content == b"BAD_ACTION"


def test_the_hero_dialect_answers_its_404_envelope(make_account, api):
    account = make_account(dialect="hero", no_active_list=True)
    response = api(account, "getActiveActivations", endpoint=HERO_URL)
    assert response.status_code == 404
    assert json.loads(response.content)["title"] == "BAD_ACTION"


def test_every_other_action_still_answers(make_account, api):
    account = make_account(no_active_list=True)
    bought = api(account, "getNumber", service="tg", country=0).content.decode()
    assert bought.startswith("ACCESS_NUMBER:")
    activation_id = bought.split(":")[1]
    assert api(account, "getStatus", id=activation_id).content == b"STATUS_WAIT_CODE"
    assert api(account, "getBalance").content.startswith(b"ACCESS_BALANCE:")


def test_the_command_turns_the_list_off_and_on(db, api):
    key = _command("create", "--balance", "10", "--no-active-list")
    assert Account.objects.get(key=key).no_active_list
    assert api(key, "getActiveActivations").content == b"BAD_ACTION"
    _command("set", key, "--active-list")
    assert not Account.objects.get(key=key).no_active_list
    assert api(key, "getActiveActivations").content == b"NO_ACTIVATIONS"
    _command("set", key, "--no-active-list")
    assert Account.objects.get(key=key).no_active_list
    # `set` without the option leaves it as it is.
    _command("set", key, "--balance", "20")
    assert Account.objects.get(key=key).no_active_list
    assert not Account.objects.get(key=_command("create")).no_active_list
