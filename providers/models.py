"""Provider endpoints, their catalogs (countries, services, operators) and the keys' balances over time.

Catalogs are public per provider, so they are keyed by the provider's endpoint (profile slug plus base
URL), never by team: two teams using the same provider share one catalog. Balance samples carry `team`.
Price history lives in `prices/`.
"""

from django.db import models
from django.utils import timezone

from accounts.models import ApiKey, Team
from providers.profiles import PROFILES


class Provider(models.Model):
    """One provider endpoint: a profile and the base URL its keys call."""

    profile = models.CharField(max_length=40)
    base_url = models.CharField(max_length=300)
    currency = models.CharField(max_length=3, default="RUB")
    catalog_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "base_url"], name="provider_unique_endpoint")
        ]
        ordering = ["profile", "base_url"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The profile's display name (the slug for a profile that no longer exists)."""
        profile = PROFILES.get(self.profile)
        return str(profile.name) if profile else self.profile


class CatalogCountry(models.Model):
    """A country as the provider lists it (getCountries), with its names in three languages."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="countries")
    code = models.IntegerField()
    name_eng = models.CharField(max_length=120, blank=True)
    name_rus = models.CharField(max_length=120, blank=True)
    name_chn = models.CharField(max_length=120, blank=True)
    visible = models.BooleanField(default=True)
    rent = models.BooleanField(null=True)
    retry = models.BooleanField(null=True)
    multi_service = models.BooleanField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "code"], name="catalogcountry_unique_code")
        ]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_eng or str(self.code)

    def name_in(self, language: str | None) -> str:
        """The name for a Django language code (`ru` -> Russian, `zh-*` -> Chinese, else English)."""
        lang = (language or "en").lower()
        if lang.startswith("ru"):
            preferred = self.name_rus
        elif lang.startswith("zh"):
            preferred = self.name_chn
        else:
            preferred = self.name_eng
        return preferred or self.name_eng or self.name_rus or str(self.code)


class CatalogService(models.Model):
    """A service code and its names (getServicesList in English and Russian)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="services")
    code = models.CharField(max_length=32)
    name_en = models.CharField(max_length=200, blank=True)
    name_ru = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "code"], name="catalogservice_unique_code")
        ]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_en or self.code

    def name_in(self, language: str | None) -> str:
        """The Russian name for `ru*`, else the English one; the code when the provider names nothing."""
        if (language or "en").lower().startswith("ru") and self.name_ru:
            return self.name_ru
        return self.name_en or self.name_ru or self.code


class CatalogOperator(models.Model):
    """A mobile operator the provider offers in one country (getOperators)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="operators")
    country = models.IntegerField()
    name = models.CharField(max_length=60)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "country", "name"], name="catalogoperator_unique_name"
            )
        ]
        ordering = ["country", "name"]

    def __str__(self) -> str:
        return f"{self.country}: {self.name}"


class BalanceSample(models.Model):
    """A key's balance at a moment, recorded when the balance refresh sees it change."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="balance_samples")
    balance = models.DecimalField(max_digits=14, decimal_places=4)
    cashback = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["api_key", "at"], name="balancesample_key_at")]

    def __str__(self) -> str:
        return f"{self.balance} {self.currency} at {self.at:%Y-%m-%d %H:%M}"


class MissingAction(models.Model):
    """An optional action the key's profile lists but its provider answered BAD_ACTION to (a custom
    provider such as SMSBower without getActiveActivations), learned at `learned_at`. Callers take their
    fallback until the action is tried again a day later (`providers.capabilities.api_key_try_action`)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="missing_actions")
    action = models.CharField(max_length=40)
    learned_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "action"], name="missingaction_unique_key_action")
        ]

    def __str__(self) -> str:
        return f"{self.action} missing for key {self.api_key_id} since {self.learned_at:%Y-%m-%d %H:%M}"


class RequestBudget(models.Model):
    """A key's request budget (token bucket) without Redis, or while Redis fails: providers/ratelimit.py."""

    name = models.CharField(max_length=100, primary_key=True)  # the API key's id (or a test's bucket)
    tokens = models.FloatField()
    updated_at = models.FloatField()  # seconds since the epoch of the last refill

    def __str__(self) -> str:
        return f"budget {self.name}: {self.tokens:.2f} tokens"


class KeyClaim(models.Model):
    """One kind of per-key background work (`providers.claims`): the claim that keeps two workers from doing
    one key's work at once, and when it was last done. A claim left by a dead worker expires."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    work = models.CharField(max_length=40)
    locked_until = models.DateTimeField(null=True, blank=True)
    last_done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "work"], name="keyclaim_unique_work")]

    def __str__(self) -> str:
        return f"{self.work} of key {self.api_key_id}"
