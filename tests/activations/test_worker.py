"""A real Celery worker process and broker run the poll cycle against the sandbox over HTTP."""

from django.core.management import call_command

from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from activations.tasks import poll_activations, poll_key
from tests.conftest import wait_for


def test_a_real_worker_polls_the_key_and_the_code_arrives(worker, make_key, owner):
    api_key, _ = make_key("--sms-delay", "3600")
    activation = activation_buy(
        membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0)
    )
    call_command("sandbox_account", "sms", activation.upstream_id, "Telegram code 31337")
    poll_key.apply_async(args=[api_key.pk], queue=worker)

    def arrived() -> bool:
        activation.refresh_from_db()
        return activation.status == ActivationStatus.CODE_RECEIVED

    assert wait_for(arrived), "the worker did not record the code"
    assert activation.last_code


def test_the_fan_out_sends_one_task_per_busy_key(worker, make_key, owner, settings):
    busy, _ = make_key("--sms-delay", "3600")
    make_key()  # a key with nothing live is not polled
    activation = activation_buy(membership=owner, api_key=busy, request=BuyRequest(service="wa", country=0))
    call_command("sandbox_account", "sms", activation.upstream_id, "WhatsApp code 123-456")
    settings.CELERY_TASK_DEFAULT_QUEUE = worker
    from config.celery import app

    app.conf.task_default_queue = worker
    try:
        assert poll_activations.apply().get() == 1
    finally:
        app.conf.task_default_queue = "celery"
    assert wait_for(lambda: Activation.objects.get(pk=activation.pk).status == ActivationStatus.CODE_RECEIVED)
