"""The filters of the rental history and its two CSVs (`kit.filters`, `accounts.filters`).

Query parameters: `status`, `service` and `country` (a name or a code), `phone` (part of the number),
`api_key` (a public id among the keys the member sees), `date_from`, `date_to` (whole UTC days).
"""

from collections.abc import Mapping
from typing import Any

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.filters import KeyFilter, TeamFilters
from accounts.models import Membership
from kit.filters import DayFromFilter, DayToFilter, TextFilter
from providers.pickers import CatalogFilters, CountryFilter, ServiceFilter
from rentals.models import Rental, RentalStatus


class HistoryFilters(CatalogFilters, TeamFilters):
    """The rental history page, its rentals CSV and its messages CSV; a service or country is found by its
    name (in any of the provider's languages) or its code."""

    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=RentalStatus.choices, empty_label=_("Any status")
    )
    service = ServiceFilter("service", label=_("Service"))
    country = CountryFilter("country", label=_("Country"))
    # Numbers are stored without "+".
    phone = TextFilter(
        "phone",
        lookup_expr="contains",
        label=_("Number contains"),
        max_length=32,
        normalise=lambda phone: phone.lstrip("+"),
    )
    api_key = KeyFilter("api_key", label=_("Key"), empty_label=_("Any key"))
    date_from = DayFromFilter(label=_("From"))
    date_to = DayToFilter(label=_("To"))

    class Meta:
        model = Rental
        fields = ()

    def __init__(self, data: Mapping[str, Any] | None = None, *, membership: Membership | None = None):
        super().__init__(data, membership=membership)
        self.use_catalogue(membership)
