"""Provider profiles: endpoints, dialects and optional actions."""

from providers.profiles import CORE_ACTIONS, OPTIONAL_ACTIONS, PROFILE_CHOICES, PROFILES, get_profile


def test_it_lists_every_known_provider_for_forms():
    assert [slug for slug, _ in PROFILE_CHOICES] == [
        "sms_activate",
        "herosms",
        "grizzlysms",
        "smshub",
        "tiger_sms",
        "fivesim",
        "sms_man",
        "custom",
        "sandbox",
        "sandbox_hero",
    ]
    assert dict(PROFILE_CHOICES)["herosms"] == "HeroSMS"


def test_it_describes_sms_activate_and_herosms():
    classic = get_profile("sms_activate")
    assert (classic.base_url, classic.dialect, classic.currency, classic.timezone) == (
        "https://api.sms-activate.ae",
        "classic",
        "RUB",
        "Europe/Moscow",
    )
    hero = get_profile("herosms")
    assert (hero.base_url, hero.dialect, hero.currency, hero.timezone) == (
        "https://hero-sms.com",
        "hero",
        "USD",
        "UTC",
    )
    assert (hero.cancel_lock_seconds, hero.activation_lifetime_seconds, hero.path) == (
        120,
        1200,
        "/stubs/handler_api.php",
    )


def test_it_knows_what_tiger_sms_lacks():
    tiger = get_profile("tiger_sms")
    assert not tiger.supports_action("getTopCountriesByService")
    assert not tiger.supports_action("getNumbersStatus")
    assert not tiger.supports_action("getOperators")
    assert tiger.supports_action("getActiveActivations")


def test_it_always_supports_core_actions():
    for profile in PROFILES.values():
        assert all(profile.supports_action(action) for action in CORE_ACTIONS), profile.slug
        assert profile.supports <= OPTIONAL_ACTIONS, profile.slug


def test_it_points_the_sandbox_at_the_site_url(settings):
    settings.SITE_URL = "http://testserver:8123/"
    sandbox = get_profile("sandbox")
    assert sandbox.base_url == "http://testserver:8123/sandbox"
    assert get_profile("sandbox_hero").base_url == "http://testserver:8123/sandbox/hero"
    assert sandbox.supports == OPTIONAL_ACTIONS


def test_it_asks_for_a_base_url_only_for_custom_providers():
    assert [profile.slug for profile in PROFILES.values() if profile.needs_base_url] == ["custom"]
    assert get_profile("fivesim").base_url == "http://api1.5sim.net"
    assert get_profile("sms_man").base_url == "https://api.sms-man.ru"
