"""Team-scoped reads for the pages: every query starts from the team (or the user's own memberships)."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from accounts.models import (
    ApiKey,
    AuditEntry,
    Invite,
    KeyHealth,
    KeyStatus,
    LedgerEntry,
    Membership,
    Team,
    User,
)
from accounts.permissions import start_of_today, visible_keys, visible_to
from kit.cursor import Cursor, Page, keyset_page
from kit.filters import ListFilters


def language_of_email(email: str) -> str:
    """The language chosen by the account with this email ("" if none or not chosen): mails speak it."""
    user = User.objects.filter(email__iexact=email.strip()).exclude(language="").order_by("pk").first()
    return user.language if user else ""


def memberships_of(user: User) -> QuerySet[Membership]:
    """The user's teams (as memberships), alphabetically: the team switcher and `/`."""
    if not user.is_authenticated:
        return Membership.objects.none()
    return Membership.objects.filter(user=user).select_related("team").order_by("team__name", "team__pk")


def first_team_of(user: User) -> Team | None:
    membership = memberships_of(user).first()
    return membership.team if membership else None


def team_members(team: Team) -> QuerySet[Membership]:
    return Membership.objects.filter(team=team).select_related("user").order_by("user__username")


def pending_invites(team: Team) -> QuerySet[Invite]:
    return Invite.objects.filter(team=team, used_at__isnull=True, expires_at__gt=timezone.now()).order_by(
        "-created_at"
    )


def team_keys(team: Team, *, include_archived: bool = False) -> QuerySet[ApiKey]:
    """The team's keys, archived ones last (and only when asked for)."""
    keys = ApiKey.objects.filter(team=team).annotate(grant_count=Count("allowed_members"))
    if not include_archived:
        keys = keys.exclude(status=KeyStatus.ARCHIVED)
    return keys.order_by("status", "label", "pk")


def member_keys(membership: Membership, *, include_archived: bool = False) -> QuerySet[ApiKey]:
    """`team_keys` as the member sees them: operators only the keys granted to them (`visible_keys`)."""
    visible = visible_keys(membership).values("pk")
    return team_keys(membership.team, include_archived=include_archived).filter(pk__in=visible)


@dataclass(frozen=True)
class Amount:
    """A sum of money in one currency; totals are never added across currencies."""

    value: Decimal
    currency: str


@dataclass
class KeySummary:
    key: ApiKey
    spent_today: list[Amount] = field(default_factory=list)


@dataclass
class MemberSpend:
    username: str
    spent: list[Amount] = field(default_factory=list)


@dataclass
class TeamSummary:
    keys: list[KeySummary]
    members: list[MemberSpend]
    totals: list[Amount]
    warnings: list[ApiKey]
    updated_at: datetime


def team_summary(membership: Membership) -> TeamSummary:
    """Balances and health per key plus today's spend per key, per member and in total, by currency, as
    the member sees them: operators the keys granted to them and what was spent with those (or by them)."""
    keys = list(member_keys(membership))
    today = visible_to(
        membership, LedgerEntry.objects.filter(created_at__gte=start_of_today(membership.team))
    )

    per_key: dict[int, list[Amount]] = {}
    for row in today.values("api_key_id", "currency").annotate(total=Sum("amount")).order_by("currency"):
        per_key.setdefault(row["api_key_id"], []).append(Amount(row["total"], row["currency"]))

    per_member: dict[str, list[Amount]] = {}
    rows = today.values("member__username", "currency").annotate(total=Sum("amount"))
    for row in rows.order_by("member__username", "currency"):
        per_member.setdefault(row["member__username"] or "—", []).append(
            Amount(row["total"], row["currency"])
        )

    totals = [
        Amount(row["total"], row["currency"])
        for row in today.values("currency").annotate(total=Sum("amount")).order_by("currency")
    ]
    warnings = [
        k
        for k in keys
        if k.status == KeyStatus.ACTIVE
        and k.health in (KeyHealth.INVALID, KeyHealth.BANNED, KeyHealth.UNREACHABLE)
    ]
    return TeamSummary(
        keys=[KeySummary(key=k, spent_today=per_key.get(k.pk, [])) for k in keys],
        members=[MemberSpend(username=u, spent=a) for u, a in per_member.items()],
        totals=totals,
        warnings=warnings,
        updated_at=timezone.now(),
    )


def audit_actions(team: Team) -> list[str]:
    """Distinct actions that occur in the team's log, for the filter."""
    return list(
        AuditEntry.objects.filter(team=team).order_by("action").values_list("action", flat=True).distinct()
    )


def audit_entries(team: Team, filters: ListFilters | None = None) -> QuerySet[AuditEntry]:
    """The team's audit log narrowed by `filters` (`accounts.filters.AuditFilters`), newest first.

    Actors and keys come in two small queries by id (a join would make SQLite sort the team's whole log
    instead of walking the (team, -created_at, -id) index)."""
    entries = AuditEntry.objects.filter(team=team)
    if filters is not None:
        entries = filters.apply(entries)
    return entries.prefetch_related("actor", "api_key").order_by("-created_at", "-id")


def audit_page(
    team: Team, filters: ListFilters | None, *, after: Cursor | None, size: int
) -> Page[AuditEntry]:
    """One page of the log after `after`, by keyset (no OFFSET: an old page costs what the first costs)."""
    return keyset_page(audit_entries(team, filters), after=after, size=size)


def audit_for_export(team: Team, filters: ListFilters | None) -> Iterator[AuditEntry]:
    """The filtered log for the CSV (`accounts.export.AUDIT_COLUMNS`), newest first, read in chunks."""
    return audit_entries(team, filters).iterator(chunk_size=2000)
