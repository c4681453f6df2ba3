"""Activations (a number bought for one service), the SMS they receive, presets and per-key poll state."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Team


class ActivationStatus(models.TextChoices):
    PENDING = "pending", _("Buying…")
    UNKNOWN = "unknown", _("Outcome unknown, checking")
    FAILED = "failed", _("Not bought")
    WAITING = "waiting", _("Waiting for code")
    CODE_RECEIVED = "code", _("Code received")
    WAIT_RETRY = "retry", _("Waiting for another code")
    FINISHED = "finished", _("Finished")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


LIVE_STATUSES = (ActivationStatus.WAITING, ActivationStatus.CODE_RECEIVED, ActivationStatus.WAIT_RETRY)
# Rows the board shows: live numbers plus purchases whose outcome is still being settled.
BOARD_STATUSES = (*LIVE_STATUSES, ActivationStatus.PENDING, ActivationStatus.UNKNOWN)
CLOSED_STATUSES = (
    ActivationStatus.FAILED,
    ActivationStatus.FINISHED,
    ActivationStatus.CANCELLED,
    ActivationStatus.EXPIRED,
)


class Activation(models.Model):
    """One number bought for one service. Created as an intent before the upstream call."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="activations")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="activations")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # Idempotency: the buy form carries a token, so a double click cannot buy twice.
    request_token = models.UUIDField(null=True, blank=True)
    # NULL until the provider answers; unique per key once known.
    upstream_id = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001
    phone = models.CharField(max_length=32, blank=True)
    service = models.CharField(max_length=16)
    country = models.IntegerField(null=True, blank=True)
    operator = models.CharField(max_length=60, blank=True)
    forward = models.BooleanField(default=False)
    verification = models.BooleanField(default=False)
    max_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3)
    status = models.CharField(
        max_length=10, choices=ActivationStatus.choices, default=ActivationStatus.PENDING
    )
    ready_reported = models.BooleanField(default=False)
    can_get_another_sms = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    bought_at = models.DateTimeField(null=True, blank=True)
    cancel_allowed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=60, blank=True)
    error_message = models.CharField(max_length=300, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    multi_group = models.UUIDField(null=True, blank=True)
    last_code = models.CharField(max_length=200, blank=True)
    sms_count = models.PositiveIntegerField(default=0)
    # Bumped on every change: the live board's "anything new?" check reads only this.
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "upstream_id"],
                condition=Q(upstream_id__isnull=False),
                name="activation_unique_upstream_id",
            ),
            models.UniqueConstraint(
                fields=["team", "request_token"],
                condition=Q(request_token__isnull=False),
                name="activation_unique_request_token",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at", "-id"], name="activation_team_recent"),
            models.Index(fields=["team", "status"], name="activation_team_status"),
            models.Index(fields=["api_key", "status"], name="activation_key_status"),
            models.Index(fields=["team", "updated_at"], name="activation_team_updated"),
            models.Index(fields=["team", "service", "-created_at"], name="activation_team_service"),
            models.Index(fields=["team", "phone"], name="activation_team_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.phone or '…'} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def can_cancel_now(self) -> bool:
        return self.status == ActivationStatus.WAITING and (
            self.cancel_allowed_at is None or self.cancel_allowed_at <= timezone.now()
        )

    @property
    def can_report_ready(self) -> bool:
        return self.status == ActivationStatus.WAITING and not self.ready_reported

    @property
    def can_request_another(self) -> bool:
        return self.status == ActivationStatus.CODE_RECEIVED and self.can_get_another_sms

    @property
    def can_finish(self) -> bool:
        return self.status in (ActivationStatus.CODE_RECEIVED, ActivationStatus.WAIT_RETRY)


class SmsVia(models.TextChoices):
    POLL = "poll", _("Poll")
    WEBHOOK = "webhook", _("Webhook")


class Sms(models.Model):
    """A code (and its text where the provider gives it) received by an activation."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="messages")
    code = models.CharField(max_length=200)
    text = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=8, choices=SmsVia.choices, default=SmsVia.POLL)

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [models.UniqueConstraint(fields=["activation", "code"], name="sms_unique_code")]

    def __str__(self) -> str:
        return self.code


class Preset(models.Model):
    """A favourite purchase (service, country, operator, max price) for one-click repeat buys."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="presets")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="presets")
    name = models.CharField(max_length=80)
    service = models.CharField(max_length=16)
    country = models.IntegerField()
    operator = models.CharField(max_length=60, blank=True)
    max_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KeyPollState(models.Model):
    """Per-key worker bookkeeping: the lock that keeps poll cycles from overlapping, and the backoff."""

    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="poll_state")
    locked_until = models.DateTimeField(null=True, blank=True)
    backoff_until = models.DateTimeField(null=True, blank=True)
    failures = models.PositiveIntegerField(default=0)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"poll state of {self.api_key_id}"
