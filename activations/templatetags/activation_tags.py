"""Template helpers of the activation pages: a key's webhook URL and one-click purchase tokens."""

import uuid

from django import template
from django.conf import settings
from django.urls import reverse

from accounts.models import ApiKey

register = template.Library()


@register.simple_tag
def webhook_url(api_key: ApiKey) -> str:
    """The absolute URL a provider posts this key's SMS to (its secret token identifies the key)."""
    return settings.SITE_URL.rstrip("/") + reverse("activations:webhook", args=[api_key.webhook_token])


@register.simple_tag
def uuid4() -> str:
    """A fresh idempotency token for a one-click purchase form."""
    return str(uuid.uuid4())
