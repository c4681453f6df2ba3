"""Forms of the rental pages: rent, extend, auto-renew. Validation only; no writes (the history's filters are
`rentals.filters.HistoryFilters`)."""

import uuid
from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Membership
from accounts.permissions import keys_usable_by
from providers import selectors as catalog
from providers.pickers import CountryField, ServiceField
from providers.selectors import Option
from rentals.models import MAX_HOURS, MIN_HOURS
from rentals.selectors import rent_catalog
from rentals.services import MAX_RENEW_BEFORE_HOURS

# Lengths providers commonly sell (4 h, 12 h, then whole days); any 4..1344 is accepted.
HOUR_CHOICES = [4, 12, 24, 48, 72, 168, 336, 720]


def _hours_field(label: str, initial: int) -> forms.IntegerField:
    return forms.IntegerField(
        label=label,
        min_value=MIN_HOURS,
        max_value=MAX_HOURS,
        initial=initial,
        help_text=_("From %(min)s to %(max)s hours.") % {"min": MIN_HOURS, "max": MAX_HOURS},
        widget=forms.NumberInput(attrs={"list": "rent-hours", "min": MIN_HOURS, "max": MAX_HOURS}),
    )


class RentChoiceForm(forms.Form):
    """Key, country, operator and length: what the catalogue is asked for (GET) and the rent uses (POST)."""

    api_key = forms.ChoiceField(label=_("API key"))
    country = CountryField(label=_("Country"), initial=0)
    operator = forms.CharField(label=_("Operator"), max_length=60, required=False)
    hours = _hours_field(_("Rent for hours"), 4)

    def __init__(self, *args: Any, membership: Membership, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.keys = list(keys_usable_by(membership).order_by("label"))
        self.fields["api_key"].choices = [
            (str(key.public_id), f"{key.label} ({key.masked})") for key in self.keys
        ]
        # The countries of the chosen key's provider (of the first key before one is chosen).
        chosen = str(self.data.get("api_key") or "") if self.is_bound else ""
        self.key = next(
            (k for k in self.keys if str(k.public_id) == chosen), self.keys[0] if self.keys else None
        )
        self.fields["country"].options = lambda: _read(catalog.countries, self.key)

    def clean_api_key(self) -> ApiKey:
        chosen = self.cleaned_data["api_key"]
        for key in self.keys:
            if str(key.public_id) == chosen:
                return key
        raise forms.ValidationError(_("Choose one of your keys."))

    def clean_operator(self) -> str:
        operator = self.cleaned_data["operator"].strip()
        return "" if operator == "any" else operator


def _read(read: Any, api_key: ApiKey | None) -> list[Option]:
    """A catalogue list of the key's provider; empty when there is no key or the provider cannot say."""
    if api_key is None:
        return []
    try:
        return read(api_key)
    except catalog.CatalogUnavailable:
        return []


class RentForm(RentChoiceForm):
    """The rent itself: a service on offer for the choice, by name or code; the token makes a double submit
    rent once."""

    service = ServiceField(label=_("Service"))
    request_token = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["service"].options = self._services

    def _services(self) -> list[Option]:
        """The catalogue's services and the codes on offer for the choice (a rent-only code such as
        `full` is in no service list); read when the service is cleaned, after the choice."""
        data = self.cleaned_data
        api_key = data.get("api_key")
        known = {option.code: option for option in _read(catalog.services, api_key)}
        if api_key is not None and "country" in data and "hours" in data:
            offers = rent_catalog(
                api_key, country=data["country"], operator=data.get("operator", ""), hours=data["hours"]
            )
            for offer in offers.catalog.services if offers.catalog else ():
                known.setdefault(offer.service, Option(code=offer.service, name=offer.service))
        return list(known.values())


class ExtendForm(forms.Form):
    hours = _hours_field(_("Extend by hours"), 24)


class AutoRenewForm(forms.Form):
    """Renew N hours before the end by a chosen length, within a total budget and up to an end date."""

    enabled = forms.BooleanField(label=_("Renew this number automatically"), required=False)
    before_hours = forms.IntegerField(
        label=_("Renew this many hours before the end"),
        min_value=1,
        max_value=MAX_RENEW_BEFORE_HOURS,
        initial=1,
    )
    hours = _hours_field(_("Renew for hours each time"), 24)
    budget = forms.DecimalField(
        label=_("Total budget for renewals"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=4,
        help_text=_("Empty: no budget of its own (the key's and your daily limits still apply)."),
    )
    until = forms.DateTimeField(
        label=_("Keep the number until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("Empty: as long as the budget lasts."),
    )

    def clean_until(self) -> datetime | None:
        until = self.cleaned_data["until"]
        if until is not None and until <= timezone.now():
            raise forms.ValidationError(_("Choose a moment in the future."))
        return until
