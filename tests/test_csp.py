"""The Content-Security-Policy: sent on every page, and no page of ours carries an inline script, an
inline style attribute or an inline event handler that the policy would refuse."""

import re

from tests.accounts.conftest import client_for, make_key
from tests.accounts.test_secret_never_leaks import _get_all, _site_pages

INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(rb"<[a-z][^>]*\sstyle=", re.IGNORECASE)
HANDLER_ATTRIBUTE = re.compile(rb"<[a-z][^>]*\son[a-z]+=", re.IGNORECASE)


def test_it_sends_the_policy_on_a_page(alice, team):
    response = client_for(alice).get("/t/acme/")
    policy = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_it_sends_the_policy_on_the_login_page(client, db):
    assert "script-src 'self'" in client.get("/accounts/login/")["Content-Security-Policy"]


def test_no_team_page_has_an_inline_script_style_or_handler(alice, team, bob, vera):
    key = make_key(team)
    values = {"team_slug": team.slug, "key_id": key.public_id}
    pages = _get_all(client_for(alice), [u for u in _site_pages(values) if "logout" not in u])
    assert len(pages) > 20
    for url, body in pages.items():
        assert not INLINE_SCRIPT.search(body), url
        assert not STYLE_ATTRIBUTE.search(body), url
        assert not HANDLER_ATTRIBUTE.search(body), url
