"""Catalog sync: a provider's countries, services and operators, stored per provider endpoint.

The upstream reads happen first, outside any transaction; the rows are then replaced in one short
transaction. Optional actions are skipped where the profile lacks them (services then come from the
codes getPrices lists, named by their code).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiKey, KeyHealth, KeyStatus
from providers import errors
from providers.keys import client_for_key, profile_for_key, provider_endpoint, provider_of
from providers.models import CatalogCountry, CatalogOperator, CatalogService, Provider

logger = logging.getLogger(__name__)

# A catalog older than this is synced again by the sweeper.
CATALOG_MAX_AGE = timedelta(hours=24)


def catalog_sync(*, api_key: ApiKey) -> Provider:
    """Read getCountries, getServicesList (en, ru) and getOperators with the key and store them.

    Raises the client's `ProviderError` when getCountries fails; the optional reads degrade to what
    the provider answers.
    """
    provider = provider_of(api_key, create=True)
    profile = profile_for_key(api_key)
    client = client_for_key(api_key)
    countries = client.get_countries()

    names: dict[str, dict[str, str]] = {}
    if profile.supports_action("getServicesList"):
        for lang in ("en", "ru"):
            try:
                for service in client.get_services_list(lang=lang):
                    names.setdefault(service.code, {})[lang] = service.name
            except errors.ProviderError as exc:
                logger.info("getServicesList(%s) failed: %s", lang, exc.code)
    if not names:
        # Without a service list, the codes on sale are the catalog.
        try:
            for entry in client.get_prices():
                names.setdefault(entry.service, {})
        except errors.ProviderError as exc:
            logger.info("getPrices for the service codes failed: %s", exc.code)

    operators: dict[int, tuple[str, ...]] = {}
    if profile.supports_action("getOperators"):
        try:
            operators = client.get_operators()
        except errors.ProviderError as exc:
            logger.info("getOperators failed: %s", exc.code)

    with transaction.atomic():
        CatalogCountry.objects.filter(provider=provider).delete()
        CatalogCountry.objects.bulk_create(
            [
                CatalogCountry(
                    provider=provider,
                    code=c.id,
                    name_eng=c.eng[:120],
                    name_rus=c.rus[:120],
                    name_chn=c.chn[:120],
                    visible=c.visible is not False,
                    rent=c.rent,
                    retry=c.retry,
                    multi_service=c.multi_service,
                )
                for c in countries
            ],
            ignore_conflicts=True,
        )
        CatalogService.objects.filter(provider=provider).delete()
        CatalogService.objects.bulk_create(
            [
                CatalogService(
                    provider=provider,
                    code=code[:32],
                    name_en=(langs.get("en") or "")[:200],
                    name_ru=(langs.get("ru") or "")[:200],
                )
                for code, langs in names.items()
            ],
            ignore_conflicts=True,
        )
        if operators or not profile.supports_action("getOperators"):
            CatalogOperator.objects.filter(provider=provider).delete()
            CatalogOperator.objects.bulk_create(
                [
                    CatalogOperator(provider=provider, country=country, name=name[:60])
                    for country, names_ in operators.items()
                    for name in names_
                ],
                ignore_conflicts=True,
            )
        provider.catalog_synced_at = timezone.now()
        provider.save(update_fields=["catalog_synced_at"])
    return provider


def catalog_keys_due(*, max_age: timedelta = CATALOG_MAX_AGE) -> list[int]:
    """One active key per provider endpoint whose catalog is missing or older than `max_age`."""
    cutoff = timezone.now() - max_age
    fresh = {(p.profile, p.base_url) for p in Provider.objects.filter(catalog_synced_at__gte=cutoff)}
    chosen: dict[tuple[str, str], int] = {}
    keys = ApiKey.objects.filter(status=KeyStatus.ACTIVE).order_by("created_at", "pk")
    # Healthy keys first: a key the provider rejects would fail the sync for everyone.
    for api_key in sorted(keys, key=lambda k: k.health != KeyHealth.OK):
        endpoint = provider_endpoint(api_key)
        if endpoint not in fresh and endpoint not in chosen:
            chosen[endpoint] = api_key.pk
    return list(chosen.values())
