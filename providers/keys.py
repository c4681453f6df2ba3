"""The bridge from a team's stored key to a protocol client. The only place a secret is decrypted."""

from accounts.crypto import decrypt_secret
from accounts.models import ApiKey
from providers.client import ProviderClient
from providers.profiles import ProviderProfile, get_profile
from providers.ratelimit import throttle_for


def profile_for_key(api_key: ApiKey) -> ProviderProfile:
    return get_profile(api_key.profile)


def client_for_secret(*, profile_slug: str, secret: str, base_url: str = "") -> ProviderClient:
    return ProviderClient.for_profile(get_profile(profile_slug), secret, base_url=base_url or None)


def client_for_key(api_key: ApiKey) -> ProviderClient:
    """A client for a stored key, within the key's shared request budget."""
    profile = get_profile(api_key.profile)
    return ProviderClient.for_profile(
        profile,
        decrypt_secret(api_key.secret_encrypted),
        base_url=api_key.base_url or None,
        throttle=throttle_for(api_key.pk, profile.requests_per_second),
    )
