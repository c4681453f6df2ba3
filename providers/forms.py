"""Forms for the team's API keys. The secret field never renders its value back."""

from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, KeyStatus, Membership, Role
from providers.profiles import PROFILE_CHOICES, get_profile

MONEY = {"max_digits": 14, "decimal_places": 4, "min_value": Decimal("0")}


def provider_choices() -> list[tuple[str, str]]:
    """Every known provider; the built-in sandbox only where it is served."""
    return [
        (slug, name)
        for slug, name in PROFILE_CHOICES
        if not slug.startswith("sandbox") or settings.SANDBOX_ENABLED
    ]


def _secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=True,
        max_length=200,
        # render_value=False: a re-rendered form (after an error) never carries the secret back.
        widget=forms.PasswordInput(
            render_value=False, attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"}
        ),
    )


class ApiKeyAddForm(forms.Form):
    label = forms.CharField(label=_("Label"), max_length=80, help_text=_("How the team will call this key."))
    profile = forms.ChoiceField(label=_("Provider"), choices=provider_choices)
    base_url = forms.URLField(
        label=_("Base URL"),
        required=False,
        assume_scheme="https",
        help_text=_("Only for a custom provider: the address before /stubs/handler_api.php."),
    )
    secret = _secret_field(_("API key"))

    def clean_base_url(self) -> str:
        """Only http and https (the scheme in any case, stored in lower case): the client speaks nothing else."""
        url = self.cleaned_data["base_url"]
        if not url:
            return url
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https"):
            raise forms.ValidationError(_("The base URL must start with http:// or https://."))
        return urlunsplit(parts._replace(scheme=parts.scheme.lower()))

    def clean(self) -> dict:
        data = super().clean()
        profile = data.get("profile")
        if profile and get_profile(profile).needs_base_url and not data.get("base_url"):
            self.add_error("base_url", _("A custom provider needs its base URL."))
        return data


class ApiKeyRotateForm(forms.Form):
    secret = _secret_field(_("New API key"))


class ApiKeySettingsForm(forms.Form):
    """Rename a key; set its daily budget, maximum price per purchase and who may use it."""

    label = forms.CharField(label=_("Label"), max_length=80)
    daily_budget = forms.DecimalField(
        label=_("Daily budget"), required=False, help_text=_("Empty means no budget."), **MONEY
    )
    max_price = forms.DecimalField(
        label=_("Maximum price per purchase"), required=False, help_text=_("Empty means no maximum."), **MONEY
    )
    restrict_to_members = forms.BooleanField(
        label=_("Only chosen members may use this key"),
        required=False,
        help_text=_("Off: every operator of the team may use it. Owners and admins always may."),
    )
    allowed_members = forms.ModelMultipleChoiceField(
        label=_("Chosen members"),
        required=False,
        queryset=Membership.objects.none(),
        to_field_name="public_id",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, api_key: ApiKey, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "label": api_key.label,
                "daily_budget": api_key.daily_budget,
                "max_price": api_key.max_price,
                "restrict_to_members": api_key.restrict_to_members,
                "allowed_members": list(api_key.allowed_members.all()),
            },
        )
        super().__init__(*args, **kwargs)
        # Only this team's operators can be chosen; a UUID of another team's member is "not a valid choice".
        field = self.fields["allowed_members"]
        field.queryset = (
            Membership.objects.filter(team_id=api_key.team_id, role=Role.OPERATOR)
            .select_related("user")
            .order_by("user__username")
        )
        field.label_from_instance = lambda m: m.user.username


class ApiKeyStatusForm(forms.Form):
    status = forms.ChoiceField(choices=KeyStatus.choices)
