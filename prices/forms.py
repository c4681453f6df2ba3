"""Forms of the price pages: alerts and snapshot settings."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ApiKey
from kit.filters import INT_MAX
from providers.pickers import CountryField, ServiceField
from providers.selectors import Option


class AlertForm(forms.Form):
    """A price/stock alert on one of the team's keys."""

    key = forms.ChoiceField(label=gettext_lazy("Key"))
    service = ServiceField(label=gettext_lazy("Service"))
    country = CountryField(label=gettext_lazy("Country"))
    price_below = forms.DecimalField(
        label=gettext_lazy("Price below"),
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=4,
    )
    stock_above = forms.IntegerField(
        label=gettext_lazy("Stock above"), required=False, min_value=0, max_value=INT_MAX
    )

    def __init__(
        self,
        *args: Any,
        keys: list[ApiKey],
        services: list[Option] | None = None,
        countries: list[Option] | None = None,
        **kwargs: Any,
    ):
        # Its own ids: the overview shows it beside the chart's own service picker.
        kwargs.setdefault("auto_id", "id_alert_%s")
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(str(k.public_id), k.label) for k in keys]
        self.fields["service"].options = services or []
        self.fields["country"].options = countries or []

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("price_below") is None and data.get("stock_above") is None:
            raise forms.ValidationError(_("Set a price, a stock level, or both."))
        return data


class ChartPickForm(forms.Form):
    """The service and country a price chart is drawn for (query string), each by name or code; a name
    the catalogue does not know is reported beside its field and picks nothing."""

    service = ServiceField(label=gettext_lazy("Service"), required=False)
    country = CountryField(label=gettext_lazy("Country"), required=False)

    def __init__(self, data: Any, *, services: list[Option], countries: list[Option]):
        super().__init__(data)
        self.fields["service"].options = services
        self.fields["country"].options = countries

    def picked(self, name: str) -> Any:
        """The chosen code of `name` ("" or None when none was given or it could not be read)."""
        if not self.is_bound or not self.is_valid() and name in self.errors:
            return None
        value = self.cleaned_data.get(name)
        return None if value in ("", None) else value


class SettingsForm(forms.Form):
    """How often the team's prices are snapshotted."""

    enabled = forms.BooleanField(label=gettext_lazy("Take price snapshots"), required=False)
    interval_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes between snapshots"), min_value=5, max_value=7 * 24 * 60
    )
