"""An account out of a service (`sold_out`), as one provider runs out while another still sells: its price
lists show no stock for it and its purchases answer NO_NUMBERS; other accounts and services are untouched."""

import io
import json

from django.core.management import call_command

from sandbox.models import Account

from .conftest import HERO_URL


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("sandbox_account", *args, stdout=out)
    return out.getvalue().strip()


def _tg_count(api, account) -> int:
    return json.loads(api(account, "getPrices", service="tg", country=0).content)["0"]["tg"]["count"]


def test_a_sold_out_service_has_no_stock_and_is_not_sold(make_account, api):
    out = make_account(sold_out="tg")
    other = make_account()
    assert _tg_count(api, out) == 0
    assert _tg_count(api, other) > 0
    assert api(out, "getNumber", service="tg", country=0).content == b"NO_NUMBERS"
    assert api(out, "getNumberV2", service="tg", country=0).content == b"NO_NUMBERS"
    # Nothing was charged for the refusals.
    assert Account.objects.get(pk=out.pk).balance == out.balance
    assert api(out, "getNumber", service="wa", country=0).content.startswith(b"ACCESS_NUMBER:")
    assert api(other, "getNumber", service="tg", country=0).content.startswith(b"ACCESS_NUMBER:")


def test_everything_sold_out_in_the_hero_dialect(make_account, api):
    account = make_account(dialect="hero", sold_out="*")
    response = api(account, "getNumber", service="wa", country=0, endpoint=HERO_URL)
    assert response.status_code == 404
    assert json.loads(response.content)["title"] == "NO_NUMBERS"


def test_the_command_sets_and_clears_it(db, api):
    key = _command("create", "--balance", "1000", "--sold-out", "tg,wa")
    assert Account.objects.get(key=key).sold_out == "tg,wa"
    assert api(key, "getNumber", service="wa", country=0).content == b"NO_NUMBERS"
    _command("set", key, "--sold-out", "")
    assert api(key, "getNumber", service="wa", country=0).content.startswith(b"ACCESS_NUMBER:")
