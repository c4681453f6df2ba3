"""Template helpers of the activation pages: countdown text and a key's webhook URL."""

import uuid

from django import template
from django.conf import settings
from django.urls import reverse

from accounts.models import ApiKey

register = template.Library()


@register.filter
def clock(seconds: int | None) -> str:
    """`125` -> `2:05`, `3725` -> `1:02:05`; the server-side text a countdown starts from."""
    if seconds is None:
        return ""
    seconds = max(int(seconds), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@register.simple_tag
def webhook_url(api_key: ApiKey) -> str:
    """The absolute URL a provider posts this key's SMS to (its secret token identifies the key)."""
    return settings.SITE_URL.rstrip("/") + reverse("activations:webhook", args=[api_key.webhook_token])


@register.simple_tag
def uuid4() -> str:
    """A fresh idempotency token for a one-click purchase form."""
    return str(uuid.uuid4())
