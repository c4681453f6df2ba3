"""Fault injection: every fault answers before any state change, except the after-commit one."""

import json
import re
import time
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from sandbox.answers import MOSCOW
from sandbox.models import Activation, Rental


def test_it_answers_an_html_page_with_200(api, make_account):
    account = make_account(html_rate=1.0)
    response = api(account, "getNumber", service="tg", country=0)
    assert (response.status_code, response["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert response.content.startswith(b"<html>") and not Activation.objects.exists()


def test_it_answers_gateway_errors(api, make_account):
    account = make_account(http5xx_rate=1.0)
    statuses = {api(account, "getNumber", service="tg", country=0).status_code for _ in range(12)}
    assert statuses <= {502, 503} and statuses
    response = api(account, "getBalance")
    assert b"<center>nginx</center>" in response.content and response["Content-Type"].startswith("text/html")
    assert not Activation.objects.exists()


def test_it_answers_sql_errors_per_family(api, make_account):
    account = make_account(error_sql_rate=1.0)
    assert api(account, "getNumber", service="tg", country=0).content == b"ERROR_SQL"
    assert api(account, "getRentNumber", service="tg").content == b'{"status":"error","message":"SQL_ERROR"}'
    hero = make_account(dialect="hero", error_sql_rate=1.0)
    response = api(hero, "getNumberV2", service="tg", country=0)
    assert (response.status_code, response.content) == (200, b"ERROR_SQL")
    assert not Activation.objects.exists() and not Rental.objects.exists()


def test_it_truncates_json_of_read_actions_only(api, make_account):
    whole = api(make_account(), "getCountries").content
    account = make_account(truncated_json_rate=1.0)
    cut = api(account, "getCountries")
    assert cut.status_code == 200 and whole.startswith(cut.content) and len(cut.content) == len(whole) // 2
    try:
        json.loads(cut.content)
    except ValueError:
        pass
    else:
        raise AssertionError("the truncated body parsed")
    assert api(account, "getBalance").content == b"ACCESS_BALANCE:1000.00"
    assert json.loads(api(account, "getNumberV2", service="tg", country=0).content)["activationId"]


def test_it_times_out_then_answers_a_gateway_timeout(api, make_account, settings):
    settings.SANDBOX_FAULT_TIMEOUT_SECONDS = 0.2
    account = make_account(timeout_rate=1.0)
    started = time.monotonic()
    response = api(account, "getNumber", service="tg", country=0)
    assert time.monotonic() - started >= 0.2
    assert response.status_code == 504 and not Activation.objects.exists()


def test_it_rate_limits(api, make_account):
    response = api(make_account(rate_limit_rate=1.0), "getBalance")
    assert (response.status_code, response.content, response["Retry-After"]) == (
        429,
        b"Too Many Requests",
        "1",
    )
    response = api(make_account(dialect="hero", rate_limit_rate=1.0), "getBalance")
    assert (response.status_code, response.content) == (429, b'{"title":"RATE_LIMIT","details":""}')


def test_it_adds_latency(api, make_account):
    started = time.monotonic()
    assert api(make_account(latency_ms=150), "getBalance").status_code == 200
    assert time.monotonic() - started >= 0.15


def test_it_bans_spending_actions_until_the_time(api, make_account):
    until = timezone.now().replace(microsecond=0) + timedelta(days=1)
    account = make_account(banned_until=until)
    expected = f"BANNED:{until.astimezone(MOSCOW):%Y-%m-%d %H-%M-%S}".encode()
    assert re.fullmatch(rb"BANNED:\d{4}-\d\d-\d\d \d\d-\d\d-\d\d", expected)
    for action, params in [
        ("getNumber", {"service": "tg", "country": 0}),
        ("getNumberV2", {"service": "tg", "country": 0}),
        ("getMultiServiceNumber", {"multiService": "tg,wa", "country": 0}),
        ("getRentNumber", {"service": "tg"}),
    ]:
        assert api(account, action, **params).content == expected, action
    assert api(account, "getBalance").content == b"ACCESS_BALANCE:1000.00"
    assert not Activation.objects.exists() and not Rental.objects.exists()
    account.banned_until = timezone.now() - timedelta(seconds=1)
    account.save()
    assert api(account, "getNumber", service="tg", country=0).content.startswith(b"ACCESS_NUMBER:")


def test_it_commits_the_purchase_behind_a_502(api, make_account):
    account = make_account(fault_after_commit_rate=1.0)
    response = api(account, "getNumber", service="tg", country=0)
    assert response.status_code == 502 and b"502 Bad Gateway" in response.content
    activation = Activation.objects.get()
    account.refresh_from_db()
    assert account.balance == Decimal("1000") - activation.cost
    rows = api(account, "getActiveActivations").json()["activeActivations"]
    assert [row["activationId"] for row in rows] == [str(activation.id)]
    assert api(account, "getRentNumber", service="tg").status_code == 502
    assert Rental.objects.count() == 1
    poor = make_account(balance="0", fault_after_commit_rate=1.0)
    assert api(poor, "getNumber", service="tg", country=0).content == b"NO_BALANCE"
