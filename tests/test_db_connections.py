"""The threaded development server never holds more PostgreSQL connections than configured: it starts a
thread per request, and each thread used to keep its own connection open (one dev instance held 31 idle
ones). A real `manage.py runserver` against this test database takes 30 requests at once, each holding its
connection for a while (the sandbox's latency), while a separate connection counts the server's in
`pg_stat_activity` (its connections carry their own application name)."""

import os
import signal
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
import requests
from django.core.management import call_command
from django.db import connection

from tests.conftest import ROOT, _database_url, sandbox_account, wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="connection pools are PostgreSQL's; CI runs it"
    ),
]

REQUESTS = 30
APP_NAME = "simdesk-connection-bound"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serving(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _server_connections(monitor: psycopg.Connection) -> int:
    return monitor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
        (connection.settings_dict["NAME"], APP_NAME),
    ).fetchone()[0]


def burst(tmp_path: Path, **env: str) -> tuple[int, int]:
    """Serve with runserver under `env`, send `REQUESTS` requests at once; the most connections the server
    held at any moment, and how many it still holds once every answer came."""
    key = sandbox_account("--balance", "100")
    call_command("sandbox_account", "set", key, "--latency-ms", "300")  # each request holds its connection
    port = _free_port()
    inherited = {name: value for name, value in os.environ.items() if not name.startswith("DB_POOL_")}
    server_env = {**inherited, "DATABASE_URL": _database_url(), "PGAPPNAME": APP_NAME, "DEBUG": "1", **env}
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload", "--skip-checks"],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    params = connection.get_connection_params()
    monitor = psycopg.connect(
        dbname="postgres", **{k: v for k, v in params.items() if k in ("host", "port", "user", "password")}
    )
    monitor.autocommit = True
    try:
        assert wait_for(lambda: _serving(port)), (tmp_path / "runserver.log").read_text()
        url = f"http://127.0.0.1:{port}/sandbox/stubs/handler_api.php"
        peak = 0
        with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
            answers = [
                pool.submit(requests.get, url, params={"api_key": key, "action": "getBalance"}, timeout=60)
                for _ in range(REQUESTS)
            ]
            while not all(answer.done() for answer in answers):
                peak = max(peak, _server_connections(monitor))
            assert [answer.result().text[:15] for answer in answers] == ["ACCESS_BALANCE:"] * REQUESTS
        after = _server_connections(monitor)
        print(f"runserver {env}: {peak} connections at most, {after} held after")
        return peak, after
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
        monitor.close()
        log.close()


def test_the_dev_server_holds_at_most_its_pool(tmp_path):
    peak, after = burst(tmp_path, DB_POOL_MAX="3")
    assert 1 <= peak <= 3
    assert after <= 3


def test_the_dev_server_pools_by_default(tmp_path):
    peak, after = burst(tmp_path, DB_CONN_MAX_AGE="60")  # persistent connections asked for: pooled instead
    assert 1 <= peak <= 4
    assert after <= 4


def test_without_a_pool_the_dev_server_keeps_no_connection_open(tmp_path):
    """The measure is real: without a pool the same burst opens a connection per request at once, and none
    stays open after (no persistent connections in the dev server, whatever DB_CONN_MAX_AGE says)."""
    peak, after = burst(tmp_path, DB_POOL_MAX="0", DB_CONN_MAX_AGE="60")
    assert peak > 4
    assert after == 0
