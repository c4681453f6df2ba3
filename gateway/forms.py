"""The forms that issue a gateway key and make a route. Services and countries are typed or picked by name or
code."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, KeyStatus, Membership
from accounts.permissions import visible_keys
from providers.pickers import CountryField, ServiceField
from providers.selectors import Catalogue, catalogue_for
from purchases.models import Route, RouteRule

MONEY = {"max_digits": 14, "decimal_places": 4, "min_value": Decimal("0")}


class GatewayKeyForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=80, help_text=_("Which script or bot uses it."))
    api_key = forms.ModelChoiceField(
        label=_("Upstream key"),
        queryset=ApiKey.objects.none(),
        to_field_name="public_id",
        required=False,
        help_text=_("The team's API key the script buys and reads through."),
    )
    route = forms.ModelChoiceField(
        label=_("Or a route"),
        queryset=Route.objects.none(),
        to_field_name="public_id",
        required=False,
        help_text=_(
            "Instead of the key: buys at the best of the route's keys; the script speaks the first key's codes "
            "and dialect."
        ),
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
        self.fields["api_key"].empty_label = _("— none: through a route —")
        if not self.is_bound and "api_key" not in self.initial:
            # Most keys go through one upstream key: the first is chosen until a route is picked instead.
            self.initial["api_key"] = keys.first()
        self.fields["route"].queryset = Route.objects.filter(team=membership.team).order_by("name")
        self.fields["route"].empty_label = _("— none —")
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

    def clean(self) -> dict:
        data = super().clean()
        if data.get("route") is not None:
            # "Or a route": a route chosen takes the place of the key.
            data["api_key"] = None
        elif not self.errors and data.get("api_key") is None:
            raise forms.ValidationError(_("Choose either an upstream key or a route."))
        return data


# At most this many keys in one route: one select each, in order.
ROUTE_SLOTS = 8


class RouteForm(forms.Form):
    """A route's name, rule and keys in their fixed order (one select per place; empty places are skipped)."""

    name = forms.CharField(label=_("Name"), max_length=80, help_text=_("e.g. Telegram, cheapest first."))
    rule = forms.ChoiceField(
        label=_("How it picks a key"),
        choices=RouteRule.choices,
        help_text=_(
            "The next key is tried only when one definitely refuses (no numbers, no balance, price too high, "
            "service not sold), never after an unclear answer."
        ),
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        keys = visible_keys(membership).exclude(status=KeyStatus.ARCHIVED).order_by("label")
        self.slots = min(max(keys.count(), 1), ROUTE_SLOTS)
        for place in range(self.slots):
            self.fields[f"key_{place}"] = forms.ModelChoiceField(
                label=_("Key %(place)d") % {"place": place + 1},
                queryset=keys,
                to_field_name="public_id",
                required=place == 0,
                empty_label=_("—"),
                help_text=_("Tried first among equals.") if place == 0 else "",
            )
            # The currency beside the label: a route's keys must share one.
            self.fields[f"key_{place}"].label_from_instance = lambda key: f"{key.label} ({key.currency})"

    @classmethod
    def initial_for(cls, route: Route) -> dict:
        initial: dict = {"name": route.name, "rule": route.rule}
        for place, step in enumerate(route.steps.all()[:ROUTE_SLOTS]):
            initial[f"key_{place}"] = step.api_key.public_id
        return initial

    def ordered_keys(self) -> list[ApiKey]:
        chosen = (self.cleaned_data.get(f"key_{place}") for place in range(self.slots))
        return [key for key in chosen if key is not None]
