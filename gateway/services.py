"""Gateway keys: made, checked and revoked here."""

import secrets

from django.utils import timezone

from accounts.crypto import secret_digest
from gateway.models import GatewayKey

# Keys look like a provider's (32 hex characters), so client libraries that check the shape take them.
KEY_BYTES = 16
PREFIX_LENGTH = 8
# A key's last use is written at most this often: scripts poll every second or two.
LAST_USED_EVERY_SECONDS = 60


def new_key() -> tuple[str, str, str]:
    """(the key to show once, its prefix, its digest to store)."""
    plain = secrets.token_hex(KEY_BYTES)
    return plain, plain[:PREFIX_LENGTH], secret_digest(plain)


def authenticate(plain: str) -> GatewayKey | None:
    """The active gateway key for `plain` (None for an unknown or revoked one); notes its use."""
    if not plain or len(plain) > 128:
        return None
    gateway_key = (
        GatewayKey.objects.select_related("team", "api_key", "member__user", "member__team")
        .filter(digest=secret_digest(plain), revoked_at__isnull=True)
        .first()
    )
    if gateway_key is None:
        return None
    now = timezone.now()
    last = gateway_key.last_used_at
    if last is None or (now - last).total_seconds() >= LAST_USED_EVERY_SECONDS:
        GatewayKey.objects.filter(pk=gateway_key.pk).update(last_used_at=now)
        gateway_key.last_used_at = now
    return gateway_key
