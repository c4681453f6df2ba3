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


def webhook_endpoint(receive: Receiver, doc: str) -> Callable[[HttpRequest, str], HttpResponse]:
    """A view answering fast and idempotently (providers retry up to 8 times): 200 when taken, 404 for an
    unknown token, 400 for a body that is not a JSON object. `receive(webhook_token=, payload=)` stores it."""

    @csrf_exempt  # called by the provider, which has no session; the secret token in the URL identifies the key
    @require_POST
    def endpoint(request: HttpRequest, webhook_token: str) -> HttpResponse:
        try:
            payload = json.loads(request.body or b"{}")
        except ValueError:
            return HttpResponse("bad json", status=400, content_type="text/plain")
        if not isinstance(payload, dict):
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
