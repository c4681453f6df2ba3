"""The form that issues a gateway key. Services and countries are typed or picked by name or code."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, KeyStatus, Membership
from accounts.permissions import visible_keys
from providers.pickers import CountryField, ServiceField
from providers.selectors import Catalogue, catalogue_for

MONEY = {"max_digits": 14, "decimal_places": 4, "min_value": Decimal("0")}


class GatewayKeyForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=80, help_text=_("Which script or bot uses it."))
    api_key = forms.ModelChoiceField(
        label=_("Upstream key"),
        queryset=ApiKey.objects.none(),
        to_field_name="public_id",
        empty_label=None,
        help_text=_("The team's API key the script buys and reads through."),
    )
    member = forms.ModelChoiceField(
        label=_("Acts as"),
        queryset=Membership.objects.none(),
        to_field_name="public_id",
        empty_label=None,
        help_text=_("Purchases are recorded as this member's and count against their daily limit."),
    )
    read_only = forms.BooleanField(
        label=_("Read only"),
        required=False,
        help_text=_("It may read balances, prices and numbers, never buy."),
    )
    daily_budget = forms.DecimalField(
        label=_("Daily budget"), required=False, help_text=_("Empty means no budget."), **MONEY
    )
    max_price = forms.DecimalField(
        label=_("Maximum price per purchase"), required=False, help_text=_("Empty means no maximum."), **MONEY
    )
    services = ServiceField(
        label=_("Allowed services"),
        multiple=True,
        required=False,
        help_text=_("Separated by commas; empty means every service."),
    )
    countries = CountryField(
        label=_("Allowed countries"),
        multiple=True,
        required=False,
        help_text=_("Separated by commas; empty means every country."),
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        kwargs.setdefault("initial", {"member": membership})
        super().__init__(*args, **kwargs)
        keys = visible_keys(membership).exclude(status=KeyStatus.ARCHIVED).order_by("label")
        self.fields["api_key"].queryset = keys
        members = self.fields["member"]
        members.queryset = (
            Membership.objects.filter(team=membership.team).select_related("user").order_by("user__username")
        )
        members.label_from_instance = lambda m: f"{m.user.username} ({m.get_role_display()})"
        # The names come from the catalogues already stored for the team's keys: a form never waits for a
        # provider, and without them codes are still understood.
        read: list[Catalogue] = []

        def catalogue() -> Catalogue:
            if not read:
                read.append(catalogue_for(list(keys)))
            return read[0]

        self.fields["services"].options = lambda: catalogue().services
        self.fields["countries"].options = lambda: catalogue().countries
