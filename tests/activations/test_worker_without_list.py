"""A real Celery worker polls a key whose provider has no getActiveActivations, and the code reaches the board."""

from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from activations.tasks import poll_key
from providers.models import MissingAction
from tests.conftest import wait_for


def test_a_real_worker_gets_the_code_of_a_key_without_the_list_onto_the_board(
    worker, make_key, owner, team, alice
):
    api_key, _ = make_key("--sms-delay", "3600", "--no-active-list")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    call_command("sandbox_account", "sms", activation.upstream_id, "Telegram code 60606")
    poll_key.apply_async(args=[api_key.pk], queue=worker)

    def arrived() -> bool:
        return Activation.objects.get(pk=activation.pk).status == ActivationStatus.CODE_RECEIVED

    assert wait_for(arrived), "the worker did not record the code"
    assert MissingAction.objects.filter(api_key=api_key, action="getActiveActivations").exists()
    browser = Client()
    browser.force_login(alice)
    board = browser.get(reverse("activations:board", args=[team.slug])).content.decode()
    assert '<span class="code mono" data-code>60606</span>' in board
