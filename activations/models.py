"""Activations (a number bought for one service), the SMS they receive, presets and per-key poll state."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Team
from purchases.models import FAILED, PENDING, UNKNOWN, KeyPollStateBase, Purchase


class ActivationStatus(models.TextChoices):
    PENDING = PENDING, _("Buying…")
    UNKNOWN = UNKNOWN, _("Outcome unknown, checking")
    FAILED = FAILED, _("Not bought")
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


class Activation(Purchase):
    """One number bought for one service. Created as an intent before the upstream call."""

    forward = models.BooleanField(default=False)
    verification = models.BooleanField(default=False)
    max_price = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ActivationStatus.choices, default=ActivationStatus.PENDING
    )
    ready_reported = models.BooleanField(default=False)
    can_get_another_sms = models.BooleanField(default=True)
    bought_at = models.DateTimeField(null=True, blank=True)
    cancel_allowed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    multi_group = models.UUIDField(null=True, blank=True)
    last_code = models.CharField(max_length=200, blank=True)

    class Meta(Purchase.Meta):
        indexes = [
            *Purchase.Meta.indexes,
            models.Index(fields=["team", "service", "-created_at"], name="activation_team_service"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.phone or '…'} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def is_refunded(self) -> bool:
        return self.status in (ActivationStatus.CANCELLED, ActivationStatus.EXPIRED)

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


class KeyPollState(KeyPollStateBase):
    """Per-key worker bookkeeping of the activations' poll cycle."""

    api_key = models.OneToOneField(ApiKey, on_delete=models.CASCADE, related_name="poll_state")
    # Keys polled one getStatus per number: the last activation (pk) asked, where the next cycle goes on.
    status_cursor = models.BigIntegerField(null=True, blank=True)
