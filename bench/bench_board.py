"""The live board under load, and how soon a code shows on it: ratios measured side by side in one run.

1. Board load. gunicorn (2 sync workers, DEBUG=0, bench/settings_board.py: the product's settings with one
   bench-only route) on PostgreSQL; a team whose board holds 30 live numbers on 4 keys (some with codes, a
   few just finished), its owner logged in. wrk hits, in alternating rounds on the same server, (a) the
   board's poll as the page sends it (`HX-Request: true`, `?v=<the board's current version token>`), which
   answers 204 because nothing changed, and (b) a bare Django view answering 204 (bench/urls.py), with the
   same session cookie. Both are checked to answer 204 before and after every round.
2. The code's latency. A real Celery worker with beat (as the Procfile runs it, SIMDESK_POLL_INTERVAL=2;
   the broker CELERY_BROKER_URL names, the default folder if none) against the sandbox on the same
   gunicorn. Codes arrive at random moments over a window (so at every phase of the worker's cycle); the
   bench polls the board every 50 ms with the token it last got, and "shown" is the first poll answering
   200 with the code in the board. (a) webhook: from the sandbox posting the code's webhook to the key's
   URL, to shown; (b) poll: from the code reaching the sandbox (an account without webhook_url), so that
   only the worker's poll cycle brings it, to shown. It also prints when each was stored in simdesk's
   database. A browser polls every 2 s (the board's `hx-trigger="every 2s"`), which adds up to 2 s on screen.

Run: .venv/bin/python bench/bench_board.py [--rounds 3] [--seconds 5] [--samples 20]
Needs wrk (Debian/Ubuntu: apt-get install wrk). PostgreSQL at BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432): a throwaway database simdesk_bench_board, dropped at the end; when it is
unreachable, a SQLite file (said so). Prints ratios; asserts nothing.
"""

import argparse
import logging
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

from _harness import ROOT, add_sandbox_key, ratio, sandbox_team, setup_django

PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
DB_NAME = "simdesk_bench_board"
INTERVAL = 2.0
WRK_ARGS = ["-t2", "-c16"]
LOOK_EVERY = 0.05
TOKEN_RE = re.compile(r"[?;&]v=([0-9.]+)\"")


def need_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench_board: wrk is not installed; install it with: sudo apt-get install wrk", file=sys.stderr)
        raise SystemExit(2)
    return wrk


def postgres_database() -> bool:
    """A fresh throwaway database at PG_URL, named in DATABASE_URL; False when PostgreSQL is unreachable."""
    try:
        import psycopg

        with psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    except Exception as exc:  # any failure: not reachable, no rights, no driver
        print(
            f"PostgreSQL at {PG_URL} is unreachable ({type(exc).__name__}): measuring on a SQLite file instead"
        )
        os.environ.pop("DATABASE_URL", None)
        return False
    os.environ["DATABASE_URL"] = f"{PG_URL}/{DB_NAME}"
    return True


def drop_postgres_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_URL}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


WRK = need_wrk()
POSTGRES = postgres_database()
os.environ["SIMDESK_POLL_INTERVAL"] = str(INTERVAL)
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_board"
# A queue of its own, so a broker shared with anything else (CELERY_BROKER_URL=redis://...) mixes nothing.
os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-board-{uuid.uuid4().hex[:8]}"
setup_django(keep_database_url=POSTGRES)
logging.getLogger("kombu").setLevel(logging.ERROR)

import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from activations import polling, selectors  # noqa: E402
from activations.filters import BoardFilters  # noqa: E402
from activations.models import Activation, Sms  # noqa: E402
from activations.services import BuyRequest, activation_buy, activation_set_status  # noqa: E402
from sandbox import services as sandbox_services  # noqa: E402
from sandbox.models import Account  # noqa: E402

VAR_DIR = Path(os.environ["SIMDESK_VAR_DIR"])
# Production settings serve collected static files from here; the bench requests none.
(VAR_DIR / "staticfiles").mkdir(exist_ok=True)
SERVICES = ["tg", "wa", "vk", "go", "fb", "ig"]


# --- processes -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    log = (VAR_DIR / f"{name}.log").open("w")
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> None:
    if process is None or process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def start_gunicorn() -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = f"-m gunicorn config.wsgi:application --workers 2 --worker-class sync --bind 127.0.0.1:{port}"
    process = start(
        "gunicorn",
        [sys.executable, *command.split(), "--log-level", "warning"],
        {"DJANGO_SETTINGS_MODULE": "bench.settings_board", "SITE_URL": url},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{(VAR_DIR / 'gunicorn.log').read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/bench/bare-204", timeout=10).status_code == 204:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise SystemExit(
        f"gunicorn did not answer within 60 s:\n{(VAR_DIR / 'gunicorn.log').read_text()[-2000:]}"
    )


def start_worker(url: str) -> subprocess.Popen:
    """A worker with beat as the Procfile runs it (prefork, 2 processes), pointed at the bench's server."""
    command = "-m celery -A config worker -B --concurrency 2 --loglevel WARNING --without-heartbeat"
    command += " --without-gossip --without-mingle"
    return start(
        "worker",
        [sys.executable, *command.split(), "--schedule", str(VAR_DIR / "beat-schedule")],
        {"DJANGO_SETTINGS_MODULE": "config.settings", "SITE_URL": url},
    )


# --- the team and its board ------------------------------------------------------------------------


def buy(owner, api_key, service: str) -> Activation:
    return activation_buy(membership=owner, api_key=api_key, request=BuyRequest(service=service, country=0))


def push_code(activation: Activation, code: str) -> None:
    """The code reaches the sandbox now (as `sandbox_account sms` does); a webhook is queued if the account has one."""
    sandbox_services.sms_push(target_id=int(activation.upstream_id), text=f"Your code is {code}")


def realistic_board():
    """A team with 4 keys and a board of 30 live numbers (6 with a code) and 3 finished a moment ago; the
    owner, the key without a webhook and the key with one."""
    _secret, owner, polled = sandbox_team("--balance", "100000", "--sms-delay", "3600")
    team = owner.team
    hooked_secret, hooked = add_sandbox_key(team, "hooks", "--balance", "100000", "--sms-delay", "3600")
    webhook = settings.SITE_URL + reverse("activations:webhook", args=[hooked.webhook_token])
    Account.objects.filter(key=hooked_secret).update(webhook_url=webhook)
    others = [
        add_sandbox_key(team, f"spare-{n}", "--balance", "100000", "--sms-delay", "3600")[1] for n in (1, 2)
    ]
    keys = [polled, hooked, *others]
    live = [buy(owner, keys[n % len(keys)], SERVICES[n % len(SERVICES)]) for n in range(33)]
    for activation in live[:9]:
        push_code(activation, str(random.randint(100000, 999999)))
    sandbox_services.deliver_webhooks()
    for api_key in keys:
        polling.poll_key(api_key.pk)
    for activation in live[:3]:
        activation.refresh_from_db()
        activation_set_status(membership=owner, activation=activation, action="finish")
    # Bought a few minutes ago: past the cancel lock, so the clock alone does not change the version mid-run.
    Activation.objects.filter(team=team).update(cancel_allowed_at=timezone.now() - timedelta(minutes=1))
    return owner, polled, hooked


def current_token(owner) -> str:
    filters = BoardFilters(QueryDict(""), membership=owner)
    return selectors.board_version(owner, filters).token


# --- 1. board load ---------------------------------------------------------------------------------


def wrk(url: str, headers: dict[str, str], seconds: int) -> tuple[int, float, str]:
    """(requests, seconds, wrk's output) of one wrk run."""
    command = [WRK, *WRK_ARGS, f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    if match is None:
        raise SystemExit(f"unreadable wrk output:\n{output}")
    elapsed = float(match.group(2)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(3)]
    if "Non-2xx" in output or "Socket errors" in output:
        print(f"  wrk reported errors for {url}:\n{output}")
    return int(match.group(1)), elapsed, output


def expect_204(url: str, headers: dict[str, str]) -> None:
    response = requests.get(url, headers=headers, timeout=10, allow_redirects=False)
    if response.status_code != 204:
        raise SystemExit(f"{url} answered {response.status_code}, not 204: {response.text[:300]!r}")


def queries_per_request(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, headers={"HX-Request": "true"})
    assert response.status_code == 204, response.status_code
    return len(queries)


def board_load(base: str, owner, rounds: int, seconds: int) -> tuple[float, float]:
    client = Client()
    client.force_login(owner.user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    headers = {"Cookie": cookie, "HX-Request": "true"}
    board_path = reverse("activations:board", args=[owner.team.slug]) + f"?v={current_token(owner)}"
    sides = {"board": f"{base}{board_path}", "bare": f"{base}/bench/bare-204"}
    for url in sides.values():
        expect_204(url, headers)
    board_queries = queries_per_request(client, board_path)
    bare_queries = queries_per_request(client, "/bench/bare-204")

    for url in sides.values():  # warm both gunicorn workers and PostgreSQL's caches
        wrk(url, headers, 2)
    done = {name: [0, 0.0] for name in sides}
    for index in range(rounds):
        order = list(sides) if index % 2 == 0 else list(reversed(sides))
        for name in order:
            count, elapsed, _ = wrk(sides[name], headers, seconds)
            done[name][0] += count
            done[name][1] += elapsed
            expect_204(sides[name], headers)  # still unchanged: every request of the round was a 204
    board_rps = done["board"][0] / done["board"][1]
    bare_rps = done["bare"][0] / done["bare"][1]
    print(
        f"\n1. board load: gunicorn 2 sync workers, wrk {' '.join(WRK_ARGS)}, {rounds} alternating rounds of {seconds} s"
    )
    print(f"{'204 answers':<32} {'requests/s':>11} {'queries each':>13}")
    print(f"{'board poll, unchanged':<32} {board_rps:>11.0f} {board_queries:>13}")
    print(f"{'bare Django view':<32} {bare_rps:>11.0f} {bare_queries:>13}")
    print(f"board/bare: {ratio(board_rps, bare_rps)} (target: at least 0.5x)")
    return board_rps, bare_rps


# --- 2. the code's latency -------------------------------------------------------------------------


class BoardWatcher:
    """Polls the board as its page does, with the version token it last got."""

    def __init__(self, base: str, owner) -> None:
        client = Client()
        client.force_login(owner.user)
        self.session = requests.Session()
        self.session.cookies.set(
            settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value
        )
        self.url = base + reverse("activations:board", args=[owner.team.slug])
        self.token = current_token(owner)

    def poll(self) -> str | None:
        """The board's HTML when it changed since the last poll (then its new token is kept), else None."""
        response = self.session.get(
            self.url, params={"v": self.token}, headers={"HX-Request": "true"}, timeout=10
        )
        if response.status_code != 200:
            return None
        match = TOKEN_RE.search(response.text)
        if match:
            self.token = match.group(1)
        return response.text


def shows(html: str, code: str) -> bool:
    return f">{code}<" in html  # the board's code cell: <span class="code mono" data-code>123456</span>


class Arrival:
    """One code: when it reached the sandbox (or its webhook was posted), stored and shown (perf_counter)."""

    def __init__(self, way: str, activation: Activation, code: str) -> None:
        self.way, self.activation, self.code = way, activation, code
        self.started = self.stored = self.shown = None


def latency(base: str, owner, polled, hooked, samples: int) -> dict[str, list[float]]:
    """`samples` codes each way, arriving at random moments over a window (so at every phase of the
    worker's cycle), watched together: the bench polls the board every LOOK_EVERY seconds and looks up which
    of the pending codes simdesk has stored."""
    watcher = BoardWatcher(base, owner)
    plan: list[tuple[float, Arrival]] = []
    spread = samples * 0.6
    for way, api_key in (("webhook", hooked), ("poll", polled)):
        for _ in range(samples):
            activation = buy(owner, api_key, random.choice(SERVICES))
            plan.append(
                (random.uniform(0, spread), Arrival(way, activation, str(random.randint(10**7, 10**8 - 1))))
            )
    plan.sort(key=lambda item: item[0])
    watcher.token = current_token(owner)
    # The worker's first cycle (start-up, imports, connections) is not measured: wait for one.
    warm_up = buy(owner, polled, "tg")
    push_code(warm_up, "424242")
    deadline = time.monotonic() + 60
    while not Sms.objects.filter(activation=warm_up).exists():
        if time.monotonic() > deadline:
            raise SystemExit(
                f"the worker never brought a code:\n{(VAR_DIR / 'worker.log').read_text()[-3000:]}"
            )
        time.sleep(LOOK_EVERY)
    watcher.poll()

    begin = time.perf_counter()
    pending: list[Arrival] = []
    done: list[Arrival] = []
    by_tick = 0
    while (plan or pending) and time.perf_counter() - begin < spread + 10 * INTERVAL:
        while plan and plan[0][0] <= time.perf_counter() - begin:
            arrival = plan.pop(0)[1]
            push_code(arrival.activation, arrival.code)
            arrival.started = time.perf_counter()
            if arrival.way == "webhook":
                # Posted now, synchronously; the worker's sandbox tick may have claimed it an instant earlier.
                by_tick += sandbox_services.deliver_webhooks() == 0
            pending.append(arrival)
        html = watcher.poll()
        now = time.perf_counter()
        stored = set(
            Sms.objects.filter(
                activation__in=[a.activation for a in pending if a.stored is None]
            ).values_list("activation_id", "code")
        )
        for arrival in pending:
            if arrival.stored is None and (arrival.activation.pk, arrival.code) in stored:
                arrival.stored = now
            if html is not None and shows(html, arrival.code):
                arrival.shown = now
                arrival.stored = arrival.stored or now
        done += [a for a in pending if a.shown is not None]
        pending = [a for a in pending if a.shown is None]
        time.sleep(LOOK_EVERY)

    found: dict[str, list[float]] = {"webhook": [], "webhook_stored": [], "poll": [], "poll_stored": []}
    for arrival in done:
        found[arrival.way].append(arrival.shown - arrival.started)
        found[f"{arrival.way}_stored"].append(arrival.stored - arrival.started)
    print(
        f"\n2. the code's latency: a worker with beat, poll interval {INTERVAL:g} s, {samples} codes each way "
        f"at random moments over {spread:g} s"
    )
    print(f"{'seconds from the code to':<48} {'p50':>6} {'p95':>6} {'max':>6} {'p95/interval':>13}")
    rows = (
        ("webhook posted -> stored in simdesk", "webhook_stored"),
        ("webhook posted -> shown on the board", "webhook"),
        ("reached the sandbox (no webhook) -> stored", "poll_stored"),
        ("reached the sandbox (no webhook) -> shown", "poll"),
    )
    for label, name in rows:
        values = found[name]
        if values:
            p95 = percentile(values, 95)
            print(
                f"{label:<48} {statistics.median(values):>6.2f} {p95:>6.2f} {max(values):>6.2f} "
                f"{p95 / INTERVAL:>12.2f}x"
            )
    missed = len(plan) + len(pending)
    if missed or by_tick:
        stored_only = sum(a.stored is not None for a in pending)
        print(
            f"codes never shown: {missed} ({stored_only} of them stored); "
            f"webhooks the worker's sandbox tick posted first: {by_tick}"
        )
    return found


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating wrk rounds on each side")
    parser.add_argument("--seconds", type=int, default=5, help="seconds of each wrk round")
    parser.add_argument("--samples", type=int, default=20, help="codes measured each way")
    args = parser.parse_args()
    settings.SANDBOX_PRICE_DRIFT = False
    gunicorn = worker = None
    try:
        gunicorn, base = start_gunicorn()
        settings.SITE_URL = base
        database = f"PostgreSQL {connection.pg_version // 10000}" if POSTGRES else "SQLite"
        broker = settings.CELERY_BROKER_URL.split(":")[0]
        print(f"board bench on {database}, DEBUG={int(settings.DEBUG)}, broker {broker}, gunicorn at {base}")
        if broker == "filesystem":
            print(
                "(the default broker, a folder; CELERY_BROKER_URL=redis://127.0.0.1:6379/13 measures Redis)"
            )
        owner, polled, hooked = realistic_board()
        board_rps, bare_rps = board_load(base, owner, args.rounds, args.seconds)

        worker = start_worker(base)
        found = latency(base, owner, polled, hooked, args.samples)
    finally:
        if worker is not None:
            print(f"(worker log: {VAR_DIR / 'worker.log'})")
        stop(worker, signal.SIGKILL)
        stop(gunicorn)
        connections.close_all()
        if POSTGRES:
            drop_postgres_database()

    def figures(name: str, values: list[float]) -> str:
        if not values:
            return f"{name}_p50=n/a {name}_p95=n/a"
        p50, p95 = statistics.median(values), percentile(values, 95)
        return (
            f"{name}_p50={p50:.3f}s ({p50 / INTERVAL:.2f}x interval) "
            f"{name}_p95={p95:.3f}s ({p95 / INTERVAL:.2f}x interval)"
        )

    print(f"board_rps={board_rps:.0f} bare_rps={bare_rps:.0f} ratio={board_rps / bare_rps:.2f}")
    print(f"interval={INTERVAL:g}s {figures('webhook', found['webhook'])} {figures('poll', found['poll'])}")


if __name__ == "__main__":
    main()
