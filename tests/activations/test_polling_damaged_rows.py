"""A list answer with one row the client could read only in part: the poll cycle still records every code
(the damaged row's too), says so on the key's health, and never adopts or matches the damaged row."""

from accounts.models import KeyHealth
from activations import polling
from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from kit.phrases import phrase_text
from tests.integration.test_real_shapes import client_for

from .conftest import set_sandbox


def test_a_damaged_row_still_brings_its_code_and_is_told_on_the_key(make_key, owner):
    api_key, secret = make_key("--sms-delay", "0")
    bought = [
        activation_buy(membership=owner, api_key=api_key, request=BuyRequest(service=service, country=0))
        for service in ("tg", "wa", "vk")
    ]
    set_sandbox(secret, "--fault", "damaged_row=1", "--fault-actions", "getActiveActivations")

    assert polling.poll_key(api_key.pk) == "ok"

    for activation in bought:
        activation.refresh_from_db()
        assert activation.status == ActivationStatus.CODE_RECEIVED, activation.service
        assert activation.last_code
    api_key.refresh_from_db()
    assert api_key.health == KeyHealth.OK
    assert (
        phrase_text(api_key.health_message)
        == "The provider's last list had 1 row that could not be read in full."
    )
    assert Activation.objects.count() == 3  # nothing adopted

    set_sandbox(secret, "--fault", "damaged_row=0")
    polling.poll_key(api_key.pk)
    api_key.refresh_from_db()
    assert api_key.health_message == ""


def test_a_number_bought_outside_is_adopted_only_from_a_whole_row(make_key, owner):
    api_key, secret = make_key("--sms-delay", "0")
    client_for(secret).get_number_v2(service="tg", country=0)  # bought with the key elsewhere
    set_sandbox(secret, "--fault", "damaged_row=1", "--fault-actions", "getActiveActivations")
    polling.poll_key(api_key.pk)
    assert not Activation.objects.exists()
    set_sandbox(secret, "--fault", "damaged_row=0")
    polling.poll_key(api_key.pk)
    assert Activation.objects.count() == 1
