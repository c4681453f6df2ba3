"""The filters of the activation history, its CSV and the ledger CSV (`kit.filters`, `accounts.filters`).

Query parameters: `date_from`, `date_to` (whole UTC days), `api_key` and `member` (public ids, among
the member's own), `service`, `country`, `status`, `phone`. The ledger CSV reads the dates, key and
member of the same query string.
"""

import re
from collections.abc import Mapping
from typing import Any

import django_filters
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
