"""Scale: K keys across teams, each with a live number and a live rent, polled by W Celery worker processes and
one beat on PostgreSQL and Redis, against a sandbox that answers every call after a realistic latency.

Per key it measures the time between successive completed poll cycles (the lag; activation and rent cycles
alike, from the poll state rows the cycles write) and the upstream calls per key per cycle (the sandbox's own
access log over the same window), after a warm-up. Prints as its last line
`keys=K workers=W interval=I lag_p95=X calls_per_key_cycle=C`.

The sandbox runs as a provider does, elsewhere: its own server (gunicorn, threads) on its own PostgreSQL
database, every account answering after `--latency-ms`. simdesk's workers wait on it with a thread pool
(`celery worker -P threads`), their PostgreSQL connections bounded by the pool (`DB_POOL_MAX`).

Run: .venv/bin/python bench/bench_scale.py [--keys 100] [--workers 2] [--seconds 30] [--interval 3]
     .venv/bin/python bench/bench_scale.py --matrix    (K 100, 300, 1000, 3000 x W 1, 2, 4: about 20 min)
Needs PostgreSQL at 127.0.0.1:5432 (user postgres, trust) and Redis at 127.0.0.1:6379.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
DB_NAME = "simdesk_bench_scale"
SANDBOX_DB = "simdesk_bench_scale_sandbox"
PG = "postgres://postgres@127.0.0.1:5432"
BROKER = "redis://127.0.0.1:6379/7"
KEYS_PER_TEAM = 50
# PostgreSQL's default max_connections is 100: the sandbox's two processes and the workers share it.
SANDBOX_CONNECTIONS = 24
CONNECTIONS_FOR_WORKERS = 56
THREADS_PER_WORKER = 32
# What beat's first sweeps ask every key once when it starts (balances every 5 min, history every 15).
STARTUP_ACTIONS = ("getBalance", "getBalanceAndCashBack", "getHistory", "getCountries", "getServicesList")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(var_dir: str) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SANDBOX_ENABLED": "1",
        "ALLOWED_HOSTS": "*",
        "SECURE_SSL_REDIRECT": "0",
        "SECRET_KEY": "bench-" + "x" * 60,
        "SIMDESK_ENCRYPTION_KEY": "Zm9yLWJlbmNobWFya3Mtb25seS0tLS0tLS0tLS0tLS0=",
        "LOG_LEVEL": "WARNING",
        "SIMDESK_VAR_DIR": var_dir,
        "PYTHONPATH": str(ROOT),
    }


class Sandbox:
    """The provider: gunicorn with threads on its own PostgreSQL database, an access line per call."""

    def __init__(self, work: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = work / "sandbox-access.log"
        subprocess.run(
            ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", SANDBOX_DB], check=True
        )
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", SANDBOX_DB], check=True)
        self.env = {
            **base_env(str(work / "sandbox-var")),
            "DATABASE_URL": f"{PG}/{SANDBOX_DB}",
            "DB_CONN_MAX_AGE": "0",
            "DB_POOL_MAX": str(SANDBOX_CONNECTIONS // 2),
            "CELERY_BROKER_URL": "memory://",
            "REDIS_URL": "",
            "SITE_URL": self.url,
        }
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=self.env, check=True
        )
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2", "-k", "gthread",
             "--threads", "128", "--access-logfile", str(self.log), "--log-level", "warning"],
            cwd=ROOT, env=self.env,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("the sandbox server did not start")

    def shell(self, code: str) -> str:
        done = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", code],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        return done.stdout.decode()

    def open_accounts(self, count: int) -> list[str]:
        code = (
            "import json; from decimal import Decimal; from sandbox import services; "
            "from sandbox.models import Account; "
            f"keys = [services.account_create(balance=Decimal('10000000'), sms_delay=86400, lifetime=86400).key "
            f"for _ in range({count})]; "
            "Account.objects.filter(key__in=keys).update(no_code_share=0); print(json.dumps(keys))"
        )
        return json.loads(self.shell(code).strip().splitlines()[-1])

    def set_latency(self, ms: int) -> None:
        self.shell(f"from sandbox.models import Account; Account.objects.update(latency_ms={ms})")

    def calls(self, actions: tuple[str, ...] = ()) -> int:
        """Calls answered so far (of `actions` only, when given)."""
        if not self.log.exists():
            return 0
        wanted = tuple(f"action={action}" for action in actions)
        return sum(
            1
            for line in self.log.open()
            if "handler_api.php" in line and (not wanted or any(word in line for word in wanted))
        )

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", SANDBOX_DB])


def setup_simdesk(work: Path, sandbox_url: str, interval: float) -> dict[str, str]:
    """A fresh PostgreSQL database for simdesk, Django set up in this process on it; the workers' env."""
    subprocess.run(
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DB_NAME], check=True
    )
    subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", DB_NAME], check=True)
    env = {
        **base_env(str(work / "simdesk-var")),
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "DB_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": BROKER,
        "REDIS_URL": BROKER,
        "SITE_URL": sandbox_url,
        "SIMDESK_POLL_INTERVAL": str(interval),
    }
    os.environ.update(env)
    os.environ["DB_POOL_MAX"] = "24"
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    return env


def add_keys(sandbox: Sandbox, have: int, want: int) -> None:
    """Keys `have`..`want`-1: a sandbox account each, registered in a team of 50, with a live number and rent."""
    from accounts.crypto import encrypt_secret
    from accounts.models import ApiKey, KeyHealth, Membership, Role, Team, User
    from activations.services import BuyRequest, activation_buy
    from rentals.services import RentRequest, rental_rent

    secrets = sandbox.open_accounts(want - have)
    keys = []
    for n, secret in enumerate(secrets, start=have):
        team_no = n // KEYS_PER_TEAM
        team, created = Team.objects.get_or_create(
            slug=f"team-{team_no}", defaults={"name": f"Team {team_no}"}
        )
        if created:
            user = User.objects.create_user(f"owner-{team_no}", password="bench-password-1")
            Membership.objects.create(team=team, user=user, role=Role.OWNER)
        keys.append(
            ApiKey(
                team=team,
                label=f"Key {n}",
                profile="sandbox",
                secret_encrypted=encrypt_secret(secret),
                secret_last4=secret[-4:],
                health=KeyHealth.OK,
            )
        )
    ApiKey.objects.bulk_create(keys)
    owners = {m.team_id: m for m in Membership.objects.select_related("team", "user").filter(role=Role.OWNER)}

    def buy(api_key: ApiKey) -> None:
        from django.db import connection

        owner = owners[api_key.team_id]
        try:
            activation_buy(membership=owner, api_key=api_key, request=BuyRequest(service="tg", country=0))
            rental_rent(
                membership=owner, api_key=api_key, request=RentRequest(service="tg", country=0, hours=4)
            )
        finally:
            connection.close()

    fresh = list(ApiKey.objects.filter(label__in=[key.label for key in keys]))
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(buy, fresh))


class PollWatch:
    """Samples every key's poll state rows; each change of `last_polled_at` is one completed cycle."""

    def __init__(self):
        self.seen: dict[tuple[str, int], float] = {}
        self.lags: list[float] = []
        self.cycles = 0
        self.polled: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self, counting: bool) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            for table in ("activations_keypollstate", "rentals_rentalpollstate"):
                cursor.execute(
                    f"SELECT api_key_id, extract(epoch from last_polled_at) FROM {table} "  # noqa: S608
                    "WHERE last_polled_at IS NOT NULL"
                )
                for key_id, at in cursor.fetchall():
                    before = self.seen.get((table, key_id))
                    if before is not None and at > before and counting:
                        self.lags.append(float(at) - float(before))
                        self.cycles += 1
                        self.polled.add(key_id)
                    self.seen[(table, key_id)] = at

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample(counting=self.counting)
            time.sleep(0.25)

    def start(self) -> None:
        self.counting = False
        self._thread.start()

    def count(self) -> None:
        self.counting = True

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        from django.db import connection

        connection.close()


def start_workers(env: dict[str, str], workers: int, work: Path, threads: int) -> list[subprocess.Popen]:
    pool = max(4, CONNECTIONS_FOR_WORKERS // workers)
    worker_env = {**env, "DB_POOL_MAX": str(pool)}
    processes = []
    for n in range(workers):
        log = (work / f"worker-{n}.log").open("w")
        processes.append(
            subprocess.Popen(
                [PYTHON, "-m", "celery", "-A", "config", "worker", "-P", "threads", "-c", str(threads),
                 "-n", f"bench{n}@%h", "--without-heartbeat", "--without-gossip", "--without-mingle",
                 "--loglevel", os.environ.get("BENCH_WORKER_LOGLEVEL", "WARNING")],
                cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        )  # fmt: skip
    log = (work / "beat.log").open("w")
    processes.append(
        subprocess.Popen(
            [PYTHON, "-m", "celery", "-A", "config", "beat", "--schedule", str(work / "beat-schedule"),
             "--loglevel", "WARNING"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    )  # fmt: skip
    return processes


def stop_workers(processes: list[subprocess.Popen]) -> None:
    """A warm shutdown (cycles in flight finish and release their keys), then a clean slate for the next run."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    import redis
    from django.db import connection

    # What the sweepers queued and nobody took is not the next run's work, nor a claim a killed one left.
    redis.Redis.from_url(BROKER).flushdb()
    with connection.cursor() as cursor:
        for table in ("activations_keypollstate", "rentals_rentalpollstate"):
            cursor.execute(f"UPDATE {table} SET locked_until = NULL")  # noqa: S608


def _processes() -> list[tuple[int, int, str, float]]:
    """(pid, parent pid, command name, CPU seconds used) of every process on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        found.append((int(entry.name), int(fields[1]), name, (int(fields[11]) + int(fields[12])) / tick))
    return found


def cpu_seconds(roots: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds used so far by each named group of process trees, and by PostgreSQL's processes."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for pid, parent, _name, _cpu in table:
        children.setdefault(parent, []).append(pid)
    used = {pid: cpu for pid, _parent, _name, cpu in table}
    totals = {"postgres": sum(cpu for _pid, _parent, name, cpu in table if name.startswith("postgres"))}
    for group, pids in roots.items():
        seen, stack = set(), list(pids)
        while stack:
            pid = stack.pop()
            if pid not in seen:
                seen.add(pid)
                stack.extend(children.get(pid, []))
        totals[group] = sum(used.get(pid, 0.0) for pid in seen)
    return totals


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(
    env,
    sandbox: Sandbox,
    *,
    keys: int,
    workers: int,
    seconds: float,
    interval: float,
    work: Path,
    threads: int,
) -> dict:
    watch = PollWatch()
    watch.start()
    processes = start_workers(env, workers, work, threads)
    roots = {"workers": [p.pid for p in processes], "sandbox": [sandbox.process.pid]}
    try:
        # Warm-up: workers up, and what beat runs once at its start (every key's balance, history and catalog)
        # worked off: no such call for two seconds (at most three minutes).
        time.sleep(max(2 * interval, 8))
        deadline = time.monotonic() + 180
        others = sandbox.calls(STARTUP_ACTIONS)
        while time.monotonic() < deadline:
            time.sleep(2)
            now_others = sandbox.calls(STARTUP_ACTIONS)
            if now_others == others:
                break
            others = now_others
        watch.count()
        calls_before, cpu_before, started = sandbox.calls(), cpu_seconds(roots), time.monotonic()
        time.sleep(seconds)
        calls, elapsed = sandbox.calls() - calls_before, time.monotonic() - started
        cpu_after = cpu_seconds(roots)
        cycles, lags, polled = watch.cycles, list(watch.lags), len(watch.polled)
    finally:
        watch.stop()
        stop_workers(processes)
    cpu = {group: (cpu_after[group] - cpu_before[group]) / elapsed for group in cpu_after}
    return {
        "cpu": cpu,
        "keys": keys,
        "workers": workers,
        "interval": interval,
        "lag_p50": percentile(lags, 0.50),
        "lag_p95": percentile(lags, 0.95),
        "cycles_per_s": cycles / elapsed,
        "keys_polled": polled,
        "calls_per_key_cycle": calls / cycles if cycles else float("nan"),
    }


def line(result: dict) -> str:
    return (
        f"keys={result['keys']} workers={result['workers']} interval={result['interval']:g} "
        f"lag_p95={result['lag_p95']:.2f} calls_per_key_cycle={result['calls_per_key_cycle']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keys", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--interval", type=float, default=3.0)
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--threads", type=int, default=THREADS_PER_WORKER, help="threads per worker process")
    parser.add_argument("--matrix", action="store_true", help="K 100, 300, 1000, 3000 x W 1, 2, 4")
    options = parser.parse_args()
    plan = (
        [(k, w) for k in (100, 300, 1000, 3000) for w in (1, 2, 4)]
        if options.matrix
        else [(options.keys, options.workers)]
    )
    work = Path(tempfile.mkdtemp(prefix="simdesk-scale-"))
    sandbox = Sandbox(work)
    results = []
    try:
        env = setup_simdesk(work, sandbox.url, options.interval)
        have = 0
        print(f"{'keys':>5} {'workers':>7} {'lag p50 s':>9} {'lag p95 s':>9} {'cycles/s':>8} {'keys polled':>11} "
              f"{'calls/key/cycle':>15}   CPU cores used: workers / sandbox / postgres", flush=True)  # fmt: skip
        for keys, workers in plan:
            if keys > have:
                sandbox.set_latency(0)
                started = time.monotonic()
                add_keys(sandbox, have, keys)
                print(f"  (set up {keys - have} keys in {time.monotonic() - started:.0f} s)", flush=True)
                have = keys
                sandbox.set_latency(options.latency_ms)
            result = measure(
                env,
                sandbox,
                keys=keys,
                workers=workers,
                seconds=options.seconds,
                interval=options.interval,
                work=work,
                threads=options.threads,
            )
            results.append(result)
            cpu = result["cpu"]
            print(f"{keys:>5} {workers:>7} {result['lag_p50']:>9.2f} {result['lag_p95']:>9.2f} "
                  f"{result['cycles_per_s']:>8.1f} {result['keys_polled']:>11} "
                  f"{result['calls_per_key_cycle']:>15.2f}   {cpu['workers']:.2f} / {cpu['sandbox']:.2f} / "
                  f"{cpu['postgres']:.2f}", flush=True)  # fmt: skip
    finally:
        sandbox.stop()
        from django.db import connections

        connections.close_all()
        subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DB_NAME])
    for result in results:
        print(line(result))


if __name__ == "__main__":
    main()
