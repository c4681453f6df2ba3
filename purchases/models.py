"""What every purchase shares, whatever it buys: the abstract row that activations and rentals extend.

A purchase row is written as an intent before the upstream call (`pending`), becomes `unknown` when
the answer was lost, `failed` when the provider definitely refused, and otherwise takes the feature's
own live and closed states. The money fields follow one rule: `cost` is what the provider charged
once `price_confirmed`, an estimate before that, and `None` while the price is not known at all.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Team

# The states every purchase passes through before the feature's own ones (same values in every app).
PENDING = "pending"
UNKNOWN = "unknown"
FAILED = "failed"
UNSETTLED = (PENDING, UNKNOWN)
# The error code of a lost purchase that several upstream numbers could be.
AMBIGUOUS = "AMBIGUOUS"
# An error message is a stored phrase (`kit.phrases`: compact JSON fitted to this length when written).
ERROR_MESSAGE_LENGTH = 300


class Purchase(models.Model):
    """The shared fields, constraints and indexes of a team's purchase at a provider."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="%(class)ss")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="%(class)ss")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Idempotency: the form carries a token, so a double click cannot buy twice.
    request_token = models.UUIDField(null=True, blank=True)
    # NULL until the provider answers; unique per key once known.
    upstream_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    phone = models.CharField(max_length=32, blank=True)
    service = models.CharField(max_length=16)
    country = models.IntegerField(null=True, blank=True)
    operator = models.CharField(max_length=60, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    # True once `cost` is what the provider charged (its answer or its own records), not an estimate.
    price_confirmed = models.BooleanField(default=False)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=ERROR_MESSAGE_LENGTH, blank=True)
    sms_count = models.PositiveIntegerField(default=0)
    # A lost purchase several upstream numbers could be: what the provider listed for each, for an admin to choose.
    candidates = models.JSONField(default=list, blank=True)
    # Bumped on every change: the live board's "anything new?" check reads only this.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)
    # Where the purchase came from when not the browser (`gateway:<public_id>` of a gateway key): that
    # source's own daily budget counts its purchases (`purchases.services.Via`). Empty for the browser.
    via = models.CharField(max_length=60, blank=True, db_index=True)
    # Bought through a route: the route (its rule picked `api_key`, the upstream that sold or refused).
    route = models.ForeignKey(
        "purchases.Route", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "upstream_id"],
                condition=Q(upstream_id__isnull=False),
                name="%(class)s_unique_upstream_id",
            ),
            models.UniqueConstraint(
                fields=["team", "request_token"],
                condition=Q(request_token__isnull=False),
                name="%(class)s_unique_request_token",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="%(class)s_team_recent"),
            models.Index(fields=["team", "status"], name="%(class)s_team_status"),
            models.Index(fields=["api_key", "status"], name="%(class)s_key_status"),
            models.Index(fields=["team", "updated_at"], name="%(class)s_team_updated"),
            models.Index(fields=["team", "phone"], name="%(class)s_team_phone"),
        ]

    # Rentals keep a running `total_cost` of everything booked on them; the ledger updates it.
    tracks_total = False
    # The ledger row that books the purchase itself: its kind and its event name.
    ledger_kind = "purchase"
    ledger_event = "purchase"

    @property
    def is_refunded(self) -> bool:
        """Closed with the provider giving the money back (each feature names its refunded states)."""
        return False

    def expected_net(self) -> Decimal:
        """What the ledger rows of this purchase must add up to, now that its price is known."""
        return Decimal("0") if self.is_refunded else (self.cost or Decimal("0"))

    @property
    def awaits_choice(self) -> bool:
        """A lost purchase that only an admin can match to one of its candidate numbers."""
        return self.status == UNKNOWN and self.error_code == AMBIGUOUS and bool(self.candidates)

    @property
    def price_pending(self) -> bool:
        """Bought (or maybe bought) while the provider has not told the price yet."""
        return self.cost is None and self.status != FAILED


class KeyPollStateBase(models.Model):
    """Per-key worker bookkeeping of one poll: the claim that keeps cycles from overlapping, and the backoff."""

    locked_until = models.DateTimeField(null=True, blank=True)
    # A sweep sent this key's task and no worker has taken it yet: the next sweeps send none (until then).
    queued_until = models.DateTimeField(null=True, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{type(self).__name__} of key {self.api_key_id}"


class RouteRule(models.TextChoices):
    """How a route ranks its keys for one purchase."""

    PRICE = "price", _("Lowest current price with stock")
    SUCCESS = "success", _("The team's own success rate")
    PRIORITY = "priority", _("Fixed order")


class Route(models.Model):
    """A ranked set of the team's keys, possibly at different providers: a purchase through it goes to the
    key its rule ranks first, and on to the next only after a definite refusal (`purchases.routing`)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="routes")
    name = models.CharField(_("name"), max_length=80)
    rule = models.CharField(_("rule"), max_length=10, choices=RouteRule.choices, default=RouteRule.PRICE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["team", "name"], name="route_unique_name")]

    def __str__(self) -> str:
        return self.name


class RouteKey(models.Model):
    """One key of a route at its place in the fixed order (the first also ranks first among equals)."""

    route = models.ForeignKey(Route, on_delete=models.CASCADE, related_name="steps")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="route_steps")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["route", "api_key"], name="routekey_unique_key")]

    def __str__(self) -> str:
        return f"{self.route_id}#{self.position}: key {self.api_key_id}"
