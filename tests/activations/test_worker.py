"""A real Celery worker process and broker run the poll cycle against the sandbox over HTTP."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from activations.models import Activation, ActivationStatus
from activations.services import BuyRequest, activation_buy
from activations.tasks import poll_activations, poll_key

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@pytest.fixture
def worker(live_server, tmp_path):
    """A Celery worker on its own queue, sharing the test database and broker, pointed at the live sandbox."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SITE_URL": live_server.url,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
    }
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield queue
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    print((tmp_path / "worker.log").read_text()[-3000:])


def wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.3)
    return False


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
