"""Rentals (a number rented for hours or days), the SMS they receive, their renewals and per-key poll state."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Team
from purchases.models import FAILED, PENDING, UNKNOWN, KeyPollStateBase, Purchase

# Providers refund a rent cancelled within its first 20 minutes (CANT_CANCEL after that).
CANCEL_WINDOW = timedelta(minutes=20)
MIN_HOURS = 4
MAX_HOURS = 1344


class RentalStatus(models.TextChoices):
    PENDING = PENDING, _("Renting…")
    UNKNOWN = UNKNOWN, _("Outcome unknown, checking")
    FAILED = FAILED, _("Not rented")
    ACTIVE = "active", _("Active")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")


# Rows the board shows: live numbers plus rents whose outcome is still being settled.
BOARD_STATUSES = (RentalStatus.ACTIVE, RentalStatus.PENDING, RentalStatus.UNKNOWN)
CLOSED_STATUSES = (RentalStatus.FAILED, RentalStatus.FINISHED, RentalStatus.CANCELLED)


class Rental(Purchase):
    """One number rented for a while. Created as an intent before the upstream call.

    `cost` is the price of the first rent; `total_cost` everything booked on it since (renewals, refund).
    """

    hours = models.PositiveIntegerField(default=MIN_HOURS)
    total_cost = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    status = models.CharField(max_length=10, choices=RentalStatus.choices, default=RentalStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    # A finished rent re-ordered upstream comes back with a new id: the new row points to the old one.
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reorders"
    )
    last_sms_at = models.DateTimeField(null=True, blank=True)
    # Rentals fed by webhooks are asked for their status less often.
    last_webhook_at = models.DateTimeField(null=True, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)

    # Auto-renew policy: renew `renew_before_hours` before the end by `renew_hours`, within the budget
    # and until the date; `renew_by` is the member whose grants and limits the renewals spend under.
    auto_renew = models.BooleanField(_("auto-renew"), default=False)
    renew_before_hours = models.PositiveIntegerField(_("renew this many hours before the end"), default=1)
    renew_hours = models.PositiveIntegerField(_("renew for hours"), default=24)
    renew_budget = models.DecimalField(
        _("total budget for renewals"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    renew_until = models.DateTimeField(_("keep the number until"), null=True, blank=True)
    renew_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    renew_spent = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    # The renewal claim: the end date a renewal was started for, and how long its worker holds it.
    # Claimed with a conditional UPDATE, so one window is renewed at most once, whatever runs twice.
    renewal_window_end = models.DateTimeField(null=True, blank=True)
    renewing_until = models.DateTimeField(null=True, blank=True)
    # After a refused renewal the sweeper waits until then; MAX_HOURS_EXCEED caps later renewals.
    renew_retry_at = models.DateTimeField(null=True, blank=True)
    renew_max_hours = models.PositiveIntegerField(null=True, blank=True)
    renew_error_code = models.CharField(max_length=60, blank=True)
    renew_error_message = models.CharField(max_length=300, blank=True)
    renew_failed_at = models.DateTimeField(null=True, blank=True)

    tracks_total = True
    ledger_kind = "rent"
    ledger_event = "rent"

    class Meta(Purchase.Meta):
        indexes = [
            *Purchase.Meta.indexes,
            models.Index(fields=["status", "auto_renew", "ends_at"], name="rental_renew_due"),
        ]

    def __str__(self) -> str:
        return f"rent {self.service} {self.phone or '…'} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status == RentalStatus.ACTIVE

    @property
    def is_refunded(self) -> bool:
        return self.status == RentalStatus.CANCELLED

    def expected_net(self) -> Decimal:
        """The first rent plus every renewal made on this row; nothing once cancelled with a refund."""
        if self.is_refunded:
            return Decimal("0")
        renewals = (
            RentalRenewal.objects.filter(status=RenewalStatus.DONE)
            .filter(Q(rental=self, new_rental__isnull=True) | Q(new_rental=self))
            .aggregate(total=Sum("cost"))["total"]
        )
        return (self.cost or Decimal("0")) + (renewals or Decimal("0"))

    @property
    def cancel_deadline(self):
        """Until when a cancel is refunded (the provider counts from the start of the rent)."""
        start = self.started_at or self.created_at
        return start + CANCEL_WINDOW

    @property
    def can_cancel_now(self) -> bool:
        return self.is_live and timezone.now() < self.cancel_deadline

    @property
    def seconds_left(self) -> int | None:
        if self.ends_at is None:
            return None
        return max(0, int((self.ends_at - timezone.now()).total_seconds()))

    @property
    def renewal_in_flight(self) -> bool:
        """A renewal of the current window was started and its outcome is not recorded yet."""
        return self.renewal_window_end is not None and self.renewal_window_end == self.ends_at


class RentalSmsVia(models.TextChoices):
    POLL = "poll", _("Poll")
    WEBHOOK = "webhook", _("Webhook")


class RentalSms(models.Model):
    """One SMS received by a rented number. `fingerprint` makes polls and webhook retries store it once."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    rental = models.ForeignKey(Rental, on_delete=models.CASCADE, related_name="messages")
    phone_from = models.CharField(max_length=64, blank=True)
    text = models.TextField(blank=True)
    service = models.CharField(max_length=16, blank=True)
    code = models.CharField(max_length=32, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=8, choices=RentalSmsVia.choices, default=RentalSmsVia.POLL)
    fingerprint = models.CharField(max_length=64)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rental", "fingerprint"], name="rental_sms_unique_message")
        ]
        indexes = [models.Index(fields=["team", "-id"], name="rental_sms_team_recent")]

    def __str__(self) -> str:
        return f"{self.phone_from}: {self.text[:30]}"


class RenewalStatus(models.TextChoices):
    PENDING = "pending", _("Renewing…")
    UNKNOWN = "unknown", _("Outcome unknown, checking")
    DONE = "done", _("Renewed")
    FAILED = "failed", _("Not renewed")


class RentalRenewal(models.Model):
    """One extension of a rental (by hand or automatic): the intent, written before the upstream call.

    At most one renewal that is not failed exists per rental and window (the end date it extends), so
    a window can never be paid twice, even if two workers race or one dies halfway.
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    rental = models.ForeignKey(Rental, on_delete=models.CASCADE, related_name="renewals")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    auto = models.BooleanField(default=False)
    window_end = models.DateTimeField()
    hours = models.PositiveIntegerField()
    # A finished rent is not extended but re-ordered: the provider answers with a new id.
    reorder = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=RenewalStatus.choices, default=RenewalStatus.PENDING)
    new_ends_at = models.DateTimeField(null=True, blank=True)
    # Set when the provider re-ordered a finished rent under a new id.
    new_rental = models.ForeignKey(
        Rental, null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_from"
    )
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rental", "window_end"],
                condition=~Q(status="failed"),
                name="renewal_once_per_window",
            )
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="renewal_status")]

    def __str__(self) -> str:
        return f"renewal of {self.rental_id} by {self.hours} h ({self.status})"


class RentalPollState(KeyPollStateBase):
    """Per-key worker bookkeeping of the rent poll: its own claim and backoff beside the activations' one."""

    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="rental_poll_state")
