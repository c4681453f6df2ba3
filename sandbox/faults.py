"""Fault injection per account, decided before the action runs so a faulted call changes nothing.

Faults (each an account field; rates are probabilities 0..1 checked per request, in this order):

* `latency_ms`: sleep that long before answering (always, not a rate).
* `banned_until`: spending actions answer `BANNED:<Y-m-d H-i-s>` (HeroSMS: 403 envelope) until then.
* `rate_limit_rate`: HTTP 429 (`Too Many Requests` text, HeroSMS: `RATE_LIMIT` envelope), `Retry-After: 1`.
* `timeout_rate`: sleep `SANDBOX_FAULT_TIMEOUT_SECONDS` (default 30, longer than a client timeout),
  then a 504 HTML page.
* `http5xx_rate`: an nginx-style HTML 502 or 503 page.
* `html_rate`: an HTML error page with HTTP 200.
* `error_sql_rate`: `ERROR_SQL` (rent actions: `{"status":"error","message":"SQL_ERROR"}`).
* `truncated_json_rate`: a JSON answer of a read-only action cut in the middle, HTTP 200.
* `damaged_row_rate`: the first row of a getActiveActivations, getHistory or getRentList answer is
  damaged, the others are whole: its time is PHP's mangled zero date and its phone number is missing.
* `fault_after_commit_rate`: a spending action IS carried out, but the answer is a 502 page
  (an ambiguous purchase for clients to reconcile).

`fault_actions` (comma-separated action names) limits the rates to those actions; empty means all.
"""

import json
import random
import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection

from sandbox import answers
from sandbox.answers import Answer
from sandbox.errors import ApiError
from sandbox.models import Account

# List answers whose rows the `damaged_row` fault can damage.
ROW_ACTIONS = frozenset({"getActiveActivations", "getHistory", "getRentList"})
# `0000-00-00 00:00:00` after PHP's DateTime: a time no parser accepts.
MANGLED_TIME = "-0001-11-30 00:00:00"

GATEWAY_PAGES = {
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
}

HTML_ERROR_PAGE = (
    "<html><head><title>Error</title></head><body><h1>Something went wrong</h1>"
    "<p>The server encountered an internal error. Please try again later.</p></body></html>"
)


def gateway_page(status: int) -> Answer:
    title = GATEWAY_PAGES[status]
    body = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    body += "<hr><center>nginx</center>\r\n</body>\r\n</html>"
    return Answer(body, status, answers.HTML)


@dataclass
class Plan:
    """What to do after the action ran: cut its JSON, damage one row, or hide a committed purchase behind a 502."""

    truncate: bool = False
    after_commit: bool = False
    damage_row: bool = False


def _hit(rate: float) -> bool:
    return rate > 0 and random.random() < rate


def _wait_like_a_network(seconds: float) -> None:
    """The latency is the network's, not the database's: a pooled connection goes back to the pool while the
    request waits, so a sandbox under load is not limited by its pool (never inside a transaction)."""
    if (
        connection.connection is not None
        and not connection.in_atomic_block
        and connection.settings_dict.get("OPTIONS", {}).get("pool")
    ):
        connection.close()
    time.sleep(seconds)


def _targets(account: Account, action: str) -> bool:
    chosen = {name.strip() for name in account.fault_actions.split(",") if name.strip()}
    return not chosen or action in chosen


def before(account: Account, *, action: str, kind: str, rent: bool, now: datetime) -> Answer | Plan:
    """An answer that replaces the action (nothing is changed), or the plan for after it."""
    if account.latency_ms:
        _wait_like_a_network(account.latency_ms / 1000)
    if not _targets(account, action):
        return Plan()
    hero = account.is_hero
    if kind == "spend" and account.banned_until and account.banned_until > now:
        until = account.banned_until
        info = {
            "scope": "global",
            "banned_until": int(until.timestamp()),
            "retry_after_seconds": int((until - now).total_seconds()),
            "readable_date": answers.iso_time(until),
        }
        # The classic token stays a bare token even for rent actions, as the seed documents it.
        if hero:
            return answers.error(True, ApiError("BANNED", info=info))
        return answers.token(False, f"BANNED:{answers.ban_time(until)}")
    if _hit(account.rate_limit_rate):
        if hero:
            answer = answers.error(True, ApiError("RATE_LIMIT"))
        else:
            answer = Answer("Too Many Requests", 429, answers.TEXT)
        answer.headers["Retry-After"] = "1"
        return answer
    if _hit(account.timeout_rate):
        time.sleep(float(getattr(settings, "SANDBOX_FAULT_TIMEOUT_SECONDS", 30)))
        return gateway_page(504)
    if _hit(account.http5xx_rate):
        return gateway_page(random.choice([502, 503]))
    if _hit(account.html_rate):
        return Answer(HTML_ERROR_PAGE, 200, answers.HTML)
    if _hit(account.error_sql_rate):
        return answers.error(hero, ApiError("SQL_ERROR" if rent else "ERROR_SQL"), rent=rent)
    return Plan(
        truncate=kind == "read" and _hit(account.truncated_json_rate),
        after_commit=kind == "spend" and _hit(account.fault_after_commit_rate),
        damage_row=action in ROW_ACTIONS and _hit(account.damaged_row_rate),
    )


def _rows(data: object) -> list:
    """The rows of a list answer: a bare array (getHistory), `activeActivations`/`data` lists, `values`."""
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in ("activeActivations", "data", "values"):
            block = data.get(key)
            if isinstance(block, list) and block:
                return block
            if isinstance(block, dict) and block:
                return list(block.values())
    return []


def damage_first_row(answer: Answer) -> Answer:
    """The same answer with its first row damaged (time mangled, phone gone); the other rows untouched."""
    data = json.loads(answer.body)
    rows = [row for row in _rows(data) if isinstance(row, dict)]
    if not rows:
        return answer
    first = rows[0]
    for key in ("activationTime", "date"):
        if key in first:
            first[key] = MANGLED_TIME
    for key in ("phoneNumber", "phone"):
        first.pop(key, None)
    return Answer(answers.dumps(data), answer.status, answer.content_type, answer.headers, is_json=True)


def after(plan: Plan, answer: Answer) -> Answer:
    """Apply the planned post-action fault to a successful answer."""
    if answer.status >= 300:
        return answer
    if plan.after_commit:
        return gateway_page(502)
    if plan.damage_row and answer.is_json:
        answer = damage_first_row(answer)
    if plan.truncate and answer.is_json and len(answer.body) > 1:
        # Cut the bytes, not the characters: a real cut connection can split a UTF-8 sequence too.
        raw = answer.body.encode() if isinstance(answer.body, str) else answer.body
        return Answer(raw[: len(raw) // 2], answer.status, answer.content_type)
    return answer
