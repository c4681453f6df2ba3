"""Forms for teams, members, invites and sign-up. They validate input; services decide (the audit log's
filters are `accounts.filters.AuditFilters`)."""

import zoneinfo
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from django import forms
from django.conf import settings
from django.contrib.auth.forms import UserCreationForm
from django.utils import timezone
from django.utils.translation import get_language_info
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
        help_text=_(
            "Per day from midnight in the team's time zone, in the currency of the key used. Empty means no limit."
        ),
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


# Russia's zones west to east, then its neighbours': the zones most of our users pick, listed first, by
# their cities' names in the reader's language.
COMMON_ZONES = {
    "Europe/Kaliningrad": _("Kaliningrad"),
    "Europe/Moscow": _("Moscow"),
    "Europe/Samara": _("Samara"),
    "Asia/Yekaterinburg": _("Yekaterinburg"),
    "Asia/Omsk": _("Omsk"),
    "Asia/Novosibirsk": _("Novosibirsk"),
    "Asia/Krasnoyarsk": _("Krasnoyarsk"),
    "Asia/Irkutsk": _("Irkutsk"),
    "Asia/Yakutsk": _("Yakutsk"),
    "Asia/Vladivostok": _("Vladivostok"),
    "Asia/Magadan": _("Magadan"),
    "Asia/Kamchatka": _("Kamchatka"),
    "Europe/Minsk": _("Minsk"),
    "Europe/Kyiv": _("Kyiv"),
    "Europe/Chisinau": _("Chisinau"),
    "Asia/Tbilisi": _("Tbilisi"),
    "Asia/Yerevan": _("Yerevan"),
    "Asia/Baku": _("Baku"),
    "Asia/Almaty": _("Almaty"),
    "Asia/Tashkent": _("Tashkent"),
    "Asia/Bishkek": _("Bishkek"),
    "Asia/Dushanbe": _("Dushanbe"),
    "Asia/Ashgabat": _("Ashgabat"),
    "UTC": "UTC",
}


# The IANA regions, by their names in the reader's language; the legacy aliases (US/..., Etc/...) are not
# offered, every place has its canonical name in one of these.
REGIONS = {
    "Europe": _("Europe"),
    "Asia": _("Asia"),
    "America": _("America"),
    "Africa": _("Africa"),
    "Australia": _("Australia"),
    "Pacific": _("Pacific Ocean"),
    "Atlantic": _("Atlantic Ocean"),
    "Indian": _("Indian Ocean"),
    "Antarctica": _("Antarctica"),
    "Arctic": _("Arctic"),
}


@lru_cache(maxsize=1)
def _zone_names() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The canonical zones this machine knows, grouped by region (REGIONS order), names sorted."""
    groups: dict[str, list[str]] = {region: [] for region in REGIONS}
    for name in zoneinfo.available_timezones():
        region = name.split("/", 1)[0]
        if region in groups and "/" in name:
            groups[region].append(name)
    return tuple((region, tuple(sorted(names))) for region, names in groups.items() if names)


def zone_label(name: str, now: datetime | None = None, city: str | None = None) -> str:
    """ "Europe/Moscow (UTC+03:00)", or "Москва (UTC+03:00)" given its city: the offset now, so a zone can
    be recognised by its clock."""
    offset = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(name)).strftime("%z")
    return f"{city or name.replace('_', ' ')} (UTC{offset[:3]}:{offset[3:]})"


def time_zone_choices() -> list:
    """Grouped choices for a time zone <select>: the common zones first, then every zone by region."""
    now = timezone.now()
    available = zoneinfo.available_timezones()
    common = [
        (name, zone_label(name, now, str(city))) for name, city in COMMON_ZONES.items() if name in available
    ]
    return [
        (_("Common"), common),
        *(
            (REGIONS[region], [(name, zone_label(name, now)) for name in names])
            for region, names in _zone_names()
        ),
    ]


def language_choices() -> list[tuple[str, str]]:
    """The offered languages, each in its own name (English, Русский), as a switcher lists them."""
    return [(code, get_language_info(code)["name_local"]) for code, _name in settings.LANGUAGES]


class PreferencesForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        help_text=_(
            "Every time is shown in this zone. Daily limits always start at midnight in the team's zone."
        ),
    )

    def __init__(self, *args, team_zones: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The browser's language")), *language_choices()]
        default = _("Team's time zone (%(zone)s)") % {"zone": ", ".join(team_zones) or "UTC"}
        self.fields["time_zone"].choices = [("", default), *time_zone_choices()]


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False)


class TeamSettingsForm(forms.Form):
    name = forms.CharField(label=_("Team name"), max_length=100)
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,  # left out: the zone stays as it is
        help_text=_(
            "The team's day starts at midnight here: daily spend limits, key budgets and “spent today”. "
            "Members see times in this zone unless they chose their own."
        ),
    )
    auto_cancel_minutes = forms.IntegerField(
        label=_("Cancel numbers that got no code after (minutes)"),
        min_value=0,
        max_value=1440,
        help_text=_(
            "0 keeps them until they expire. Never before the provider's cancel lock; the money comes back."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = time_zone_choices()
