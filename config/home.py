"""The team home: the one page that shows every part of the house at once (balances and today's spend,
price alerts that hold, rentals about to be lost). It reads from every app, so it is composed here, in
the top layer: `accounts` may not import the feature apps.

The home has no single change stamp to version it by (keys carry no `updated_at`, alerts and risks are
states), so its version token is a fingerprint of what it shows plus the minute: an unchanged poll
answers 204 without rendering, and relative times ("5 minutes ago") still move once a minute.
"""

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import Membership
from accounts.selectors import TeamSummary, team_summary
from config.liveness import Polls, key_polls
from kit import boards
from prices.models import PriceAlert
from prices.selectors import alerts_firing
from rentals.models import Rental
from rentals.selectors import at_risk


@dataclass
class TeamHome:
    summary: TeamSummary
    price_alerts: list[PriceAlert]
    rentals_at_risk: list[tuple[Rental, str]]
    # When each key was last polled and whether beat runs: owners and admins only (None for the others).
    polls: Polls | None
    version: str


def _summary_state(summary: TeamSummary) -> tuple[Any, ...]:
    # Every field of a key the summary shows (team_home.html and key_list.html#balance).
    keys = tuple(
        (
            row.key.pk,
            row.key.label,
            row.key.profile,
            row.key.secret_last4,
            row.key.status,
            row.key.health,
            row.key.health_message,
            row.key.banned_until,
            row.key.balance,
            row.key.cashback,
            row.key.currency,
            row.key.balance_updated_at,
            tuple((amount.value, amount.currency) for amount in row.spent_today),
        )
        for row in summary.keys
    )
    members = tuple(
        (row.username, tuple((amount.value, amount.currency) for amount in row.spent))
        for row in summary.members
    )
    totals = tuple((amount.value, amount.currency) for amount in summary.totals)
    return keys, members, totals


def _alerts_state(alerts: list[PriceAlert]) -> tuple[Any, ...]:
    return tuple(
        (
            alert.pk,
            alert.service,
            alert.country,
            alert.api_key.label,
            alert.api_key.currency,
            alert.last_cost,
            alert.last_count,
            alert.fired_at,
        )
        for alert in alerts
    )


def _polls_state(polls: Polls | None) -> tuple[Any, ...]:
    # What makes the panel's warnings come or go; its times move with the token's minute.
    if polls is None:
        return ()
    return polls.beat.ok, tuple((row.key.pk, row.due, row.late) for row in polls.keys)


def home_for(membership: Membership) -> TeamHome:
    """What the team home shows the member, with its version token."""
    summary = team_summary(membership)
    alerts = alerts_firing(membership)
    risks = at_risk(membership)
    polls = key_polls([row.key for row in summary.keys]) if membership.can_manage_keys else None
    state = boards.fingerprint(
        membership.role,
        _summary_state(summary),
        _alerts_state(alerts),
        tuple((rental.pk, reason) for rental, reason in risks),
        _polls_state(polls),
    )
    minute = int(timezone.now().timestamp()) // 60
    return TeamHome(
        summary=summary,
        price_alerts=alerts,
        rentals_at_risk=risks,
        polls=polls,
        version=boards.token(state, minute),
    )
