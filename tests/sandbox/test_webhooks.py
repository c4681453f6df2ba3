"""Webhooks over real HTTP: payloads for activations (both dialects) and rentals, retries with backoff."""

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest
from django.utils import timezone

from sandbox import services
from sandbox.answers import classic_time
from sandbox.models import Activation, WebhookDelivery


@pytest.fixture
def receiver():
    """A tiny HTTP server that records POSTs and answers the scripted statuses (then 200)."""
    state = SimpleNamespace(statuses=[], posts=[])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.posts.append((self.headers["Content-Type"], json.loads(body)))
            self.send_response(state.statuses.pop(0) if state.statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    yield state
    server.shutdown()
    server.server_close()


def _buy_with_code(api, account) -> Activation:
    body = api(account, "getNumber", service="tg", country=0).content
    activation = Activation.objects.get(pk=int(body.split(b":")[1]))
    Activation.objects.filter(pk=activation.pk).update(code_due_at=timezone.now())
    api(account, "getStatus", id=activation.id)  # advances the clock and sends due webhooks
    activation.refresh_from_db()
    return activation


def test_it_posts_the_classic_payload_when_a_code_arrives(api, make_account, receiver):
    account = make_account(webhook_url=receiver.url)
    activation = _buy_with_code(api, account)
    sms = activation.sms[0]
    assert receiver.posts == [
        (
            "application/json",
            {
                "activationId": activation.id,
                "service": "tg",
                "text": sms["text"],
                "code": sms["code"],
                "country": 0,
                "receivedAt": classic_time(datetime.fromisoformat(sms["at"])),
            },
        )
    ]
    hook = WebhookDelivery.objects.get()
    assert hook.attempts == 1 and hook.delivered_at is not None and hook.last_error == ""


def test_it_posts_the_hero_payload(api, make_account, receiver):
    account = make_account(dialect="hero", webhook_url=receiver.url)
    activation = _buy_with_code(api, account)
    ((_, payload),) = receiver.posts
    assert set(payload) == {
        "activationId",
        "id",
        "phoneFrom",
        "service",
        "text",
        "code",
        "country",
        "receivedAt",
    }
    assert payload["activationId"] == str(activation.id) and payload["code"] == activation.sms[0]["code"]
    assert payload["receivedAt"].endswith("+00:00")


def test_it_retries_until_http_200(api, make_account, receiver):
    receiver.statuses = [500, 404]
    account = make_account(webhook_url=receiver.url)
    _buy_with_code(api, account)
    hook = WebhookDelivery.objects.get()
    assert hook.attempts == 1 and hook.delivered_at is None and hook.last_error == "HTTP 500"
    assert services.deliver_webhooks() == 0
    assert services.deliver_webhooks() == 1
    hook.refresh_from_db()
    assert hook.attempts == 3 and hook.delivered_at is not None and len(receiver.posts) == 3
    assert services.deliver_webhooks() == 0 and len(receiver.posts) == 3


def test_it_gives_up_after_eight_attempts(make_account, receiver):
    receiver.statuses = [500] * 20
    account = make_account(webhook_url=receiver.url)
    activation = services.activation_buy(account=account, service_code="tg", country_raw="0", operators=[])
    services.sms_push(target_id=activation.id, text="code 12345")
    for _ in range(12):
        services.deliver_webhooks()
    hook = WebhookDelivery.objects.get()
    assert hook.attempts == 8 and hook.failed_at is not None and hook.next_attempt_at is None
    assert len(receiver.posts) == 8


def test_it_backs_off_by_the_configured_delays(settings, make_account):
    settings.SANDBOX_WEBHOOK_RETRY_DELAYS = [10, 30]
    settings.SANDBOX_WEBHOOK_TIMEOUT = 0.5
    account = make_account(webhook_url="http://127.0.0.1:9/unreachable")
    activation = services.activation_buy(account=account, service_code="tg", country_raw="0", operators=[])
    services.sms_push(target_id=activation.id, text="code 12345")
    now = timezone.now()
    assert services.deliver_webhooks(now) == 0
    hook = WebhookDelivery.objects.get()
    assert hook.next_attempt_at == now + timedelta(seconds=10) and "ConnectionError" in hook.last_error
    assert services.deliver_webhooks(now + timedelta(seconds=5)) == 0
    assert WebhookDelivery.objects.get().attempts == 1
    services.deliver_webhooks(now + timedelta(seconds=10))
    assert WebhookDelivery.objects.get().next_attempt_at == now + timedelta(seconds=40)
    services.deliver_webhooks(now + timedelta(seconds=40))
    hook = WebhookDelivery.objects.get()
    assert hook.attempts == 3 and hook.failed_at is not None


def test_it_posts_rent_messages_to_the_rental_url(api, account, receiver):
    rent = api(account, "getRentNumber", service="tg", country=0, url=receiver.url).json()["phone"]
    services.sms_push(target_id=rent["id"], text="Your code 777111")
    assert services.deliver_webhooks() == 1
    ((content_type, payload),) = receiver.posts
    assert content_type == "application/json"
    assert payload == {
        "rentId": rent["id"],
        "phone": rent["number"],
        "phoneFrom": payload["phoneFrom"],
        "text": "Your code 777111",
        "service": "tg",
        "date": payload["date"],
    }
    assert payload["date"] == api(account, "getRentStatus", id=rent["id"]).json()["values"]["0"]["date"]
