"""Price history stored as changes, the team's snapshot settings and its price alerts.

Prices are public per provider, so series are keyed by the provider's endpoint (`providers.Provider`),
never by team: two teams using the same provider share one price history. Team-owned rows (settings,
alerts) carry `team`.

Price history is change-only: a `Snapshot` header per run, a `PricePoint` only where the cost or stock
of a (provider, kind, country, service) differs from the value in `LatestPrice`. A point holds from its
`at` until the next point of the same series; a run in which nothing changed costs one header row.

The tables keep the names they had when this code lived in `providers/`.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Team
from providers.models import Provider


class PriceKind(models.TextChoices):
    """Which price a series follows: getPrices, getTopCountriesByService (Free Price) or a 4-hour rent."""

    ACTIVATION = "a", _("Activation")
    TOP = "t", _("Top countries (Free Price)")
    RENT = "r", _("Rent, 4 hours")


class Snapshot(models.Model):
    """One run of one price read for one provider. `changes` counts the price points it wrote."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="snapshots")
    kind = models.CharField(max_length=1, choices=PriceKind.choices, default=PriceKind.ACTIVATION)
    taken_at = models.DateTimeField(default=timezone.now)
    # A complete answer lists every offer, so an offer missing from it is recorded as gone.
    complete = models.BooleanField(default=True)
    entries = models.PositiveIntegerField(default=0)
    changes = models.PositiveIntegerField(default=0)
    elapsed_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "providers_snapshot"  # the table it had in providers/
        ordering = ["-taken_at", "-id"]
        indexes = [models.Index(fields=["provider", "kind", "-taken_at"], name="snapshot_provider_recent")]

    def __str__(self) -> str:
        return f"{self.provider} {self.kind} at {self.taken_at:%Y-%m-%d %H:%M} ({self.changes} changes)"


class PricePoint(models.Model):
    """From `at` on (until the next point of the series) the offer cost `cost` with `count` in stock.

    `cost` is NULL when the offer disappeared. `detail` holds the Free Price map of top-country rows.
    """

    id = models.BigAutoField(primary_key=True)
    # No database constraints on these two: one service writes the rows, in the transaction that
    # creates their snapshot, and 200,000 deferred FK checks would cost more than the COPY itself.
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="points", db_constraint=False
    )
    kind = models.CharField(max_length=1, choices=PriceKind.choices)
    country = models.IntegerField()
    service = models.CharField(max_length=32)
    at = models.DateTimeField()
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    count = models.IntegerField(default=0)
    detail = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "providers_pricepoint"  # the table it had in providers/
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["provider", "kind", "service", "country", "at"], name="pricepoint_series"),
        ]

    def __str__(self) -> str:
        return f"{self.service}/{self.country} {self.cost} x{self.count} at {self.at:%Y-%m-%d %H:%M}"


class LatestPrice(models.Model):
    """The current value of every series: what a new snapshot is diffed against, and "cheapest now"."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=1, choices=PriceKind.choices)
    country = models.IntegerField()
    service = models.CharField(max_length=32)
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    count = models.IntegerField(default=0)
    detail = models.JSONField(null=True, blank=True)
    changed_at = models.DateTimeField()

    class Meta:
        db_table = "providers_latestprice"  # the table it had in providers/
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "kind", "country", "service"], name="latestprice_unique_series"
            )
        ]
        indexes = [models.Index(fields=["provider", "kind", "service", "cost"], name="latestprice_cheapest")]

    def __str__(self) -> str:
        return f"{self.service}/{self.country} {self.cost} x{self.count}"


class TeamPriceSettings(models.Model):
    """How often the team's providers are snapshotted; `next_due_at` is claimed by the sweeper."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, related_name="price_settings")
    enabled = models.BooleanField(_("take price snapshots"), default=True)
    interval_minutes = models.PositiveIntegerField(_("minutes between snapshots"), default=60)
    next_due_at = models.DateTimeField(default=timezone.now)
    last_snapshot_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "providers_teampricesettings"  # the table it had in providers/

    def __str__(self) -> str:
        return f"price settings of {self.team}"


class PriceAlert(models.Model):
    """Tell the team when a (service, country) of a key's provider gets cheap or well stocked.

    Every threshold that is set must hold. The alert fires once when its condition starts to hold
    (`firing` becomes true, `fired_at` is recorded, the audit log gets one entry) and re-arms only
    after the condition stopped holding, so an hourly snapshot does not repeat it.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="price_alerts")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="price_alerts")
    service = models.CharField(_("service"), max_length=32)
    country = models.IntegerField(_("country"))
    price_below = models.DecimalField(
        _("price below"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    stock_above = models.PositiveIntegerField(_("stock above"), null=True, blank=True)
    firing = models.BooleanField(default=False)
    fired_at = models.DateTimeField(null=True, blank=True)
    fired_count = models.PositiveIntegerField(default=0)
    last_cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    last_count = models.IntegerField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "providers_pricealert"  # the table it had in providers/
        ordering = ["service", "country"]
        indexes = [models.Index(fields=["team", "firing"], name="pricealert_team_firing")]

    def __str__(self) -> str:
        return f"alert {self.service}/{self.country}"
