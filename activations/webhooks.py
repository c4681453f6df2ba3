"""The providers' SMS webhook endpoint: answers 200 fast and is idempotent (providers retry up to 8 times)."""

import json
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from activations.services import webhook_receive

logger = logging.getLogger(__name__)


@csrf_exempt  # called by the provider, which has no session; the secret token in the URL identifies the key
@require_POST
def activation_webhook(request: HttpRequest, webhook_token: str) -> HttpResponse:
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponse("bad json", status=400, content_type="text/plain")
    if not isinstance(payload, dict):
        return HttpResponse("bad payload", status=400, content_type="text/plain")
    if not webhook_receive(webhook_token=webhook_token, payload=payload):
        return HttpResponse("unknown", status=404, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
