"""Optional actions a key's provider turned out to lack: learned from BAD_ACTION, kept, tried again a day later."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey
from providers import errors
from providers.capabilities import ACTION_RECHECK, api_key_try_action
from providers.models import MissingAction

ACTION = "getActiveActivations"


@pytest.fixture
def make_api_key(team):
    def make(profile: str = "custom") -> ApiKey:
        return ApiKey.objects.create(
            team=team,
            label=profile,
            profile=profile,
            base_url="https://provider.example" if profile == "custom" else "",
            secret_encrypted=encrypt_secret("secret-key-abcd"),
            secret_last4="abcd",
        )

    return make


class Upstream:
    """Stands in for one client call: answers `result`, or raises `error`; counts the calls."""

    def __init__(self, result=("row",), error: errors.ProviderError | None = None) -> None:
        self.result, self.error, self.calls = result, error, 0

    def __call__(self):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.result


def test_it_calls_an_action_the_provider_has_and_learns_nothing(make_api_key):
    api_key, upstream = make_api_key(), Upstream()
    assert api_key_try_action(api_key=api_key, action=ACTION, call=upstream) == ("row",)
    assert upstream.calls == 1 and not MissingAction.objects.exists()


def test_it_learns_bad_action_once_and_keeps_it_on_the_key(make_api_key):
    api_key, upstream = make_api_key(), Upstream(error=errors.BadAction())
    now = timezone.now()
    assert api_key_try_action(api_key=api_key, action=ACTION, call=upstream, now=now) is None
    learned = MissingAction.objects.get(api_key=api_key, action=ACTION)
    assert learned.learned_at == now and upstream.calls == 1
    # Within the day the provider is not asked again.
    for hours in (1, 12, 23):
        later = now + timedelta(hours=hours)
        assert api_key_try_action(api_key=api_key, action=ACTION, call=upstream, now=later) is None
    assert upstream.calls == 1
    # Another key of the same team learns for itself.
    other = Upstream()
    assert api_key_try_action(api_key=make_api_key(), action=ACTION, call=other, now=now) == ("row",)


def test_it_tries_again_after_a_day_and_forgets_once_the_action_answers(make_api_key):
    api_key, upstream = make_api_key(), Upstream(error=errors.BadAction())
    start = timezone.now()
    api_key_try_action(api_key=api_key, action=ACTION, call=upstream, now=start)
    next_day = start + ACTION_RECHECK + timedelta(seconds=1)
    assert api_key_try_action(api_key=api_key, action=ACTION, call=upstream, now=next_day) is None
    assert upstream.calls == 2
    # Still missing: the day starts again from the re-check.
    assert MissingAction.objects.get(api_key=api_key).learned_at == next_day
    assert (
        api_key_try_action(api_key=api_key, action=ACTION, call=upstream, now=next_day + timedelta(hours=2))
        is None
    )
    assert upstream.calls == 2
    # The provider added the action: the next re-check uses it and the key forgets what it learned.
    upstream.error = None
    day_after = next_day + ACTION_RECHECK + timedelta(seconds=1)
    assert api_key_try_action(api_key=api_key, action=ACTION, call=upstream, now=day_after) == ("row",)
    assert upstream.calls == 3 and not MissingAction.objects.exists()


def test_an_action_the_profile_does_not_list_is_never_called(make_api_key):
    api_key, upstream = make_api_key("smshub"), Upstream()
    assert api_key_try_action(api_key=api_key, action=ACTION, call=upstream) is None
    assert upstream.calls == 0 and not MissingAction.objects.exists()


@pytest.mark.parametrize(
    "error", [errors.BadKey(), errors.Banned(), errors.ErrorSql(), errors.UpstreamUnavailable()], ids=repr
)
def test_other_errors_propagate_and_teach_nothing(make_api_key, error):
    api_key = make_api_key()
    with pytest.raises(type(error)):
        api_key_try_action(api_key=api_key, action=ACTION, call=Upstream(error=error))
    assert not MissingAction.objects.exists()


def test_the_learned_action_goes_with_the_key(make_api_key):
    api_key = make_api_key()
    api_key_try_action(api_key=api_key, action=ACTION, call=Upstream(error=errors.BadAction()))
    api_key.delete()
    assert not MissingAction.objects.exists()
