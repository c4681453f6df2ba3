"""Writes that need the provider: adding and rotating keys (checked upstream first), balances and health."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext_lazy
from django.views.decorators.debug import sensitive_variables

from accounts.crypto import encrypt_secret, secret_digest, secret_digests
from accounts.models import ApiKey, KeyHealth, KeyStatus, Membership, Team
from accounts.services import ActionRefused, audit_record
from kit.boards import board_changed
from kit.phrases import Phrase, phrase, phrase_text
from providers import errors
from providers.keys import client_for_key, client_for_secret
from providers.models import BalanceSample
from providers.profiles import get_profile

HEALTH_MESSAGE_LENGTH = ApiKey._meta.get_field("health_message").max_length or 200
# Balances are stored to four decimals, as the providers answer them.
BALANCE_QUANT = Decimal("0.0001")


@dataclass(frozen=True)
class KeyCheck:
    balance: Decimal
    currency: str
    cashback: Decimal | None


class DuplicateKey(ActionRefused):
    """The secret is already a live key of the team: `existing` is that key, for a link to it. The message
    names the key by its label only."""

    def __init__(self, existing: ApiKey):
        super().__init__(_("This key is already in the team as “%s”.") % existing.label)
        self.existing = existing


def _same_secret(*, team: Team, secret: str, other_than: ApiKey | None = None) -> ApiKey | None:
    """The team's live (not archived) key holding `secret`, found by its digest; keys of other teams are
    never looked at."""
    keys = ApiKey.objects.filter(team=team, secret_digest__in=secret_digests(secret)).exclude(
        status=KeyStatus.ARCHIVED
    )
    if other_than is not None:
        keys = keys.exclude(pk=other_than.pk)
    return keys.order_by("pk").first()


def _refuse_duplicate(*, team: Team, secret: str, other_than: ApiKey | None = None) -> None:
    existing = _same_secret(team=team, secret=secret, other_than=other_than)
    if existing is not None:
        raise DuplicateKey(existing)


def _describe_phrase(exc: errors.ProviderError) -> Phrase:
    # What a key's health message says, kept untranslated (the key list says it in each reader's language).
    if isinstance(exc, errors.BadKey):
        return phrase(
            gettext_noop("The provider rejected this API key (BAD_KEY). Check that you copied it completely.")
        )
    if isinstance(exc, errors.Banned):
        return phrase(gettext_noop("The provider has banned this account."))
    if isinstance(exc, errors.UpstreamUnavailable | errors.ProtocolError):
        # One wording for every failure to reach, so the form tells nobody what answers on an address.
        return phrase(
            gettext_noop(
                "No SMS-activation provider answered at this address. Check the base URL, or try again later."
            )
        )
    return phrase(gettext_noop("The provider answered with an error: %(code)s"), code=exc.code)


def _describe(exc: errors.ProviderError) -> str:
    return phrase_text(_describe_phrase(exc))


@sensitive_variables("secret", "client")
def _check_secret(*, profile_slug: str, secret: str, base_url: str) -> KeyCheck:
    """getBalance with the candidate secret; raises ActionRefused with a clear message on any failure."""
    profile = get_profile(profile_slug)
    try:
        client = client_for_secret(profile_slug=profile_slug, secret=secret, base_url=base_url)
    except ValueError:  # a base URL the client cannot speak to (not http or https)
        raise ActionRefused(_("The base URL must start with http:// or https://.")) from None
    try:
        balance = client.get_balance()
    except errors.ProviderError as exc:
        raise ActionRefused(_describe(exc)) from None
    cashback = None
    if profile.supports_action("getBalanceAndCashBack"):
        try:
            cashback = client.get_balance_and_cashback().amount - balance.amount
        except errors.ProviderError:
            cashback = None  # optional extra; the key itself is fine
    return KeyCheck(balance=balance.amount, currency=balance.currency or profile.currency, cashback=cashback)


@sensitive_variables("secret")
def api_key_create(*, membership: Membership, label: str, profile: str, base_url: str, secret: str) -> ApiKey:
    """Check the secret with getBalance, then store it encrypted. Nothing is saved if the check fails."""
    if not membership.can_manage_keys:
        raise ActionRefused(_("Only owners and admins can add keys."))
    secret = secret.strip()
    profile_obj = get_profile(profile)
    if profile_obj.slug == "custom" and not base_url:
        raise ActionRefused(_("A custom provider needs its base URL."))
    # Refused before the provider is asked: a second copy of a key would count its balance twice.
    _refuse_duplicate(team=membership.team, secret=secret)
    check = _check_secret(profile_slug=profile, secret=secret, base_url=base_url)
    now = timezone.now()
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                team=membership.team,
                label=label.strip(),
                profile=profile,
                base_url=base_url if profile_obj.slug == "custom" else "",
                secret_encrypted=encrypt_secret(secret),
                secret_last4=secret[-4:],
                secret_digest=secret_digest(secret),
                currency=check.currency,
                balance=check.balance,
                cashback=check.cashback,
                balance_updated_at=now,
                health=KeyHealth.OK,
                health_checked_at=now,
            )
            # The balance the check just read is the key's first point on the balance chart.
            balance_sample_record(api_key=api_key)
            audit_record(
                team=membership.team,
                actor=membership.user,
                action="key.add",
                api_key=api_key,
                summary=phrase(
                    gettext_noop("Added key %(label)s (%(provider)s)"),
                    label=api_key.label,
                    provider=profile_obj.name,
                ),
            )
    except IntegrityError:
        # The same secret was added at the same moment by someone else: the constraint caught it.
        _refuse_duplicate(team=membership.team, secret=secret)
        raise
    return api_key


@sensitive_variables("secret")
def api_key_rotate_secret(*, membership: Membership, api_key: ApiKey, secret: str) -> ApiKey:
    """Replace the stored secret with a new one, checked upstream first."""
    if not membership.can_manage_keys:
        raise ActionRefused(_("Only owners and admins can change keys."))
    secret = secret.strip()
    _refuse_duplicate(team=api_key.team, secret=secret, other_than=api_key)
    check = _check_secret(profile_slug=api_key.profile, secret=secret, base_url=api_key.base_url)
    try:
        with transaction.atomic():
            api_key.secret_encrypted = encrypt_secret(secret)
            api_key.secret_last4 = secret[-4:]
            api_key.secret_digest = secret_digest(secret)
            api_key.balance, api_key.cashback = check.balance, check.cashback
            api_key.currency = check.currency
            api_key.balance_updated_at = api_key.health_checked_at = timezone.now()
            api_key.health, api_key.health_message, api_key.banned_until = KeyHealth.OK, "", None
            api_key.save()
            balance_sample_record(api_key=api_key)
            audit_record(
                team=api_key.team,
                actor=membership.user,
                action="key.rotate",
                api_key=api_key,
                summary=phrase(gettext_noop("Re-entered the secret of key %(label)s"), label=api_key.label),
            )
    except IntegrityError:
        api_key.refresh_from_db()
        _refuse_duplicate(team=api_key.team, secret=secret, other_than=api_key)
        raise
    return api_key


# How fresh "health checked at" is kept while a key's health does not change.
HEALTH_RECHECK = timedelta(minutes=1)


def api_key_mark_health(*, api_key: ApiKey, exc: errors.ProviderError | None, damaged: int = 0) -> None:
    """Record the key's health from the outcome of an upstream call; BAD_KEY and BANNED tell the team.

    `damaged` counts the rows of a list answer the provider sent that could not be read in full: the key
    stays healthy, and its health message says so until a clean answer.
    """
    now = timezone.now()
    previous = api_key.health
    if exc is None:
        health, until = KeyHealth.OK, None
        message = (
            phrase(
                ngettext_lazy(
                    "The provider's last list had %(n)d row that could not be read in full.",
                    "The provider's last list had %(n)d rows that could not be read in full.",
                    "n",
                ),
                n=damaged,
            )
            if damaged
            else None
        )
    elif isinstance(exc, errors.BadKey):
        health, message, until = KeyHealth.INVALID, _describe_phrase(exc), None
    elif isinstance(exc, errors.Banned):
        health, message, until = KeyHealth.BANNED, _describe_phrase(exc), exc.until
    elif isinstance(
        exc, errors.UpstreamUnavailable | errors.ProtocolError | errors.RateLimited | errors.ErrorSql
    ):
        health, message, until = KeyHealth.UNREACHABLE, _describe_phrase(exc), api_key.banned_until
    else:
        return
    # Stored untranslated (a worker has no reader); the key's pages say it in the reader's language.
    stored = message.stored(HEALTH_MESSAGE_LENGTH) if message else ""
    unchanged = (health, stored, until) == (api_key.health, api_key.health_message, api_key.banned_until)
    checked = api_key.health_checked_at
    if unchanged and checked is not None and now - checked < HEALTH_RECHECK:
        # Every poll cycle ends here: a key whose health stands is written again once a minute, not per cycle.
        return
    ApiKey.objects.filter(pk=api_key.pk).update(
        health=health, health_message=stored, banned_until=until, health_checked_at=now
    )
    if not unchanged:
        board_changed(api_key.team_id)
    api_key.health, api_key.health_message, api_key.banned_until = health, stored, until
    if health != previous and health in (KeyHealth.INVALID, KeyHealth.BANNED):
        audit_record(
            team=api_key.team,
            actor=None,
            action=f"key.{health}",
            api_key=api_key,
            summary=phrase(gettext_noop("Key %(label)s: %(message)s"), label=api_key.label, message=message),
        )


def api_key_refresh_balance(*, api_key: ApiKey) -> ApiKey:
    """Fetch the balance (and cashback where the provider has it) and the key's health."""
    client = client_for_key(api_key)
    profile = get_profile(api_key.profile)
    try:
        balance = client.get_balance()
        cashback = None
        if profile.supports_action("getBalanceAndCashBack"):
            cashback = client.get_balance_and_cashback().amount - balance.amount
    except errors.ProviderError as exc:
        api_key_mark_health(api_key=api_key, exc=exc)
        return api_key
    now = timezone.now()
    api_key.balance, api_key.cashback, api_key.balance_updated_at = balance.amount, cashback, now
    if balance.currency:
        api_key.currency = balance.currency
    api_key.save(update_fields=["balance", "cashback", "balance_updated_at", "currency"])
    balance_sample_record(api_key=api_key)
    api_key_mark_health(api_key=api_key, exc=None)
    return api_key


def balance_sample_record(*, api_key: ApiKey, at: datetime | None = None) -> BalanceSample | None:
    """Record the key's current balance for the balance chart, only when it differs from the last sample.

    Call it after a balance refresh (`providers.services.api_key_refresh_balance`). A key without a
    known balance records nothing. Returns the new sample or None.
    """
    if api_key.balance is None:
        return None
    last = BalanceSample.objects.filter(api_key=api_key).order_by("-at", "-id").first()
    balance = Decimal(api_key.balance).quantize(BALANCE_QUANT)
    cashback = None if api_key.cashback is None else Decimal(api_key.cashback).quantize(BALANCE_QUANT)
    if last and last.balance == balance and last.currency == api_key.currency and last.cashback == cashback:
        return None
    return BalanceSample.objects.create(
        team_id=api_key.team_id,
        api_key=api_key,
        balance=balance,
        cashback=cashback,
        currency=api_key.currency,
        at=at or api_key.balance_updated_at or timezone.now(),
    )
