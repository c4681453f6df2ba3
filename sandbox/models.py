"""The sandbox provider's own tables: accounts, the catalog, numbers, messages, webhooks, the ledger.

Nothing here is shared with the dashboard's apps: the sandbox stands in for a remote provider.
"""

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

RATE_VALIDATORS = [MinValueValidator(0.0), MaxValueValidator(1.0)]

RUB = 643
USD = 840


def new_key() -> str:
    """A random 32-character API key, like the real provider issues."""
    return secrets.token_hex(16)


class Dialect(models.TextChoices):
    CLASSIC = "classic", "SMS-Activate (classic)"
    HERO = "hero", "HeroSMS"


class Account(models.Model):
    """A customer of the sandbox provider: a key, a balance, the clock settings and the faults."""

    # Stored in clear on purpose: the provider has to show the key again (`--if-missing`, the admin).
    key = models.CharField(max_length=32, unique=True, default=new_key)
    label = models.CharField(max_length=60, unique=True, null=True, blank=True)
    balance = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    cashback = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    currency = models.PositiveSmallIntegerField(choices=[(RUB, "RUB"), (USD, "USD")], default=RUB)
    dialect = models.CharField(max_length=10, choices=Dialect.choices, default=Dialect.CLASSIC)
    # Like SMSBower: getTopCountriesByService keyed by country slug, then partner id.
    top_countries_by_slug = models.BooleanField(default=False)
    webhook_url = models.URLField(max_length=500, blank=True)

    cancel_lock_seconds = models.PositiveIntegerField(default=120)
    lifetime_seconds = models.PositiveIntegerField(default=1200)
    sms_delay_min = models.PositiveIntegerField(default=5)
    sms_delay_max = models.PositiveIntegerField(default=40)
    no_code_share = models.FloatField(default=0.1, validators=RATE_VALIDATORS)
    rent_cancel_seconds = models.PositiveIntegerField(default=1200)

    latency_ms = models.PositiveIntegerField(default=0)
    timeout_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    http5xx_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    html_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    error_sql_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    truncated_json_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    rate_limit_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    fault_after_commit_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    damaged_row_rate = models.FloatField(default=0.0, validators=RATE_VALIDATORS)
    # Comma-separated action names the fault rates apply to; empty: every action.
    fault_actions = models.CharField(max_length=300, blank=True)
    banned_until = models.DateTimeField(null=True, blank=True)
    # Like SMSBower: getActiveActivations and getNumbersStatus answer BAD_ACTION (clients poll getStatus).
    no_active_list = models.BooleanField(default=False)
    # Comma-separated service codes this account has no numbers for ("*": none at all), as one provider runs
    # out while another still sells: its price lists show no stock and its purchases answer NO_NUMBERS.
    sold_out = models.CharField(max_length=300, blank=True)

    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.label or f"account …{self.key[-4:]}"

    @property
    def is_hero(self) -> bool:
        return self.dialect == Dialect.HERO

    def sells(self, service_code: str) -> bool:
        """False for a service this account is out of (`sold_out`)."""
        codes = {code.strip().lower() for code in self.sold_out.split(",") if code.strip()}
        return not ("*" in codes or service_code.lower() in codes)


class Counter(models.Model):
    """Monotonic id sources (activations, rentals, calls, SMS) shared by every process."""

    name = models.CharField(max_length=20, primary_key=True)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class Country(models.Model):
    """A country as the real provider numbers them (0 Russia, 1 Ukraine, 187 USA, …)."""

    id = models.IntegerField(primary_key=True)
    rus = models.CharField(max_length=60)
    eng = models.CharField(max_length=60)
    chn = models.CharField(max_length=60)
    visible = models.BooleanField(default=True)
    retry = models.BooleanField(default=True)
    rent = models.BooleanField(default=False)
    multi_service = models.BooleanField(default=False)
    phone_code = models.CharField(max_length=4)
    # First digits of mobile numbers after the country code, and the national number's length.
    phone_prefixes = models.JSONField(default=list)
    phone_length = models.PositiveSmallIntegerField(default=10)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return f"{self.id} {self.eng}"


class Operator(models.Model):
    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="operators")
    name = models.CharField(max_length=30)

    class Meta:
        ordering = ["country_id", "name"]
        constraints = [models.UniqueConstraint(fields=["country", "name"], name="sandbox_operator_unique")]

    def __str__(self) -> str:
        return f"{self.country_id}:{self.name}"


class Service(models.Model):
    code = models.CharField(max_length=4, primary_key=True)
    name = models.CharField(max_length=60)
    rent_only = models.BooleanField(default=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Price(models.Model):
    """Base price and stock of a (country, service, forward) offer; the live values drift with time."""

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="prices")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="prices")
    forward = models.BooleanField(default=False)
    verification = models.BooleanField(default=False)
    base_cost = models.DecimalField(max_digits=10, decimal_places=2)
    base_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["country_id", "service_id", "forward"]
        constraints = [
            models.UniqueConstraint(fields=["country", "service", "forward"], name="sandbox_price_unique")
        ]

    def __str__(self) -> str:
        return f"{self.country_id}/{self.service_id}/{int(self.forward)} {self.base_cost}"


class ActivationStatus(models.TextChoices):
    WAIT_CODE = "wait_code", "waiting for a code"
    WAIT_RETRY = "wait_retry", "waiting for another code"
    CODE_RECEIVED = "code_received", "code received"
    FINISHED = "finished", "finished"
    CANCELLED = "cancelled", "cancelled"


ACTIVE_STATUSES = (ActivationStatus.WAIT_CODE, ActivationStatus.WAIT_RETRY, ActivationStatus.CODE_RECEIVED)


class Activation(models.Model):
    """A number bought for one service; its state advances with the clock (see services.advance)."""

    class Kind(models.TextChoices):
        NUMBER = "number", "getNumber"
        MULTI = "multi", "multi-service"
        ADDITIONAL = "additional", "additional service"
        EXTRA = "extra", "extra activation"

    id = models.BigIntegerField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activations")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.NUMBER)
    phone = models.CharField(max_length=20)
    service = models.ForeignKey(Service, on_delete=models.PROTECT)
    country = models.ForeignKey(Country, on_delete=models.PROTECT)
    operator = models.CharField(max_length=30)
    cost = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.PositiveSmallIntegerField(default=RUB)
    forward = models.BooleanField(default=False)
    forward_phone = models.CharField(max_length=20, blank=True)
    verification = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=ActivationStatus.choices, default=ActivationStatus.WAIT_CODE
    )
    ready = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    # None: no code is coming (a share of numbers never gets one, and none after the last).
    code_due_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    expired = models.BooleanField(default=False)
    sms = models.JSONField(default=list, blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    multi_group = models.BigIntegerField(null=True, blank=True)
    call_from = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "code_due_at"], name="sandbox_act_due"),
            models.Index(fields=["status", "expires_at"], name="sandbox_act_expiry"),
            models.Index(fields=["account", "created_at"], name="sandbox_act_history"),
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.service_id} {self.phone} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def last_code(self) -> str:
        return self.sms[-1]["code"] if self.sms else ""


class RentalStatus(models.TextChoices):
    ACTIVE = "active", "active"
    FINISHED = "finished", "finished"
    CANCELLED = "cancelled", "cancelled"


class Rental(models.Model):
    """A number rented for hours; messages arrive over time until ends_at."""

    id = models.BigIntegerField(primary_key=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="rentals")
    phone = models.CharField(max_length=20)
    service = models.ForeignKey(Service, on_delete=models.PROTECT)
    country = models.ForeignKey(Country, on_delete=models.PROTECT)
    operator = models.CharField(max_length=30)
    started_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField()
    # The number's own life: no rent (or re-order) of this number may reach past it.
    max_ends_at = models.DateTimeField()
    hours = models.PositiveIntegerField()
    cost = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.PositiveSmallIntegerField(default=RUB)
    status = models.CharField(max_length=10, choices=RentalStatus.choices, default=RentalStatus.ACTIVE)
    closed_at = models.DateTimeField(null=True, blank=True)
    url = models.URLField(max_length=500, blank=True)
    next_sms_at = models.DateTimeField(null=True, blank=True)
    renewed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "ends_at"], name="sandbox_rent_end"),
            models.Index(fields=["status", "next_sms_at"], name="sandbox_rent_sms"),
        ]

    def __str__(self) -> str:
        return f"rent {self.id} {self.phone} {self.status}"


class RentMessage(models.Model):
    rental = models.ForeignKey(Rental, on_delete=models.CASCADE, related_name="messages")
    phone_from = models.CharField(max_length=30)
    text = models.TextField()
    service = models.CharField(max_length=4)
    date = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self) -> str:
        return f"{self.phone_from}: {self.text[:30]}"


class OutgoingCall(models.Model):
    """A call ordered with createTaskForCall from an activation's number."""

    id = models.BigIntegerField(primary_key=True)
    activation = models.ForeignKey(Activation, on_delete=models.CASCADE, related_name="calls")
    phone_to = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"call {self.id}"


class WebhookDelivery(models.Model):
    """One webhook POST, retried with backoff until it gets HTTP 200 or runs out of attempts."""

    url = models.URLField(max_length=500)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["next_attempt_at"], name="sandbox_hook_due")]

    def __str__(self) -> str:
        return f"webhook {self.id} -> {self.url}"


class Transaction(models.Model):
    """The account's ledger: every purchase, refund and top-up with the balance after it."""

    class Kind(models.TextChoices):
        TOPUP = "topup", "top-up"
        PURCHASE = "purchase", "purchase"
        REFUND = "refund", "refund"
        RENT = "rent", "rent"
        RENT_EXTEND = "rent_extend", "rent extension"
        RENT_REFUND = "rent_refund", "rent refund"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    balance_after = models.DecimalField(max_digits=14, decimal_places=4)
    activation_id = models.BigIntegerField(null=True, blank=True)
    rental_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"
