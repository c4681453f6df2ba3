"""The filters of the rental history and its two CSVs (`kit.filters`, `accounts.filters`).

Query parameters: `status`, `service`, `phone` (part of the number), `api_key` (a public id among the
keys the member sees), `date_from`, `date_to` (whole UTC days).
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.filters import KeyFilter, TeamFilters
from kit.filters import DayFromFilter, DayToFilter, TextFilter
from rentals.models import Rental, RentalStatus


class HistoryFilters(TeamFilters):
    """The rental history page, its rentals CSV and its messages CSV."""

    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=RentalStatus.choices, empty_label=_("Any status")
    )
    service = TextFilter("service", label=_("Service"), max_length=16)
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
