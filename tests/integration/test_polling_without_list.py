"""A provider without getActiveActivations, set up as a custom provider the way a team adds SMSBower: over
real HTTP against the sandbox speaking it (`--no-active-list`), in both dialects, a bought number's code
reaches our records in one poll cycle."""

import pytest
from django.core.management import call_command

from accounts.crypto import encrypt_secret
from accounts.models import ApiKey, KeyHealth, Membership
from activations import polling
from activations.models import Activation, ActivationStatus, Sms, SmsVia
from activations.services import BuyRequest, activation_buy
from providers import errors
from providers.keys import client_for_key
from providers.models import MissingAction
from tests.conftest import sandbox_account


@pytest.fixture(autouse=True)
def _steady_prices(settings):
    settings.SANDBOX_PRICE_DRIFT = False


@pytest.mark.parametrize("dialect", ["classic", "hero"])
def test_a_custom_provider_without_the_list_gets_its_codes(team, alice, sandbox_url, dialect):
    secret = sandbox_account(
        "--balance", "1000", "--dialect", dialect, "--sms-delay", "3600", "--no-active-list"
    )
    api_key = ApiKey.objects.create(
        team=team,
        label="SMSBower",
        profile="custom",
        base_url=sandbox_url,
        secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:],
        currency="USD" if dialect == "hero" else "RUB",
        health=KeyHealth.OK,
    )
    # The provider speaks it on the wire: BAD_ACTION, in its dialect.
    with pytest.raises(errors.BadAction):
        client_for_key(api_key).get_active_activations()

    owner = Membership.objects.get(team=team, user=alice)
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    assert activation.status == ActivationStatus.WAITING and activation.upstream_id
    call_command("sandbox_account", "sms", activation.upstream_id, "Your Telegram code 48213")

    assert polling.poll_key(api_key.pk) == "ok"
    activation = Activation.objects.get(pk=activation.pk)
    assert activation.status == ActivationStatus.CODE_RECEIVED and activation.last_code == "48213"
    assert Sms.objects.get(activation=activation).via == SmsVia.POLL
    assert MissingAction.objects.filter(api_key=api_key, action="getActiveActivations").exists()
