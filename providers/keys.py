"""The bridge from a team's stored key to its provider: the provider's identity, its stored row and a
protocol client. The only place a secret is decrypted."""

from hashlib import sha256

from django.conf import settings

from accounts.crypto import decrypt_secret
from accounts.models import ApiKey
from kit.db import release_connection
from providers.client import ProviderClient
from providers.models import Provider
from providers.outbound import check_provider_url
from providers.profiles import ProviderProfile, get_profile
from providers.ratelimit import throttle_for


def profile_for_key(api_key: ApiKey) -> ProviderProfile:
    return get_profile(api_key.profile)


def provider_endpoint(api_key: ApiKey) -> tuple[str, str]:
    """The key's provider: (profile slug, base URL). Custom keys carry their own URL; every key of one
    endpoint shares one catalogue, one price history and one cache namespace."""
    return api_key.profile, (api_key.base_url or profile_for_key(api_key).base_url).rstrip("/")


def provider_cache_id(api_key: ApiKey) -> str:
    """A short cache namespace for the key's provider (no secret ever reaches a cache key)."""
    profile, base_url = provider_endpoint(api_key)
    return sha256(f"{profile}|{base_url}".encode()).hexdigest()[:16]


def provider_of(api_key: ApiKey, *, create: bool = False) -> Provider | None:
    """The stored `Provider` row of the key's endpoint; with `create`, made on first use."""
    profile, base_url = provider_endpoint(api_key)
    if create:
        provider, _created = Provider.objects.get_or_create(
            profile=profile, base_url=base_url, defaults={"currency": api_key.currency}
        )
        return provider
    return Provider.objects.filter(profile=profile, base_url=base_url).first()


def client_for_secret(*, profile_slug: str, secret: str, base_url: str = "") -> ProviderClient:
    """A client for a secret being checked while the member waits (key add and rotate): one attempt with a
    short read timeout, so a slow provider answers the form in seconds instead of holding the request
    through every read retry."""
    return ProviderClient.for_profile(
        get_profile(profile_slug),
        secret,
        base_url=base_url or None,
        timeout=(
            float(getattr(settings, "PROVIDER_CONNECT_TIMEOUT", 5.0)),
            float(getattr(settings, "PROVIDER_WEB_READ_TIMEOUT", 8.0)),
        ),
        read_retries=0,
        # A URL the member typed: checked before every request (providers/outbound.py).
        guard=check_provider_url if base_url else None,
    )


def client_for_key(api_key: ApiKey) -> ProviderClient:
    """A client for a stored key, within the key's shared request budget; the thread's database connection
    goes back to the pool before each request (`kit.db.release_connection`)."""
    profile = get_profile(api_key.profile)
    budget = throttle_for(api_key.pk, profile.requests_per_second)

    def before_request() -> None:
        budget()
        release_connection()

    return ProviderClient.for_profile(
        profile,
        decrypt_secret(api_key.secret_encrypted),
        base_url=api_key.base_url or None,
        throttle=before_request,
        guard=check_provider_url if api_key.base_url else None,
    )
