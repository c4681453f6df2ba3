"""Forms for teams, members, invites, sign-up and the audit filter. They validate input; services decide."""

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiKey, Membership, Role, Team, User

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


class SignupForm(UserCreationForm):
    email = forms.EmailField(label=_("Email"), required=False, help_text=_("Used only for password resets."))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class AuditFilterForm(forms.Form):
    """Filters of the audit log. Members and keys are chosen by UUID from the team's own rows only."""

    action = forms.ChoiceField(label=_("Action"), required=False)
    member = forms.ModelChoiceField(
        label=_("Member"), required=False, queryset=User.objects.none(), to_field_name="public_id"
    )
    key = forms.ModelChoiceField(
        label=_("Key"), required=False, queryset=ApiKey.objects.none(), to_field_name="public_id"
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, team: Team, actions: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("All actions")), *[(a, a) for a in actions]]
        self.fields["member"].queryset = User.objects.filter(memberships__team=team).order_by("username")
        self.fields["member"].empty_label = _("Everyone")
        self.fields["key"].queryset = ApiKey.objects.filter(team=team).order_by("label")
        self.fields["key"].empty_label = _("All keys")
        self.fields["member"].label_from_instance = lambda user: user.username
        self.fields["key"].label_from_instance = lambda key: f"{key.label} ({key.masked})"


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
