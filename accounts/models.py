"""Users, teams, memberships and roles, provider API keys, invites, the audit log and the ledger."""

import uuid
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kit.phrases import Phrase, phrase_from


def validate_time_zone(value: str) -> None:
    """An IANA time zone name this machine knows (`zoneinfo`), such as "Europe/Moscow"."""
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone."), params={"value": value})


class User(AbstractUser):
    """A person who logs in to simdesk; team membership and roles hang off it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Blank: the browser's language (Accept-Language), then LANGUAGE_CODE.
    language = models.CharField(_("language"), max_length=10, blank=True, choices=settings.LANGUAGES)
    # Blank: the time zone of the team whose page is open (times elsewhere in UTC).
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True, validators=[validate_time_zone])


class Team(models.Model):
    """A group of people sharing provider accounts; every team-owned row points here."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Cancel activations that got no code after this many minutes (0 = never); used by the workers.
    auto_cancel_minutes = models.PositiveIntegerField(
        _("auto-cancel after minutes without a code"), default=0
    )
    # Where the team's day starts (daily limits, key budgets, "spent today") and the time zone its
    # members see unless they chose their own.
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="UTC", validators=[validate_time_zone]
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The team's time zone; UTC if the stored name is unknown to this machine."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    OPERATOR = "operator", _("Operator")
    VIEWER = "viewer", _("Viewer")


class Membership(models.Model):
    """A user's place in a team: the role and the personal daily spend limit."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.OPERATOR)
    daily_spend_limit = models.DecimalField(
        _("daily spend limit"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user")]
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER

    @property
    def can_manage_members(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_manage_keys(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_view_audit(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)

    @property
    def can_buy(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN, Role.OPERATOR)


def _invite_expiry():
    return timezone.now() + timedelta(days=7)


class Invite(models.Model):
    """A single-use, expiring link that adds its holder to a team; only a hash of the token is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invites")
    token_hash = models.CharField(max_length=64, unique=True)
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.OPERATOR)
    email = models.EmailField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=_invite_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self) -> str:
        return f"Invite to {self.team} as {self.role}"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DISABLED = "disabled", _("Disabled")
    ARCHIVED = "archived", _("Archived")


class KeyHealth(models.TextChoices):
    UNKNOWN = "unknown", _("Not checked yet")
    OK = "ok", _("OK")
    INVALID = "invalid", _("Invalid key")
    BANNED = "banned", _("Banned")
    UNREACHABLE = "unreachable", _("Unreachable")


class ApiKey(models.Model):
    """A team's account at a provider. The secret is encrypted at rest and never shown again."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="api_keys")
    label = models.CharField(_("label"), max_length=80)
    profile = models.CharField(_("provider"), max_length=40)
    base_url = models.URLField(_("base URL"), blank=True, help_text=_("Only for a custom provider."))
    secret_encrypted = models.TextField(editable=False)
    secret_last4 = models.CharField(max_length=4, editable=False)
    # Keyed hash of the secret (`accounts.crypto.secret_digest`): a secret entered twice is found without
    # decrypting every key. Empty where unknown (a key stored before it existed repeating an older key's secret).
    secret_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    status = models.CharField(max_length=10, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    health = models.CharField(max_length=12, choices=KeyHealth.choices, default=KeyHealth.UNKNOWN)
    health_message = models.CharField(max_length=200, blank=True)
    banned_until = models.DateTimeField(null=True, blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    balance = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    cashback = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, default="RUB")
    balance_updated_at = models.DateTimeField(null=True, blank=True)
    # Grants: by default every operator of the team may use the key; else only the chosen members.
    restrict_to_members = models.BooleanField(_("only chosen members may use this key"), default=False)
    allowed_members = models.ManyToManyField(Membership, blank=True, related_name="granted_keys")
    daily_budget = models.DecimalField(
        _("daily budget"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    max_price = models.DecimalField(
        _("maximum price per purchase"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    # Secret part of this key's webhook URL, so a provider's callbacks can be told apart and trusted.
    webhook_token = models.CharField(max_length=64, unique=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["label"]
        indexes = [models.Index(fields=["team", "status"])]
        constraints = [
            # One live key per secret in a team: the same account counted twice doubles its balance.
            # Archived keys keep their history and do not count, nor do keys without a digest.
            models.UniqueConstraint(
                fields=["team", "secret_digest"],
                condition=~models.Q(status="archived") & ~models.Q(secret_digest=""),
                name="apikey_unique_live_secret_per_team",
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} (••••{self.secret_last4})"

    def __repr__(self) -> str:
        return f"<ApiKey {self.public_id} {self.label!r} ••••{self.secret_last4}>"

    @property
    def masked(self) -> str:
        return f"••••{self.secret_last4}"

    @property
    def is_usable(self) -> bool:
        return self.status == KeyStatus.ACTIVE


class AuditEntry(models.Model):
    """Who did what, when, with which key and how much money: every change and every money move."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=60)
    api_key = models.ForeignKey(ApiKey, null=True, blank=True, on_delete=models.SET_NULL)
    amount = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    summary = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The log's order and keyset (kit.cursor): a page is one range of this index.
            models.Index(fields=["team", "-created_at", "-id"], name="auditentry_team_recent"),
            models.Index(fields=["team", "action"]),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}: {self.summary_phrase}"

    @property
    def summary_phrase(self) -> Phrase:
        """The summary to say in the reader's language (`kit.phrases.phrase_text`): the msgid in `summary`,
        its parameters in `details["phrase"]`; an entry written before phrases is its plain text."""
        rest = self.details.get("phrase") if isinstance(self.details, dict) else None
        return phrase_from(self.summary, rest if isinstance(rest, dict) else None)


class LedgerKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    REFUND = "refund", _("Refund")
    RENT = "rent", _("Rent")
    RENEWAL = "renewal", _("Renewal")
    # The provider's own record showed a different price than the one booked: the difference.
    CORRECTION = "correction", _("Correction")


class LedgerEntry(models.Model):
    """One money movement at a provider. `amount` is positive when spent, negative when refunded."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ledger_entries")
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="ledger_entries")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    kind = models.CharField(max_length=10, choices=LedgerKind.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=4)
    currency = models.CharField(max_length=3)
    balance_after = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text=_("Upstream activation or rent id."))
    # The purchase this money belongs to (`activation:12`, `rental:7`): its rows add up to what it cost.
    purchase_ref = models.CharField(max_length=40, blank=True, db_index=True)
    # One ledger row per money event: a replayed webhook or poll cannot book it twice.
    event_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["team", "-created_at"]),
            models.Index(fields=["api_key", "created_at"]),
            models.Index(fields=["member", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency} ({self.reference})"
