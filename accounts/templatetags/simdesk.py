"""Template helpers shared by every page: the team switcher, money and countdown formatting."""

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django import template
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from accounts.models import Membership, User
from accounts.selectors import memberships_of
from kit.formats import countdown_text, money_text
from kit.phrases import Phrase, phrase_text

register = template.Library()


@register.simple_tag
def user_memberships(user: User) -> QuerySet[Membership]:
    """The teams in the top-bar switcher."""
    return memberships_of(user)


@register.filter
def money(value: Decimal | None, currency: str = "") -> str:
    """`1234.5` -> `1,234.50 RUB` (`kit.formats.money_text`); what is not an amount is shown as it is."""
    if value is None or value == "":
        return money_text(None)
    try:
        return money_text(value, currency)
    except (InvalidOperation, TypeError, ValueError):
        return str(value)


@register.filter(name="phrase_text")
def phrase_text_filter(value: Phrase | str | None) -> str:
    """A stored message (an audit summary's phrase, an error column) in the reader's language
    (`kit.phrases.phrase_text`); older plain text as it is."""
    return phrase_text(value)


@register.filter
def countdown(seconds: int | None) -> str:
    """Seconds left as `2d 3:04:05`, `3:04:05` or `4:05` (`kit.formats.countdown_text`); `data-countdown`
    elements keep it ticking in the browser."""
    return countdown_text(seconds)


@register.filter
def ago(moment: datetime | None) -> str:
    """Say “just now” within the last minute, else “5 minutes ago”."""
    if moment is None:
        return ""
    if (timezone.now() - moment).total_seconds() < 60:
        return _("just now")
    return _("%(time)s ago") % {"time": timesince(moment)}


@register.filter
def minutes(delta: timedelta | None) -> int:
    """Whole minutes of a duration, rounded up (lockout cool-off)."""
    if not delta:
        return 0
    return max(1, -(-int(delta.total_seconds()) // 60))
