"""Odd webhook bodies (NUL bytes, deep nesting, absurd dates): a 400 or a 200, never a 500, nothing stored."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from tests.test_bad_input import make_key


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


WEBHOOK_BODIES = [
    b'{"activationId": "1", "code": "12\\u00003", "text": "a\\u0000b"}',
    b'{"id": "1\\u0000", "text": "x"}',
    b'{"activationId": "1", "text": "x", "receivedAt": 99999999999999}',
    b'{"activationId": "1", "text": "x", "receivedAt": "99999999999999"}',
    b'{"activationId": "1", "text": "x", "receivedAt": 1e300}',
    b'{"a": ' + _deep(100_000) + b"}",
    _deep(100_000),
    b"\x00\x00",
    b"\xff\xfe",
    b"1e999999",
]


@pytest.mark.parametrize("hook", ["activations:webhook", "rentals:webhook"])
@pytest.mark.parametrize("body", WEBHOOK_BODIES)
def test_it_answers_odd_webhook_bodies_without_a_500(team, hook, body):
    key = make_key(team)
    response = Client().post(reverse(hook, args=[key.webhook_token]), body, content_type="application/json")
    assert response.status_code in (200, 400)


@pytest.mark.parametrize("hook", ["activations:webhook", "rentals:webhook"])
def test_it_refuses_nul_bytes_in_a_webhook(team, hook):
    key = make_key(team)
    body = json.dumps({"activationId": "1", "code": "1\x002", "text": "a\x00b"})
    response = Client().post(reverse(hook, args=[key.webhook_token]), body, content_type="application/json")
    assert response.status_code == 400


def test_it_stores_nothing_from_a_refused_webhook(team, alice):
    from decimal import Decimal

    from activations.models import Activation, ActivationStatus, Sms
    from rentals.models import Rental, RentalSms, RentalStatus

    key = make_key(team)
    Activation.objects.create(
        team=team, api_key=key, service="tg", country=0, phone="79000000001", cost=Decimal("1"),
        currency="RUB", upstream_id="1", status=ActivationStatus.WAITING,
    )  # fmt: skip
    Rental.objects.create(
        team=team, api_key=key, upstream_id="1", phone="79000000002", service="tg", country=0,
        cost=Decimal("1"), total_cost=Decimal("1"), currency="RUB", status=RentalStatus.ACTIVE,
    )  # fmt: skip
    bodies = [
        json.dumps({"activationId": "1", "rentId": "1", "code": "1\x002", "text": "a\x00b"}),
        json.dumps(
            {
                "activationId": "1",
                "rentId": "1",
                "text": "x",
                "extra": [[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]],
            }
        ),
    ]
    for hook in ("activations:webhook", "rentals:webhook"):
        for body in bodies:
            response = Client().post(
                reverse(hook, args=[key.webhook_token]), body, content_type="application/json"
            )
            assert response.status_code == 400
    assert not Sms.objects.exists() and not RentalSms.objects.exists()
