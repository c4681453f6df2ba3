"""The fixed cast: alice owns Acme, dave is its admin, bob an operator, vera a viewer; charlie owns Other."""

import io
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client

from accounts.models import Membership, Role, Team, User

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """One test database per test run, so runs side by side (and their worker processes) never collide."""
    db = django_settings.DATABASES["default"]
    test = db.setdefault("TEST", {})
    if db["ENGINE"].endswith("sqlite3"):
        test["NAME"] = f"{test.get('NAME') or db['NAME']}.{os.getpid()}"
    else:
        test["NAME"] = f"test_{db['NAME']}_{os.getpid()}"


def _user(username: str) -> User:
    return User.objects.create_user(username=username, password=PASSWORD, email=f"{username}@example.com")


@pytest.fixture
def alice(db) -> User:
    return _user("alice")


@pytest.fixture
def team(alice) -> Team:
    team = Team.objects.create(name="Acme", slug="acme")
    Membership.objects.create(team=team, user=alice, role=Role.OWNER)
    return team


def _member(team: Team, username: str, role: str) -> User:
    user = _user(username)
    Membership.objects.create(team=team, user=user, role=role)
    return user


@pytest.fixture
def dave(team) -> User:
    return _member(team, "dave", Role.ADMIN)


@pytest.fixture
def bob(team) -> User:
    return _member(team, "bob", Role.OPERATOR)


@pytest.fixture
def vera(team) -> User:
    return _member(team, "vera", Role.VIEWER)


@pytest.fixture
def charlie(db) -> User:
    charlie = _user("charlie")
    other = Team.objects.create(name="Other", slug="other")
    Membership.objects.create(team=other, user=charlie, role=Role.OWNER)
    return charlie


@pytest.fixture
def sandbox_url(live_server, settings) -> str:
    """Base URL of the sandbox provider served by the live server (the client appends /stubs/handler_api.php)."""
    settings.SITE_URL = live_server.url
    return f"{live_server.url}/sandbox"


def login(user) -> Client:
    """A test client logged in as `user` (no password round: the fast path every view test starts from)."""
    client = Client()
    client.force_login(user)
    return client


def sandbox_account(*args: str) -> str:
    """Create a sandbox account through its management command and return the key it prints."""
    out = io.StringIO()
    call_command("sandbox_account", "create", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def sandbox_key(sandbox_url) -> str:
    return sandbox_account("--balance", "1000")


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Every test creates its cast: a cheap hasher instead of hundreds of thousands of PBKDF2 rounds each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def provider_pauses(monkeypatch) -> list[float]:
    """The pauses the provider client takes before retrying a read, recorded instead of slept: retries
    still happen over real HTTP, only the waiting is skipped (worker processes still wait for real)."""
    pauses: list[float] = []
    monkeypatch.setattr("providers.client._sleep", pauses.append)
    return pauses


@pytest.fixture(autouse=True)
def _no_delayed_banner(monkeypatch):
    """The "live updates are delayed" banner is process-wide for a minute after a failure: a test that
    breaks the broker or the cache on purpose must not show it on the pages of the tests after it."""
    from kit import degraded

    monkeypatch.setattr(degraded, "_delayed_until", 0.0)


@pytest.fixture(autouse=True)
def _private_cache(settings):
    """Each test gets an empty in-process cache: request budgets and catalog lookups never leak between tests."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "tests"}
    }
    from django.core.cache import cache

    cache.clear()


ROOT = Path(__file__).resolve().parents[1]


def _database_url() -> str:
    db = django_settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


@contextmanager
def celery_worker(live_server, tmp_path: Path, *, beat: bool, queue: str | None = None) -> Iterator[str]:
    """A real Celery worker process on its own queue (or `queue`, to share one between workers), sharing the
    test database and broker and pointed at the live sandbox; with `beat`, it also runs the whole schedule
    (every second) onto that queue."""
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    name = f"w{uuid.uuid4().hex[:6]}@%h"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SITE_URL": live_server.url,
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "SIMDESK_POLL_INTERVAL": "1",
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-Q", queue, "-n", name,
               "--without-heartbeat", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]  # fmt: skip
    if beat:
        command += ["--beat", "--schedule", str(tmp_path / "beat-schedule")]
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield queue
        finally:
            # Killed, not asked to stop: a warm shutdown takes 3-4 s and is not what any test is about, and
            # the database rolls back a write cut short. The whole process group, so beat goes too.
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print(log_path.read_text()[-3000:])


@pytest.fixture
def worker(live_server, tmp_path) -> Iterator[str]:
    """A real worker on its own queue; send it tasks with `apply_async(queue=worker)`."""
    with celery_worker(live_server, tmp_path, beat=False) as queue:
        yield queue


def wait_for(predicate, timeout: float = 30.0) -> bool:
    """Whether `predicate()` came true within `timeout` seconds: for what another process (a worker) does,
    which this one can only look at. Looked at every 50 ms: it is a cheap query."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def run_jobs(monkeypatch):
    """Work a page hands to the worker (kit.jobs.job_enqueue) runs in this process as soon as it is
    enqueued, as a worker would run it (the test's transaction never commits, so `on_commit` is called at
    once). `tests/prices/test_jobs.py` runs the same pages against a real worker."""
    from config.celery import app
    from kit import jobs

    monkeypatch.setitem(app.conf, "task_always_eager", True)
    monkeypatch.setattr(jobs.transaction, "on_commit", lambda callback, *args, **kwargs: callback())


@pytest.fixture
def job_worker(live_server, sandbox_url, tmp_path, monkeypatch, settings) -> Iterator[str]:
    """A real worker for the work pages hand over (kit.jobs): on the queue `job_enqueue` uses, and sharing
    this process's cache, where jobs live (the file cache the settings give without Redis; each test
    process otherwise has a private in-memory one)."""
    monkeypatch.setenv("REDIS_URL", "")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(settings.VAR_DIR / "cache"),
        }
    }
    with celery_worker(live_server, tmp_path, beat=False) as queue:
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        yield queue
