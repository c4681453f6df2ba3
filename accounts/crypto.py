"""Encryption of provider secrets at rest (Fernet), with rotation of the encryption key."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@cache
def _fernet() -> MultiFernet:
    keys = [settings.SIMDESK_ENCRYPTION_KEY, *settings.SIMDESK_ENCRYPTION_KEYS_OLD]
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(
            "SIMDESK_ENCRYPTION_KEY (and SIMDESK_ENCRYPTION_KEYS_OLD) must be url-safe base64 Fernet keys"
        ) from None


def encrypt_secret(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        # Never echo the token: say what to do instead.
        raise ImproperlyConfigured(
            "A stored API key cannot be decrypted: SIMDESK_ENCRYPTION_KEY changed without "
            "listing the previous key in SIMDESK_ENCRYPTION_KEYS_OLD"
        ) from None


def rotate_secret(token: str) -> str:
    """Re-encrypt under the current key a token made with any accepted key."""
    return _fernet().rotate(token.encode()).decode()


def reset_cache() -> None:
    _fernet.cache_clear()
