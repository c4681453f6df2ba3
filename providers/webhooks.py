"""The shape every provider webhook endpoint shares: a JSON POST identified by the key's secret URL token."""

import json
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accounts.models import ApiKey
from providers.keys import profile_for_key
from providers.parsing import ShapeError, parse_time

Receiver = Callable[..., bool]

# No provider nests its webhook deeper than a few levels; anything deeper is refused before it is read.
MAX_DEPTH = 16


def _acceptable(payload: object) -> bool:
    """Whether a decoded body can be stored: no NUL character anywhere (PostgreSQL text cannot hold one)
    and no deeper than MAX_DEPTH. Walked without recursion, so no body can exhaust the stack."""
    stack: list[tuple[object, int]] = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return False
        if isinstance(value, str):
            if "\x00" in value:
                return False
        elif isinstance(value, dict):
            stack.extend((key, depth + 1) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return True


def webhook_endpoint(receive: Receiver, doc: str) -> Callable[[HttpRequest, str], HttpResponse]:
    """A view answering fast and idempotently (providers retry up to 8 times): 200 when taken, 404 for an
    unknown token, 400 for a body that is not a JSON object (or holds a NUL character, or nests absurdly
    deep): nothing is stored then. `receive(webhook_token=, payload=)` stores it."""

    @csrf_exempt  # called by the provider, which has no session; the secret token in the URL identifies the key
    @require_POST
    def endpoint(request: HttpRequest, webhook_token: str) -> HttpResponse:
        try:
            payload = json.loads(request.body or b"{}")
        except (ValueError, RecursionError):  # RecursionError: arrays or objects nested thousands deep
            return HttpResponse("bad json", status=400, content_type="text/plain")
        if not isinstance(payload, dict) or not _acceptable(payload):
            return HttpResponse("bad payload", status=400, content_type="text/plain")
        if not receive(webhook_token=webhook_token, payload=payload):
            return HttpResponse("unknown", status=404, content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")

    endpoint.__doc__ = doc
    return endpoint


def webhook_time(api_key: ApiKey, raw: object) -> datetime | None:
    """The time a webhook says its SMS arrived (naive times are the provider's zone), or None if unreadable."""
    try:
        return parse_time(raw, ZoneInfo(profile_for_key(api_key).timezone))
    except (ShapeError, KeyError, TypeError, ValueError, OverflowError):
        return None
