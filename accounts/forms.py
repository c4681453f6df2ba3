"""Forms for teams, members, invites and sign-up. They validate input; services decide (the audit log's
filters are `accounts.filters.AuditFilters`)."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Membership, Role, User
from accounts.services import limit_change_refusal

MONEY = {"max_digits": 14, "decimal_places": 4, "min_value": Decimal("0")}


class TeamForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the team a name."))
        return name


def _role_choices(membership: Membership) -> list[tuple[str, str]]:
    """Only an owner may hand out the owner role; the service enforces it as well."""
    return [(value, label) for value, label in Role.choices if value != Role.OWNER or membership.is_owner]


class InviteForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.OPERATOR)
    email = forms.EmailField(
        label=_("Email (optional)"),
        required=False,
        help_text=_("If given, the link is also mailed there. Anyone holding the link can join once."),
    )

    def __init__(self, *args, membership: Membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = _role_choices(membership)


class MemberForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    daily_spend_limit = forms.DecimalField(
        label=_("Daily spend limit"),
        required=False,
        help_text=_("Per day (UTC), in the currency of the key used. Empty means no limit."),
        **MONEY,
    )

    def __init__(self, *args, membership: Membership, target: Membership, **kwargs):
        kwargs.setdefault("initial", {"role": target.role, "daily_spend_limit": target.daily_spend_limit})
        super().__init__(*args, **kwargs)
        choices = _role_choices(membership)
        if target.role == Role.OWNER and not membership.is_owner:
            choices = list(Role.choices)
        self.fields["role"].choices = choices
        # The service refuses the change too; a disabled field keeps the stored limit whatever is posted.
        refusal = limit_change_refusal(membership=membership, target=target)
        if refusal:
            self.fields["daily_spend_limit"].disabled = True
            self.fields["daily_spend_limit"].help_text = refusal


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=False, help_text=_("Used only for password resets."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class TeamSettingsForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)
    auto_cancel_minutes = forms.IntegerField(
        label=_("Cancel numbers that got no code after (minutes)"),
        min_value=0,
        max_value=1440,
        help_text=_(
            "0 keeps them until they expire. Never before the provider's cancel lock; the money comes back."
        ),
    )
