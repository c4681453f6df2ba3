"""The filters of the activation history, its CSV and the ledger CSV (`kit.filters`, `accounts.filters`).

Query parameters: `date_from`, `date_to` (whole UTC days), `api_key` and `member` (public ids, among
the member's own), `service`, `country`, `status`, `phone`. The ledger CSV reads the dates, key and
member of the same query string. The live board: `service`, `member`, `api_key`, `mine` and `sort`.
"""

import re
from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.filters import KeyFilter, MemberFilter, TeamFilters
from accounts.models import LedgerEntry, Membership
from activations.models import Activation, ActivationStatus
from kit.filters import DayFromFilter, DayToFilter, TextFilter
from providers.pickers import CatalogFilters, CountryFilter, ServiceFilter


def _digits(phone: str) -> str:
    # Numbers are stored as digits only, without "+": match them the way they are stored (an indexed lookup).
    return re.sub(r"\D", "", phone)


class LedgerFilters(TeamFilters):
    """The ledger CSV: money moves by day, key and member."""

    date_from = DayFromFilter(label=_("From"))
    date_to = DayToFilter(label=_("To"))
    api_key = KeyFilter("api_key", label=_("Key"), empty_label=_("All keys"))
    member = MemberFilter("member", label=_("Member"), empty_label=_("Everyone"))

    class Meta:
        model = LedgerEntry
        fields = ()


class HistoryFilters(CatalogFilters, LedgerFilters):
    """The history page and its CSV: the ledger's filters and the activation's own; a service or country
    is found by its name (in any of the provider's languages) or its code."""

    service = ServiceFilter("service", label=_("Service"))
    country = CountryFilter("country", label=_("Country"))
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ActivationStatus.choices, empty_label=_("Any status")
    )
    phone = TextFilter("phone", label=_("Phone"), max_length=32, normalise=_digits)

    class Meta:
        model = Activation
        fields = ()

    def __init__(self, data: Mapping[str, Any] | None = None, *, membership: Membership | None = None):
        super().__init__(data, membership=membership)
        self.use_catalogue(membership)


# The live board's orders: (choice, label, order_by of the live rows). The newest first by default.
BOARD_SORTS = {
    "newest": (_("Newest first"), (F("created_at").desc(), F("id").desc())),
    "oldest": (_("Oldest first"), (F("created_at").asc(), F("id").asc())),
    "expiring": (_("Expiring soonest"), (F("expires_at").asc(nulls_last=True), F("id").asc())),
    "service": (_("Service"), (F("service").asc(), F("created_at").desc(), F("id").desc())),
}


class BoardFilters(TeamFilters):
    """The live board: by service, member, key and "only mine", and its order (`sort`, which filters
    nothing: the board orders its live rows by it)."""

    service = TextFilter("service", label=_("Service"), max_length=16, normalise=str.lower)
    member = MemberFilter("member", label=_("Member"), empty_label=_("Everyone"))
    api_key = KeyFilter("api_key", label=_("Key"), empty_label=_("All keys"))
    mine = django_filters.BooleanFilter(label=_("Only mine"), method="only_mine", widget=forms.CheckboxInput)
    sort = django_filters.ChoiceFilter(
        label=_("Sort"),
        choices=[(name, label) for name, (label, _order) in BOARD_SORTS.items()],
        empty_label=None,
        method="keep_rows",
    )

    class Meta:
        model = Activation
        fields = ()

    def only_mine(self, rows: QuerySet, name: str, value: bool | None) -> QuerySet:
        if not value or self.membership is None:
            return rows
        return rows.filter(member_id=self.membership.user_id)

    def keep_rows(self, rows: QuerySet, name: str, value: str) -> QuerySet:
        return rows

    @property
    def order(self) -> tuple:
        """The order_by of the live rows for the chosen sort (newest first when none or unreadable)."""
        chosen = None
        if self.is_bound:
            self.form.is_valid()  # cleaned_data holds what could be read
            chosen = self.form.cleaned_data.get("sort")
        return BOARD_SORTS.get(chosen or "newest", BOARD_SORTS["newest"])[1]
