"""Encryption of provider secrets at rest (Fernet), with rotation of the encryption key, and the keyed
digest that finds a secret again without decrypting every stored one."""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.crypto import salted_hmac

# Separates this use of the encryption key from any other HMAC made with it.
DIGEST_SALT = "simdesk.accounts.ApiKey.secret_digest"


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


def secret_digest(plain: str, *, key: str | None = None) -> str:
    """HMAC-SHA256 of a secret (hex), keyed with the encryption key (or `key`), never a plain hash: provider
    keys are short enough to guess, and a stolen database without the encryption key cannot test guesses
    against a keyed digest. Compare digests to find a secret already stored."""
    return salted_hmac(
        DIGEST_SALT, plain, secret=key or settings.SIMDESK_ENCRYPTION_KEY, algorithm="sha256"
    ).hexdigest()


def secret_digests(plain: str) -> list[str]:
    """The secret's digest under the current encryption key and under every older one still accepted: until
    `rotate_encryption_key` has run, a stored digest may have been made with an older key."""
    keys = [settings.SIMDESK_ENCRYPTION_KEY, *settings.SIMDESK_ENCRYPTION_KEYS_OLD]
    return [secret_digest(plain, key=key) for key in keys]


def reset_cache() -> None:
    _fernet.cache_clear()
