"""Forms of the price pages: alerts and snapshot settings."""

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import ApiKey
from kit.filters import INT_MAX


class AlertForm(forms.Form):
    """A price/stock alert on one of the team's keys."""

    key = forms.ChoiceField(label=gettext_lazy("Key"))
    service = forms.CharField(label=gettext_lazy("Service code"), max_length=32)
    country = forms.IntegerField(label=gettext_lazy("Country code"), min_value=0, max_value=INT_MAX)
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

    def __init__(self, *args: Any, keys: list[ApiKey], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["key"].choices = [(str(k.public_id), k.label) for k in keys]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("price_below") is None and data.get("stock_above") is None:
            raise forms.ValidationError(_("Set a price, a stock level, or both."))
        return data


class SettingsForm(forms.Form):
    """How often the team's prices are snapshotted."""

    enabled = forms.BooleanField(label=gettext_lazy("Take price snapshots"), required=False)
    interval_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes between snapshots"), min_value=5, max_value=7 * 24 * 60
    )
