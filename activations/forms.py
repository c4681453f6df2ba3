"""Forms of the activation pages: buying (single and multi-service), presets, calls, extras (the history's
filters are `activations.filters.HistoryFilters`)."""

import re
import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Membership
from accounts.permissions import keys_usable_by
from activations.models import Preset
from providers.pickers import CountryField, ServiceField
from providers.selectors import Option
from purchases.models import Route
from purchases.selectors import routes_usable_by

OPERATOR_NAME = re.compile(r"^[a-z0-9_\-]{1,40}$")
PREFIX = re.compile(r"^\d{1,12}$")


class KeyChoiceField(forms.ModelChoiceField):
    """A key shown by its label and masked secret (never the secret), submitted by its public id."""

    def label_from_instance(self, obj: ApiKey) -> str:
        return f"{obj.label} ({obj.masked}, {obj.currency})"


class OperatorsField(forms.MultipleChoiceField):
    """Operator names as the provider spells them; the list depends on the country, so any sane name passes."""

    def valid_value(self, value: Any) -> bool:
        return bool(OPERATOR_NAME.match(str(value)))

    def validate(self, value: Any) -> None:
        super().validate(value)
        # The operators are stored joined by commas in one column: more than it holds is refused here.
        limit = Preset._meta.get_field("operator").max_length  # and the purchase intent's, the same 60
        if len(",".join(value)) > limit:
            raise ValidationError(
                _("Too many operators: choose fewer (at most %(limit)s characters together).")
                % {"limit": limit}
            )


class BuyForm(forms.Form):
    """One number for one service; the catalogue lists make service and country searchable by name."""

    api_key = KeyChoiceField(label=_("Key"), queryset=ApiKey.objects.none(), to_field_name="public_id")
    service = ServiceField(label=_("Service"))
    country = CountryField(label=_("Country"))
    operator = OperatorsField(label=_("Operators"), required=False)
    max_price = forms.DecimalField(
        label=_("Maximum price"),
        required=False,
        min_value=Decimal("0.0001"),
        max_digits=14,
        decimal_places=4,
        help_text=_("Free Price: the provider sells only at or below this price. Empty: the current price."),
    )
    forward = forms.BooleanField(label=_("Forwarding"), required=False)
    verification = forms.BooleanField(label=_("Call verification"), required=False)
    phone_exception = forms.CharField(
        label=_("Exclude phone prefixes"),
        required=False,
        max_length=200,
        help_text=_("Comma-separated, e.g. 7918,7928."),
    )
    route = forms.ModelChoiceField(
        label=_("Best place"),
        queryset=Route.objects.none(),
        to_field_name="public_id",
        required=False,
        empty_label=_("— only this key —"),
        help_text=_(
            "Buy at whichever key of the route is best now, the next one if it has no numbers; the service "
            "and country are read from the key above."
        ),
    )
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        countries: list[Option] | None = None,
        services: list[Option] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["api_key"].queryset = keys_usable_by(membership)
        self.fields["route"].queryset = routes_usable_by(membership)
        self.countries = countries or []
        self.services = services or []
        self.fields["service"].options = self.services
        self.fields["country"].options = self.countries
        if not self.is_bound:
            self.initial.setdefault("request_token", uuid.uuid4())

    def clean_phone_exception(self) -> str:
        raw = self.cleaned_data["phone_exception"]
        prefixes = [part.strip().lstrip("+") for part in raw.split(",") if part.strip()]
        for prefix in prefixes:
            if not PREFIX.match(prefix):
                raise ValidationError(
                    _("“%(value)s” is not a phone prefix (digits only).") % {"value": prefix}
                )
        return ",".join(prefixes)


class PresetForm(BuyForm):
    """The buy form's choice saved under a name."""

    name = forms.CharField(label=_("Preset name"), max_length=80)

    field_order = ["name"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A preset is not a purchase: no idempotency token needed, and it keeps one key.
        self.fields["request_token"].required = False
        del self.fields["route"]


class MultiBuyForm(forms.Form):
    """One number for several services at once (getMultiServiceNumber)."""

    api_key = KeyChoiceField(label=_("Key"), queryset=ApiKey.objects.none(), to_field_name="public_id")
    services = ServiceField(
        label=_("Services"),
        multiple=True,
        placeholder=_("e.g. Telegram, WhatsApp, vk"),
        help_text=_("Two or more services by name or code, comma-separated, e.g. Telegram, WhatsApp, vk."),
    )
    country = CountryField(label=_("Country"))
    operator = forms.CharField(label=_("Operator"), required=False, max_length=40)
    forward_service = ServiceField(
        label=_("Forwarding for"),
        required=False,
        help_text=_("Optional: the one service (of those above) whose number forwards calls."),
    )
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        membership: Membership,
        countries: list[Option] | None = None,
        services: list[Option] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["api_key"].queryset = keys_usable_by(membership)
        self.countries = countries or []
        self.fields["country"].options = self.countries
        self.fields["services"].options = services or []
        self.fields["forward_service"].options = services or []
        if not self.is_bound:
            self.initial.setdefault("request_token", uuid.uuid4())

    def clean_services(self) -> list[str]:
        codes = self.cleaned_data["services"]
        if len(codes) < 2:
            raise ValidationError(_("Give at least two services."))
        if len(set(codes)) != len(codes):
            raise ValidationError(_("Each service may appear once."))
        return codes

    def clean_operator(self) -> str:
        value = self.cleaned_data["operator"].strip().lower()
        if value and not OPERATOR_NAME.match(value):
            raise ValidationError(_("Not an operator name."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        forward = data.get("forward_service") or ""
        if forward and data.get("services") and forward not in data["services"]:
            self.add_error("forward_service", _("Choose one of the services above."))
        data["forward_service"] = forward
        return data


class CallTaskForm(forms.Form):
    """Ask the provider to call a phone from the activation's number (createTaskForCall)."""

    phone = forms.CharField(label=_("Phone to call"), max_length=20)

    def clean_phone(self) -> str:
        phone = re.sub(r"[\s\-()+]", "", self.cleaned_data["phone"])
        if not phone.isdigit() or not 5 <= len(phone) <= 16:
            raise ValidationError(_("Give the phone number in international format, digits only."))
        return phone


class AdditionalServiceForm(forms.Form):
    """Add another service to a forwarded number (getAdditionalService), by name or code."""

    service = ServiceField(label=_("Service"))
    request_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, services: list[Option] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].options = services or []
