"""The filters every team list shares (a key, a member) and the audit log's own, on `kit.filters`.

A key or a member is chosen among the member's own: keys from `visible_keys` (an operator only those
granted to them), members from the team. Another team's id, or a key an operator does not see, is not
a valid choice: it filters nothing and says so, and no other team's key or member is ever listed.
"""

from collections.abc import Mapping
from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, AuditEntry, Membership, User
from accounts.permissions import visible_keys
from accounts.selectors import audit_actions
from kit.filters import DayFromFilter, DayToFilter, ListFilters, RowFilter


class KeyFilter(RowFilter):
    """One of the keys whose rows the member sees."""


class MemberFilter(RowFilter):
    """One of the team's members."""


class TeamFilters(ListFilters):
    """Filters of a team list, built for one member: key and member choices are theirs (none without one)."""

    def __init__(self, data: Mapping[str, Any] | None = None, *, membership: Membership | None = None):
        super().__init__(data)
        self.membership = membership
        if membership is None:
            keys, users = ApiKey.objects.none(), User.objects.none()
        else:
            # distinct(): an operator's keys join through the grants, and a choice must match one row.
            keys = visible_keys(membership).distinct().order_by("label", "pk")
            users = User.objects.filter(memberships__team=membership.team).order_by("username")
        for filter_ in self.filters.values():
            if isinstance(filter_, KeyFilter):
                filter_.limit_to(keys)
            elif isinstance(filter_, MemberFilter):
                filter_.limit_to(users)


class AuditFilters(TeamFilters):
    """The audit log and its CSV: `?action=&member=&key=&date_from=&date_to=`."""

    action = django_filters.ChoiceFilter(label=_("Action"), empty_label=_("All actions"))
    member = MemberFilter("actor", label=_("Member"), empty_label=_("Everyone"))
    key = KeyFilter("api_key", label=_("Key"), empty_label=_("All keys"))
    date_from = DayFromFilter(label=_("From"))
    date_to = DayToFilter(label=_("To"))

    class Meta:
        model = AuditEntry
        fields = ()

    def __init__(self, data: Mapping[str, Any] | None = None, *, membership: Membership | None = None):
        super().__init__(data, membership=membership)
        actions = audit_actions(membership.team) if membership is not None else []
        self.filters["action"].extra["choices"] = [(action, action) for action in actions]
