"""Team-scoped reads for the activation pages: the live board, its version token, history and exports.

Every query starts from the member's team. Operators see the activations of the keys they may use
(and their own purchases); owners, admins and viewers see the whole team.
"""

import math
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, IntegerField, Max, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation

from accounts.models import ApiKey, KeyHealth, KeyStatus, LedgerEntry, Membership, Team, User
from accounts.permissions import get_owned, keys_usable_by, visible_keys, visible_to
from activations.filters import BOARD_SORTS, BoardFilters, HistoryFilters, LedgerFilters
from activations.models import BOARD_STATUSES, CLOSED_STATUSES, Activation, ActivationStatus, Preset, Sms
from kit import boards
from kit.cursor import Cursor, Page, keyset_page
from kit.formats import money_text
from providers import selectors as catalog
from purchases.selectors import ledger_money, money_of

# Closed activations stay visible under the board for this long.
RECENT_WINDOW = timedelta(minutes=15)
HISTORY_PAGE_SIZE = 50
BAD_HEALTH = (KeyHealth.INVALID, KeyHealth.BANNED, KeyHealth.UNREACHABLE)


def visible_activations(membership: Membership) -> QuerySet[Activation]:
    """The team's activations the member may see (and act on, if they may buy)."""
    return visible_to(membership, Activation.objects.all())


def _board_rows(
    membership: Membership, now: datetime, filters: BoardFilters | None = None
) -> QuerySet[Activation]:
    rows = visible_activations(membership)
    if filters is not None:
        rows = filters.apply(rows)
    return rows.filter(Q(status__in=BOARD_STATUSES) | Q(closed_at__gte=now - RECENT_WINDOW))


def board_view(filters: BoardFilters | None) -> int:
    """A number for what the board is narrowed to and sorted by (0 for the whole board, newest first), in
    its version token: a poll made for other filters than the token's is never answered 204."""
    query = filters.query if filters is not None else ""
    return boards.fingerprint(query) if query else 0


# --- the live board ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoardVersion:
    """What the board showed: compared with the client's copy to answer 204 when nothing changed."""

    updated: int  # max(updated_at) in microseconds since the epoch
    count: int
    last_sms: int
    bad_keys: int
    bad_checked: int
    # Numbers past their cancel lock: the time passing changes no row, yet the bulk cancel must count them.
    unlocked: int = 0
    view: int = 0  # the filters and order (`board_view`)

    @property
    def token(self) -> str:
        return boards.token(
            self.updated, self.count, self.last_sms, self.bad_keys, self.bad_checked, self.unlocked, self.view
        )

    @classmethod
    def parse(cls, token: str | None) -> "BoardVersion | None":
        """The client's token back as a version; None when absent or malformed."""
        parts = boards.parse_token(token, 7)
        return None if parts is None else cls(*parts)


def _micros(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1_000_000) if moment else 0


def board_version(membership: Membership, filters: BoardFilters | None = None) -> BoardVersion:
    """The board's version in ONE query: scalar subqueries over the board rows (as `filters` narrow them),
    their codes and key health. (A key or member filter reads its choice first: one small query each.)"""
    now = timezone.now()
    rows = _board_rows(membership, now, filters).order_by().values("team")
    bad_keys = (
        ApiKey.objects.filter(team=OuterRef("pk"), health__in=BAD_HEALTH)
        .exclude(status=KeyStatus.ARCHIVED)
        .order_by()
        .values("team")
    )
    last_sms = (
        Sms.objects.filter(activation__in=_board_rows(membership, now, filters).values("pk"))
        .order_by("-id")
        .values("id")[:1]
    )
    unlocked = Q(status=ActivationStatus.WAITING) & (
        Q(cancel_allowed_at__isnull=True) | Q(cancel_allowed_at__lte=now)
    )
    updated, count, sms_id, bad, bad_checked, waited = (
        Team.objects.filter(pk=membership.team_id)
        .annotate(
            v_updated=Subquery(rows.annotate(m=Max("updated_at")).values("m")),
            v_count=Coalesce(
                Subquery(rows.annotate(c=Count("pk")).values("c"), output_field=IntegerField()), Value(0)
            ),
            v_sms=Coalesce(Subquery(last_sms, output_field=IntegerField()), Value(0)),
            v_bad=Coalesce(
                Subquery(bad_keys.annotate(c=Count("pk")).values("c"), output_field=IntegerField()), Value(0)
            ),
            v_bad_checked=Subquery(bad_keys.annotate(m=Max("health_checked_at")).values("m")),
            v_unlocked=Coalesce(
                Subquery(
                    rows.annotate(u=Count("pk", filter=unlocked)).values("u"), output_field=IntegerField()
                ),
                Value(0),
            ),
        )
        .values_list("v_updated", "v_count", "v_sms", "v_bad", "v_bad_checked", "v_unlocked")
        .get()
    )
    return BoardVersion(
        _micros(updated), count, sms_id, bad, _micros(bad_checked), waited, board_view(filters)
    )


def new_codes(membership: Membership, since: BoardVersion, filters: BoardFilters | None = None) -> list[Sms]:
    """Codes of board rows received after the client's version (by SMS id, which only grows)."""
    return list(
        Sms.objects.filter(
            activation__in=_board_rows(membership, timezone.now(), filters).values("pk"),
            id__gt=since.last_sms,
        )
        .select_related("activation", "activation__api_key")
        .order_by("id")[:20]
    )


@dataclass
class BoardRow:
    """An activation with the labels and countdowns the board shows."""

    activation: Activation
    service_name: str
    country_name: str
    expires_in: int | None
    cancel_in: int | None
    codes: list[Sms] = field(default_factory=list)


@dataclass
class Board:
    live: list[BoardRow]
    recent: list[BoardRow]
    warnings: list[ApiKey]
    presets: list[Preset]
    version: BoardVersion
    # Live numbers the member may act on that a bulk action would close: with a code (finish), waiting
    # past the provider's cancel lock (cancel).
    to_finish: list[Activation] = field(default_factory=list)
    to_cancel: list[Activation] = field(default_factory=list)
    query: str = ""  # the filters and order, for the poll URL and the bulk actions

    @property
    def suffix(self) -> str:
        """`?<filters>` for the URLs the board posts to, so its answer keeps them; empty without any."""
        return f"?{self.query}" if self.query else ""


def _seconds_until(moment: datetime | None, now: datetime) -> int | None:
    """Whole seconds left, rounded UP: 119.2 s is 2:00, so a countdown reaches 0 only when the moment has
    come (a cancel button revealed at 0 never shows before the provider allows it)."""
    if moment is None:
        return None
    return max(math.ceil((moment - now).total_seconds()), 0)


def label_rows(activations: Iterable[Activation], *, allow_fetch: bool = False) -> list[BoardRow]:
    """Attach service and country names (from the cached catalogue of each key's provider) and countdowns."""
    now = timezone.now()
    names: dict[int, tuple[dict[str, str], dict[str, str]]] = {}
    rows = []
    for activation in activations:
        if activation.api_key_id not in names:
            names[activation.api_key_id] = catalog.names(activation.api_key, allow_fetch=allow_fetch)
        countries, services = names[activation.api_key_id]
        country = "" if activation.country is None else str(activation.country)
        rows.append(
            BoardRow(
                activation=activation,
                service_name=services.get(activation.service, ""),
                country_name=countries.get(country, ""),
                expires_in=_seconds_until(activation.expires_at, now) if activation.is_live else None,
                cancel_in=_seconds_until(activation.cancel_allowed_at, now)
                if activation.status == "waiting"
                else None,
                codes=list(activation.messages.all()),
            )
        )
    return rows


def acting_keys(membership: Membership) -> set[int]:
    """Ids of the keys the member may act with (`accounts.permissions.is_granted`): none for viewers."""
    if not membership.can_buy:
        return set()
    return set(visible_keys(membership).values_list("pk", flat=True))


def may_act(membership: Membership, activation: Activation, keys: set[int]) -> bool:
    """The write check of `get_activation`, for many rows at once (`keys` from `acting_keys`)."""
    return membership.can_buy and (
        activation.api_key_id in keys or activation.member_id == membership.user_id
    )


BULK_ACTIONS = ("finish", "cancel")


def bulk_eligible(activation: Activation, action: str) -> bool:
    """Whether a bulk action closes this number: finish one with a code, cancel one past its lock."""
    if action == "finish":
        return activation.can_finish
    if action == "cancel":
        return activation.status == ActivationStatus.WAITING and activation.can_cancel_now
    return False


def bulk_targets(membership: Membership, action: str, public_ids: Iterable[Any]) -> list[Activation]:
    """The confirmed numbers (by public id) a bulk action may close now: the member's to act on and in
    a state the action applies to; any other id is left out, never an error."""
    ids = []
    for raw in public_ids:
        try:
            ids.append(uuid.UUID(str(raw)))
        except ValueError:
            continue
    if action not in BULK_ACTIONS or not ids:
        return []
    keys = acting_keys(membership)
    rows = (
        visible_activations(membership)
        .filter(public_id__in=ids[:500], status__in=BOARD_STATUSES)
        .select_related("api_key", "team")
        .order_by("created_at", "id")
    )
    return [row for row in rows if may_act(membership, row, keys) and bulk_eligible(row, action)]


def board(
    membership: Membership,
    *,
    filters: BoardFilters | None = None,
    version: BoardVersion | None = None,
    allow_fetch: bool = False,
) -> Board:
    """Everything the live board shows, narrowed and ordered by `filters`. `allow_fetch` lets a full page
    load warm the catalogue cache.

    The version is read before the rows: a change in between makes the next poll render again.
    """
    version = version or board_version(membership, filters)
    now = timezone.now()
    order = filters.order if filters is not None else BOARD_SORTS["newest"][1]
    base = (
        _board_rows(membership, now, filters)
        .select_related("api_key", "member", "route")
        .prefetch_related(Prefetch("messages", queryset=Sms.objects.order_by("received_at", "id")))
    )
    live = label_rows(base.filter(status__in=BOARD_STATUSES).order_by(*order), allow_fetch=allow_fetch)
    recent = label_rows(
        base.filter(status__in=CLOSED_STATUSES).order_by("-closed_at", "-id")[:50], allow_fetch=allow_fetch
    )
    warnings = list(
        ApiKey.objects.filter(team=membership.team, health__in=BAD_HEALTH)
        .exclude(status=KeyStatus.ARCHIVED)
        .order_by("label")
    )
    keys = acting_keys(membership)
    actable = [row.activation for row in live if may_act(membership, row.activation, keys)]
    return Board(
        live=live,
        recent=recent,
        warnings=warnings,
        presets=named_presets(usable_presets(membership)),
        version=version,
        to_finish=[a for a in actable if bulk_eligible(a, "finish")],
        to_cancel=[a for a in actable if bulk_eligible(a, "cancel")],
        query=filters.query if filters is not None else "",
    )


def usable_presets(membership: Membership) -> list[Preset]:
    """The team's presets whose key the member may buy with (none for viewers)."""
    if not membership.can_buy:
        return []
    return list(
        Preset.objects.filter(team=membership.team, api_key__in=keys_usable_by(membership).values("pk"))
        .select_related("api_key")
        .order_by("name")
    )


def named_presets(presets: list[Preset]) -> list[Preset]:
    """The presets, each with `hint`: its service and country by name, price cap and key, as its button's
    tooltip says them (named from the cached catalogues of the presets' providers)."""
    if not presets:
        return presets
    names = catalog.catalogue_for({preset.api_key for preset in presets})
    for preset in presets:
        parts = [
            names.service_name(preset.service) or preset.service,
            names.country_name(preset.country) or str(preset.country),
        ]
        if preset.max_price is not None:
            parts.append(f"≤ {money_text(preset.max_price, preset.api_key.currency)}")
        parts.append(preset.api_key.label)
        preset.hint = " · ".join(parts)
    return presets


def get_activation(membership: Membership, public_id: Any, *, write: bool = False) -> Activation:
    """One activation the member sees, by public id: 404 otherwise; with `write`, 403 unless the member
    may act with its key or bought it."""
    return get_owned(membership, visible_activations(membership), public_id, write=write)


def get_preset(membership: Membership, public_id: Any, *, write: bool = False) -> Preset:
    """One preset of a key the member sees: 404 otherwise; with `write`, 403 without a grant on its key."""
    presets = Preset.objects.filter(team=membership.team, api_key__in=visible_keys(membership).values("pk"))
    return get_owned(membership, presets, public_id, write=write)


# --- history and exports -------------------------------------------------------------------------


def history(membership: Membership, filters: HistoryFilters | None = None) -> QuerySet[Activation]:
    """The member's visible activations narrowed by `filters`, newest first (by created_at, then id)."""
    rows = visible_activations(membership)
    if filters is not None:
        rows = filters.apply(rows)
    return rows.order_by("-created_at", "-id")


def _with_details(rows: QuerySet[Activation]) -> QuerySet[Activation]:
    """Keys, members and codes in separate small queries: a join here makes SQLite sort the whole
    team's history instead of walking the (team, created_at, id) index."""
    return rows.prefetch_related(
        "api_key", "member", "route", Prefetch("messages", queryset=Sms.objects.order_by("received_at", "id"))
    )


def history_page(
    membership: Membership, filters: HistoryFilters, *, after: Cursor | None, size: int = HISTORY_PAGE_SIZE
) -> Page[Activation]:
    """One page after `after`, by keyset (no OFFSET: page 20,000 costs what page 1 costs)."""
    return keyset_page(_with_details(history(membership, filters)), after=after, size=size)


EXPORT_FIELDS = (
    "id", "created_at", "bought_at", "closed_at", "status", "service", "country", "operator", "phone",
    "currency", "api_key_id", "member_id", "upstream_id", "forward", "verification", "error_message",
)  # fmt: skip


@dataclass(frozen=True)
class ExportRow:
    """One activation as the CSV needs it: plain values (with the ledger's money, `purchases.selectors`),
    the key's label (never its secret), the codes, and the service and country names."""

    values: dict[str, Any]
    key_label: str
    member: str
    codes: list[str]
    service_name: str = ""
    country_name: str = ""


def export_names(team: Team, language: str) -> dict[int, tuple[dict[str, str], dict[str, str]]]:
    """Per key of the team: (country code -> name, service code -> name) in `language`, from each key's stored or
    cached catalogue (never fetched now); a code the catalogue does not name is its own name."""
    with translation.override(language):
        return {api_key.pk: catalog.names(api_key) for api_key in ApiKey.objects.filter(team=team)}


def history_for_export(
    membership: Membership, filters: HistoryFilters, *, language: str, chunk: int = 5000
) -> Iterator[ExportRow]:
    """The history rows, streamed in keyset chunks of plain values: constant memory, no model instances,
    each chunk an index range scan (no server-side cursor or OFFSET needed) with the ledger's cost, refund
    and net of each row (`purchases.selectors.money_of`) in the same query. Names are in `language`."""
    labels = dict(ApiKey.objects.filter(team=membership.team).values_list("pk", "label"))
    names = export_names(membership.team, language)
    usernames: dict[int, str] = {}  # buyers who left the team still appear by name
    rows = history(membership, filters).values(*EXPORT_FIELDS).annotate(**ledger_money("activation"))
    after: Cursor | None = None
    while True:
        page = rows
        if after is not None:
            page = page.filter(after.before())
        batch = list(page[:chunk])
        if not batch:
            return
        missing = {row["member_id"] for row in batch if row["member_id"]} - usernames.keys()
        usernames.update(User.objects.filter(pk__in=missing).values_list("pk", "username"))
        codes: dict[int, list[str]] = {}
        for activation_id, code in (
            Sms.objects.filter(activation_id__in=[row["id"] for row in batch])
            .order_by("received_at", "id")
            .values_list("activation_id", "code")
        ):
            codes.setdefault(activation_id, []).append(code)
        for row in batch:
            row["cost"], row["refund"], row["net"] = money_of(row)
            countries, services = names.get(row["api_key_id"], ({}, {}))
            country = "" if row["country"] is None else str(row["country"])
            yield ExportRow(
                values=row,
                key_label=labels.get(row["api_key_id"], ""),
                member=usernames.get(row["member_id"], "") if row["member_id"] else "",
                codes=codes.get(row["id"], []),
                service_name=services.get(row["service"]) or row["service"],
                country_name=countries.get(country) or country,
            )
        after = Cursor(batch[-1]["created_at"], batch[-1]["id"])


def ledger_for_export(membership: Membership, filters: LedgerFilters | None = None) -> QuerySet[LedgerEntry]:
    """The team's ledger rows visible to the member, narrowed by date, key and member, newest first."""
    rows = visible_to(membership, LedgerEntry.objects.all())
    if filters is not None:
        rows = filters.apply(rows)
    return rows.select_related("api_key", "member").order_by("-created_at", "-id")


def favourite_services(team: Team) -> list[str]:
    """Service codes of the team's presets, most used first (the price pages start from these)."""
    rows = (
        Preset.objects.filter(team=team).values("service").annotate(n=Count("id")).order_by("-n", "service")
    )
    return [row["service"] for row in rows]


def preset_targets(team: Team) -> list[tuple[int, str, int]]:
    """(api_key id, service, country) of the team's presets: the price snapshots read these first."""
    return list(Preset.objects.filter(team=team).values_list("api_key_id", "service", "country"))


# --- the team's own results, for the price pages ------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """The team's own record for one (service, country): numbers bought, codes received, time to code."""

    bought: int
    with_code: int
    median_seconds: float | None

    @property
    def success_rate(self) -> float | None:
        return None if not self.bought else self.with_code / self.bought


def team_outcomes(
    team: Team, *, service: str, keys: Iterable[ApiKey] | None = None, since: datetime | None = None
) -> dict[int, Outcome]:
    """Per country: activations bought (`bought_at` set), those with a code (`sms_count > 0`), median time
    from `bought_at` to the first SMS. Limited to `keys` when given, to `since` when given.
    """
    rows = Activation.objects.filter(team=team, service=service, bought_at__isnull=False)
    if keys is not None:
        rows = rows.filter(api_key__in=list(keys))
    if since is not None:
        rows = rows.filter(bought_at__gte=since)
    counts = rows.values("country").annotate(
        bought=Count("id"), with_code=Count("id", filter=Q(sms_count__gt=0))
    )
    delays: dict[int, list[float]] = defaultdict(list)
    for country, bought_at, first in (
        rows.filter(sms_count__gt=0)
        .annotate(first=Min("messages__received_at"))
        .filter(first__isnull=False)
        .values_list("country", "bought_at", "first")
    ):
        delays[country].append(max((first - bought_at).total_seconds(), 0.0))
    return {
        row["country"]: Outcome(
            bought=row["bought"],
            with_code=row["with_code"],
            median_seconds=statistics.median(delays[row["country"]]) if delays.get(row["country"]) else None,
        )
        for row in counts
        if row["country"] is not None
    }
