"""The providers' rent webhook endpoint: answers 200 fast and is idempotent (providers retry)."""

import json

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from rentals.services import rental_webhook_receive


@csrf_exempt  # called by the provider, which has no session; the secret token in the URL identifies the key
@require_POST
def rental_webhook(request: HttpRequest, webhook_token: str) -> HttpResponse:
    """Store the SMS of a rented number; 404 for an unknown token, 400 for a body that is not a JSON object."""
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponse("bad json", status=400, content_type="text/plain")
    if not isinstance(payload, dict):
        return HttpResponse("bad payload", status=400, content_type="text/plain")
    if not rental_webhook_receive(webhook_token=webhook_token, payload=payload):
        return HttpResponse("unknown", status=404, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")
