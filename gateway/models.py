"""Gateway keys: the keys the team's own scripts use to speak the provider protocol to simdesk.

A gateway key is shown once when it is made and stored only as a keyed digest (`secret_digest`, as the
provider keys' duplicate check does) with its first characters for recognising it; it acts as one member
of one team, through one upstream key, within its own limits.
"""

import uuid
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Membership, Team
from purchases.models import Route
from purchases.routing import reference_key


class GatewayKey(models.Model):
    """One script's key to simdesk's `/stubs/handler_api.php`, bound to a team, an upstream key and a member."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="gateway_keys")
    label = models.CharField(_("label"), max_length=80)
    # The first characters of the key, shown to tell keys apart; the key itself is never stored.
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # One upstream key, or a route across several (`purchases.routing`): exactly one of the two (neither
    # only for a revoked key whose route was deleted since).
    api_key = models.ForeignKey(
        ApiKey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="gateway_keys",
        verbose_name=_("upstream key"),
    )
    # A route is deleted only when no active key uses it; a revoked key keeps its history without it.
    route = models.ForeignKey(
        Route,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="gateway_keys",
        verbose_name=_("route"),
    )
    # Purchases count against this member's daily limit and are recorded as theirs. A member who leaves the
    # team leaves the key in the list (and its history) but stops it: it acts for nobody.
    member = models.ForeignKey(
        Membership,
        on_delete=models.SET_NULL,
        null=True,
        related_name="gateway_keys",
        verbose_name=_("acts as"),
    )
    daily_budget = models.DecimalField(
        _("daily budget"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    max_price = models.DecimalField(
        _("max price per purchase"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    # Empty: every service / country the upstream sells.
    services = models.JSONField(_("allowed services"), default=list, blank=True)
    countries = models.JSONField(_("allowed countries"), default=list, blank=True)
    read_only = models.BooleanField(_("read only"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["label"]
        indexes = [models.Index(fields=["team", "revoked_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(api_key__isnull=False, route__isnull=True)
                | Q(api_key__isnull=True, route__isnull=False)
                | Q(api_key__isnull=True, revoked_at__isnull=False),
                name="gatewaykey_one_upstream",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    @cached_property
    def upstream(self) -> ApiKey | None:
        """The key whose provider the script speaks to: the bound key, or the route's first key (its codes
        and dialect are the route's own). None for a route left without keys."""
        return self.api_key if self.route_id is None else reference_key(self.route)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.member_id is not None
