"""Known providers that speak the handler_api protocol, and what each of them supports.

A profile tells the client where to call, how to read times and money, and which optional actions
exist, so callers can fall back (e.g. poll ``getStatus`` per number when ``getActiveActivations``
is missing). Core actions (balance, buy, status, prices, countries) are assumed everywhere.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from django.utils.translation import gettext_lazy as _

DEFAULT_PATH = "/stubs/handler_api.php"

# Actions every provider of the protocol answers; anything else must be listed in ``supports``.
CORE_ACTIONS: frozenset[str] = frozenset(
    {"getBalance", "getNumber", "setStatus", "getStatus", "getPrices", "getCountries"}
)

OPTIONAL_ACTIONS: frozenset[str] = frozenset(
    {
        "getNumbersStatus",
        "getTopCountriesByService",
        "getBalanceAndCashBack",
        "getOperators",
        "getActiveActivations",
        "getNumberV2",
        "getMultiServiceNumber",
        "getHistory",
        "getListOfTopCountriesByService",
        "getIncomingCallStatus",
        "getPricesVerification",
        "getServicesList",
        "getAdditionalService",
        "getExtraActivation",
        "checkExtraActivation",
        "createTaskForCall",
        "getOutgoingCalls",
        "getRentServicesAndCountries",
        "getRentNumber",
        "getRentStatus",
        "setRentStatus",
        "getRentList",
        "continueRentNumber",
        "getContinueRentPriceNumber",
    }
)

_RENT = frozenset(
    {
        "getRentServicesAndCountries",
        "getRentNumber",
        "getRentStatus",
        "setRentStatus",
        "getRentList",
        "continueRentNumber",
        "getContinueRentPriceNumber",
    }
)


@dataclass(frozen=True, slots=True)
class ProviderProfile:
    """One provider: endpoint, dialect, currency and time zone of its answers, optional actions and limits.

    ``timezone`` is the zone of naive upstream times (classic dialect); ``requests_per_second`` is the
    default request budget per key; ``cancel_lock_seconds`` / ``activation_lifetime_seconds`` are the
    activation rules used when the provider does not send an end time.
    """

    slug: str
    name: str
    base_url: str
    dialect: Literal["classic", "hero"]
    currency: Literal["RUB", "USD"]
    timezone: str
    supports: frozenset[str]
    requests_per_second: float
    cancel_lock_seconds: int = 120
    activation_lifetime_seconds: int = 1200
    path: str = DEFAULT_PATH

    def supports_action(self, name: str) -> bool:
        """Whether the provider answers ``name`` (core actions always, optional ones if listed)."""
        return name in CORE_ACTIONS or name in self.supports

    @property
    def needs_base_url(self) -> bool:
        """True when the user must give the base URL (custom providers)."""
        return not self.base_url


PROFILES: dict[str, ProviderProfile] = {
    profile.slug: profile
    for profile in (
        ProviderProfile(
            slug="sms_activate",
            name="SMS-Activate",
            base_url="https://api.sms-activate.ae",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            supports=OPTIONAL_ACTIONS,
            requests_per_second=3.0,
        ),
        ProviderProfile(
            slug="herosms",
            name="HeroSMS",
            base_url="https://hero-sms.com",
            dialect="hero",
            currency="USD",
            timezone="UTC",
            # No forwarding extras, calls or classic re-activation; rent is bought with ``duration``.
            supports=frozenset(
                {
                    "getNumbersStatus",
                    "getTopCountriesByService",
                    "getBalanceAndCashBack",
                    "getOperators",
                    "getActiveActivations",
                    "getNumberV2",
                    "getHistory",
                    "getListOfTopCountriesByService",
                    "getPricesVerification",
                    "getServicesList",
                    "getRentServicesAndCountries",
                    "getRentNumber",
                    "getRentStatus",
                    "setRentStatus",
                    "getRentList",
                }
            ),
            # HeroSMS answers 429 after about six quick requests.
            requests_per_second=1.0,
        ),
        ProviderProfile(
            slug="grizzlysms",
            name="GrizzlySMS",
            base_url="https://api.grizzlysms.com",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            supports=frozenset(
                {"getNumbersStatus", "getActiveActivations", "getNumberV2", "getServicesList", "getOperators"}
            )
            | _RENT,
            requests_per_second=2.0,
        ),
        ProviderProfile(
            slug="smshub",
            name="SMSHub",
            base_url="https://smshub.org",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            supports=frozenset({"getNumbersStatus"}),
            requests_per_second=2.0,
        ),
        ProviderProfile(
            slug="tiger_sms",
            name="Tiger SMS",
            base_url="https://api.tiger-sms.com",
            dialect="classic",
            currency="USD",
            timezone="UTC",
            # Tiger answers BAD_ACTION to getTopCountriesByService, getNumbersStatus and getOperators.
            supports=frozenset({"getActiveActivations", "getNumberV2", "getServicesList", "getHistory"}),
            requests_per_second=1.0,
        ),
        ProviderProfile(
            slug="fivesim",
            name=_("5SIM (compatible API)"),
            base_url="http://api1.5sim.net",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            supports=frozenset({"getNumbersStatus"}),
            requests_per_second=2.0,
        ),
        ProviderProfile(
            slug="sms_man",
            name="SMS-MAN",
            base_url="https://api.sms-man.ru",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            supports=frozenset({"getNumbersStatus", "getNumberV2"}),
            requests_per_second=2.0,
        ),
        ProviderProfile(
            slug="custom",
            name=_("Other compatible provider"),
            base_url="",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            # Unknown capabilities: every optional action is tried. A BAD_ACTION to getActiveActivations
            # (SMSBower) is kept on the key (providers.models.MissingAction) and its numbers are polled with
            # one getStatus each, within the key's request budget; the list is tried again a day later.
            supports=OPTIONAL_ACTIONS,
            requests_per_second=1.0,
        ),
        ProviderProfile(
            slug="sandbox",
            name=_("Sandbox (built-in test provider)"),
            base_url="http://127.0.0.1:8000/sandbox",
            dialect="classic",
            currency="RUB",
            timezone="Europe/Moscow",
            supports=OPTIONAL_ACTIONS,
            requests_per_second=20.0,
        ),
        ProviderProfile(
            slug="sandbox_hero",
            name=_("Sandbox, HeroSMS dialect (built-in test provider)"),
            base_url="http://127.0.0.1:8000/sandbox/hero",
            dialect="hero",
            currency="USD",
            timezone="UTC",
            supports=OPTIONAL_ACTIONS,
            requests_per_second=20.0,
        ),
    )
}

# The built-in sandbox is served by this same site, so its URL follows settings.SITE_URL.
SANDBOX_PATHS = {"sandbox": "/sandbox", "sandbox_hero": "/sandbox/hero"}

PROFILE_CHOICES: list[tuple[str, str]] = [(profile.slug, profile.name) for profile in PROFILES.values()]


def _site_url() -> str | None:
    try:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured
    except ImportError:
        return None
    try:
        return getattr(settings, "SITE_URL", None)
    except ImproperlyConfigured:
        return None


def get_profile(slug: str) -> ProviderProfile:
    """The profile named ``slug`` (``KeyError`` if unknown); the sandbox follows ``settings.SITE_URL``."""
    profile = PROFILES[slug]
    if slug in SANDBOX_PATHS:
        site_url = _site_url()
        if site_url:
            profile = dataclasses.replace(profile, base_url=site_url.rstrip("/") + SANDBOX_PATHS[slug])
    return profile
