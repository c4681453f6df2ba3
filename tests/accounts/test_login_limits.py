"""Failed logins lock a username and a client address separately; the client address comes from a proxy
header only when one is configured; password-reset mails are limited per address and per account."""

from django.core import mail
from django.test import Client

from accounts.models import User
from tests.conftest import PASSWORD


def _fail(client: Client, username: str, **meta) -> int:
    return client.post("/accounts/login/", {"username": username, "password": "wrong"}, **meta).status_code


def test_it_locks_out_one_password_sprayed_over_twenty_usernames(client, alice, settings):
    codes = [_fail(client, f"user{n}", REMOTE_ADDR="203.0.113.7") for n in range(20)]
    assert 429 in codes
    assert codes.index(429) <= settings.AXES_FAILURE_LIMIT
    # The address is locked: even alice's right password is refused from it...
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
    )
    assert response.status_code == 429
    # ...while alice from elsewhere still gets in (her username saw no failure).
    other = Client()
    response = other.post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.1"
    )
    assert response.status_code == 302


def test_it_locks_out_one_username_tried_from_many_addresses(client, alice, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(Client(), "alice", REMOTE_ADDR=f"198.51.100.{n + 10}")
    response = Client().post(
        "/accounts/login/", {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.200"
    )
    assert response.status_code == 429


def test_it_ignores_x_forwarded_for_unless_a_proxy_is_configured(client, alice, settings):
    # Without a trusted proxy the header is the client's own words: changing it escapes nothing.
    codes = [
        _fail(client, f"user{n}", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
        for n in range(settings.AXES_FAILURE_LIMIT + 1)
    ]
    assert codes[-1] == 429


def test_it_reads_the_client_address_from_a_configured_proxy_header(client, alice, settings):
    settings.SIMDESK_TRUSTED_PROXY_HEADER = "X-Forwarded-For"
    settings.SIMDESK_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, f"user{n}", HTTP_X_FORWARDED_FOR="203.0.113.50", **proxy)
    # That client is locked out; another client behind the same proxy is not.
    assert _fail(client, "someone", HTTP_X_FORWARDED_FOR="203.0.113.50", **proxy) == 429
    response = Client().post(
        "/accounts/login/",
        {"username": "alice", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.51",
        **proxy,
    )
    assert response.status_code == 302
    # The entry the proxy appended counts, not one the client wrote to the left of it.
    assert _fail(client, "someone", HTTP_X_FORWARDED_FOR="203.0.113.99, 203.0.113.50", **proxy) == 429


def test_it_limits_reset_mails_per_account(client, alice, settings):
    settings.PASSWORD_RESET_MAILS_PER_ACCOUNT = 2
    answers = [
        client.post("/accounts/password/reset/", {"email": "alice@example.com"}, REMOTE_ADDR=f"192.0.2.{n}")
        for n in range(5)
    ]
    assert len(mail.outbox) == 2
    # The answer is the same whether or not a mail went out.
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/accounts/password/reset/sent/")}


def test_it_limits_reset_mails_per_address(client, db, settings):
    settings.PASSWORD_RESET_MAILS_PER_ADDRESS = 3
    for n in range(6):
        User.objects.create_user(username=f"u{n}", email=f"u{n}@example.com", password=PASSWORD)
    for n in range(6):
        response = client.post(
            "/accounts/password/reset/", {"email": f"u{n}@example.com"}, REMOTE_ADDR="192.0.2.77"
        )
        assert response.status_code == 302
    assert len(mail.outbox) == 3
