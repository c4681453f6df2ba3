"""The per-key request budget: a token bucket, in the database or in Redis, shared by every process."""

import logging
import os
import select
import subprocess
import sys
import time
import uuid

import pytest
import redis
from django.db import connection
from django.test.utils import CaptureQueriesContext

from providers import ratelimit
from providers.models import RequestBudget
from providers.ratelimit import MAX_WAIT_SECONDS, throttle_for
from tests.conftest import ROOT, _database_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


class FakeTime:
    """A wall clock that moves only when the code under test sleeps (or the test advances it)."""

    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Waited(Exception):
    """Raised by a `sleep` that refuses to sleep: carries the wait the throttle asked for."""


def refuse_to_sleep(seconds: float) -> None:
    raise Waited(seconds)


@pytest.fixture(autouse=True)
def _redis_up(monkeypatch):
    """Each test starts with Redis (where configured) considered reachable."""
    monkeypatch.setattr(ratelimit, "_redis_down_until", 0.0)
    monkeypatch.setattr(ratelimit, "_redis_down", False)


@pytest.fixture
def in_database(settings, db) -> None:
    settings.REDIS_URL = ""


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def redis_bucket(settings):
    """A fresh bucket name on the test Redis (set as `settings.REDIS_URL`); its key is removed afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.REDIS_URL = REDIS_URL
    name = f"test-{uuid.uuid4().hex}"
    yield name, client
    client.delete(ratelimit.REDIS_KEY_PREFIX + name, ratelimit.REDIS_KEY_PREFIX + name + "-warm")
    client.close()


# --- the bucket's arithmetic, on the database and a fake clock -------------------------------------


def test_a_full_bucket_lets_a_burst_through_then_paces_at_the_rate(in_database, fake):
    throttle = throttle_for("k1", 2, clock=fake, sleep=fake.sleep)
    throttle()
    throttle()
    assert fake.sleeps == []  # the burst: capacity 2
    throttle()
    throttle()
    assert fake.sleeps == [0.5, 0.5]  # then one request every 1/rate seconds


def test_it_refills_at_the_rate_up_to_the_capacity(in_database, fake):
    throttle = throttle_for("k1", 4, clock=fake, sleep=fake.sleep)
    for _ in range(4):
        throttle()
    fake.now += 0.5  # two tokens back
    throttle()
    throttle()
    assert fake.sleeps == []
    throttle()
    assert fake.sleeps == [0.25]

    fake.now += 100.0  # a long pause refills to the capacity, not to 400
    for _ in range(4):
        throttle()
    assert fake.sleeps == [0.25]
    throttle()
    assert fake.sleeps == [0.25, 0.25]


def test_the_wait_is_the_time_until_the_next_token(in_database, fake):
    throttle = throttle_for("k1", 4, clock=fake, sleep=fake.sleep)
    for _ in range(4):
        throttle()
    fake.now += 0.125  # half a token
    throttle()
    assert fake.sleeps == [0.125]
    assert RequestBudget.objects.get(name="k1").tokens == 0.0


def test_a_fractional_rate_allows_one_request_at_a_time(in_database, fake):
    throttle = throttle_for("k1", 0.5, clock=fake, sleep=fake.sleep)
    throttle()
    throttle()
    assert fake.sleeps == [2.0]


def test_it_never_waits_longer_than_max_wait_then_goes_ahead(in_database, fake):
    throttle = throttle_for("k1", 0.05, clock=fake, sleep=fake.sleep)  # one request per 20 s
    throttle()
    throttle()
    assert fake.sleeps == [MAX_WAIT_SECONDS]  # then it went ahead without a token...
    throttle()
    assert fake.sleeps == [MAX_WAIT_SECONDS, 10.0]  # ...so the token due at 20 s is still there


def test_keys_have_separate_budgets(in_database, fake):
    first = throttle_for("k2", 1, clock=fake, sleep=fake.sleep)
    second = throttle_for("k3", 1, clock=fake, sleep=fake.sleep)
    first()
    second()
    assert fake.sleeps == []
    first()
    assert fake.sleeps == [1.0]


def test_a_granted_request_costs_one_query(in_database, fake):
    throttle = throttle_for("k1", 5, clock=fake, sleep=fake.sleep)
    throttle()  # creates the bucket
    with CaptureQueriesContext(connection) as queries:
        throttle()
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("UPDATE")


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        throttle_for("k1", 0)


# --- Redis ----------------------------------------------------------------------------------------


def test_the_redis_bucket_lets_a_burst_through_then_asks_to_wait(redis_bucket):
    """No `db` fixture: with Redis configured the database is never touched."""
    name, client = redis_bucket
    throttle = throttle_for(name, 5, sleep=refuse_to_sleep)
    for _ in range(5):
        throttle()
    with pytest.raises(Waited) as waited:
        throttle()
    assert 0.1 < waited.value.args[0] <= 0.2  # the next token, 1/5 s after the burst (minus time spent)
    assert 0 < client.pttl(ratelimit.REDIS_KEY_PREFIX + name) <= 2000  # gone once it would be full again


def test_without_redis_it_falls_back_to_the_database_and_warns_once(settings, db, fake, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    throttle = throttle_for("k1", 2, clock=fake, sleep=fake.sleep)
    with caplog.at_level(logging.WARNING, logger="providers.ratelimit"):
        for _ in range(3):
            throttle()
    assert fake.sleeps == [0.5]
    assert RequestBudget.objects.filter(name="k1").exists()
    assert len(caplog.records) == 1
    assert "using the database bucket" in caplog.records[0].getMessage()


# --- several processes on one bucket ---------------------------------------------------------------

# A child process: for each line `bucket rate redis-url|- start stop` on stdin it takes from the bucket as
# fast as it lets it between `start` and `stop` and prints how many requests it let through. A warm-up
# bucket opens the connection (and loads the Lua script) before `start`.
CHILD = """
import sys, time
import django
django.setup()
from django.conf import settings
from providers.ratelimit import throttle_for
print("ready", flush=True)
for line in sys.stdin:
    name, rate, redis_url, start, stop = line.split()
    settings.REDIS_URL = "" if redis_url == "-" else redis_url
    throttle_for(name + "-warm", 1000)()
    throttle = throttle_for(name, float(rate))
    time.sleep(max(0.0, float(start) - time.time()))
    granted = 0
    while True:
        throttle()
        if time.time() >= float(stop):
            break
        granted += 1
    print(granted, flush=True)
"""

PROCESSES = 3
RATE = 10.0  # capacity 10
SECONDS = 1.0


class Children:
    """PROCESSES child processes on the test database, started once for the module (they take a while)."""

    def __init__(self, tmp_path) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": _database_url(),
            "DB_CONN_MAX_AGE": "0",
            "REDIS_URL": "",
        }
        self.errors = [tmp_path / f"child-{i}.err" for i in range(PROCESSES)]
        self.processes: list[subprocess.Popen] = []
        for error in self.errors:
            with error.open("w") as stderr:
                self.processes.append(
                    subprocess.Popen(
                        [sys.executable, "-c", CHILD],
                        cwd=ROOT,
                        env=env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=stderr,
                        text=True,
                    )
                )

    def read_lines(self, timeout: float) -> list[str]:
        deadline = time.monotonic() + timeout
        lines = []
        for process, error in zip(self.processes, self.errors, strict=True):
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, deadline - time.monotonic()))
            line = process.stdout.readline() if ready else ""
            assert line, f"a child said nothing: {error.read_text()[-2000:]}"
            lines.append(line.strip())
        return lines

    def run(self, name: str, redis_url: str) -> tuple[list[int], float]:
        """Every child takes from the bucket `name` for SECONDS; the grants of each and the seconds."""
        assert all(process.poll() is None for process in self.processes), "the children failed earlier"
        start = time.time() + 0.3
        stop = start + SECONDS
        try:
            for process in self.processes:
                process.stdin.write(f"{name} {RATE!r} {redis_url or '-'} {start!r} {stop!r}\n")
                process.stdin.flush()
            return [int(line) for line in self.read_lines(timeout=30)], stop - start
        except BaseException:
            self.close()  # a round that went wrong leaves nothing behind for the next one
            raise

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture(scope="module")
def children(django_db_setup, tmp_path_factory):
    pool = Children(tmp_path_factory.mktemp("ratelimit"))
    try:
        assert pool.read_lines(timeout=60) == ["ready"] * PROCESSES
        yield pool
    finally:
        pool.close()


def assert_within_allowance(granted: list[int], seconds: float) -> None:
    capacity = max(1, int(RATE))
    allowance = capacity + RATE * seconds  # a full bucket at the start, then the refill
    total = sum(granted)
    assert total <= allowance + 1, f"{granted}: {total} requests let through, {allowance:g} allowed"
    assert total > capacity, f"{granted}: the bucket never refilled"


@pytest.mark.django_db(transaction=True)
def test_processes_sharing_a_database_bucket_stay_within_its_allowance(children):
    granted, seconds = children.run(f"test-{uuid.uuid4().hex}", "")
    assert_within_allowance(granted, seconds)


@pytest.mark.django_db(transaction=True)  # the test database, should a child fall back to it
def test_processes_sharing_a_redis_bucket_stay_within_its_allowance(redis_bucket, children):
    name, _ = redis_bucket
    granted, seconds = children.run(name, REDIS_URL)
    assert_within_allowance(granted, seconds)
