"""The seeded fault workload: buys, rents, several services, extends, cancels and finishes through the web
pages, with lost answers, timeouts, 5xx pages, truncated lists, and the web process and the worker killed
mid-call. At the end our ledger equals the sandbox's own to the kopeck, every number the sandbox sold is
recorded once with its member, and no page answered 500.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, Membership, Role
from activations import history_sync
from activations import polling as activation_polling
from activations.models import Activation, ActivationStatus
from purchases import services as purchase_services
from purchases.models import UNSETTLED
from rentals import polling as rental_polling
from rentals import services as rental_services
from rentals.models import RenewalStatus, Rental, RentalRenewal, RentalStatus
from sandbox import actions as sandbox_actions
from sandbox import views as sandbox_views
from sandbox.models import Activation as SandboxActivation
from sandbox.models import Rental as SandboxRental
from tests.activations.conftest import ledger_net, provider_charged, register_key, set_sandbox
from tests.conftest import ROOT, _database_url, sandbox_account

pytestmark = pytest.mark.django_db(transaction=True)

# Another seed explores another workload: SIMDESK_WORKLOAD_SEED=7 pytest tests/purchases/test_fault_workload.py
SEED = int(os.environ.get("SIMDESK_WORKLOAD_SEED", "20261202"))
OPERATIONS = 90

# The faults a money call (or the price read before it) may meet; lists also arrive cut in half.
CALL_FAULTS = ("after_commit", "timeout", "http5xx", "error_sql")
# The read each operation makes before its money call: a fault there must not lose the price.
PRICE_READS = {
    "buy": "getPrices",
    "multi": "getPrices",
    "rent": "getRentServicesAndCountries",
    "extend": "getContinueRentPriceNumber,getBalance",
}
SPENDING = {
    "buy": "getNumberV2",
    "multi": "getMultiServiceNumber",
    "additional": "getAdditionalService",
    "rent": "getRentNumber",
    "extend": "continueRentNumber",
    "finish": "setStatus",
    "cancel": "setStatus",
    "rent_cancel": "setRentStatus",
    "rent_finish": "setRentStatus",
}

KILLED_BUY = """
import sys, django
django.setup()
from accounts.models import ApiKey, Membership
from {module} import {function} as buy, {request} as Request
buy(membership=Membership.objects.get(pk={membership}), api_key=ApiKey.objects.get(pk={api_key}),
    request=Request(service="{service}", country=0))
"""

# How long the sandbox sits on each call of a process about to be killed: the kill lands in that window.
KILLED_LATENCY_MS = 1000

KILLED_RENEWAL = """
import django
django.setup()
from rentals.services import rental_auto_renew
rental_auto_renew(rental_id={rental})
"""


class SpendingCalls:
    """The money calls the sandbox (served by the live server, in this process) has received and answered,
    per key, so a test can wait for a call to be on the wire or carried out instead of sleeping."""

    def __init__(self, monkeypatch):
        self.changed = threading.Condition()
        self.received: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        dispatch = sandbox_views.dispatch

        def counting(params, now, **kwargs):
            spec = sandbox_actions.ACTIONS.get(params.get("action", "").strip())
            if spec is None or spec.kind != sandbox_actions.SPEND:
                return dispatch(params, now, **kwargs)
            key = params.get("api_key", "").strip()
            self._count(self.received, key)
            try:
                return dispatch(params, now, **kwargs)
            finally:
                self._count(self.answered, key)

        monkeypatch.setattr(sandbox_views, "dispatch", counting)

    def _count(self, counter: Counter[str], key: str) -> None:
        with self.changed:
            counter[key] += 1
            self.changed.notify_all()

    def wait(self, predicate, timeout: float = 30) -> bool:
        """Wait until `predicate()`, woken by every call counted; it is looked at every 50 ms too, since it
        may also watch something the sandbox does not announce (a process that ended)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.changed.wait(min(left, 0.05))
            return True

    def in_flight(self, key: str) -> bool:
        with self.changed:
            return self.received[key] > self.answered[key]


class Workload:
    """The product driven as its users and its worker would, with the sandbox's faults."""

    def __init__(self, live_server, team, alice, bob, calls: SpendingCalls):
        self.rng = random.Random(SEED)
        self.calls = calls
        self.live_server = live_server
        self.team = team
        self.clients = {"alice": _login(alice), "bob": _login(bob)}
        self.members = {
            "alice": Membership.objects.get(team=team, user=alice),
            "bob": Membership.objects.get(team=team, user=bob),
        }
        self.statuses: Counter[int] = Counter()
        self.faults: Counter[str] = Counter()
        self.operations: Counter[str] = Counter()
        self.keys: list[tuple[ApiKey, str]] = []
        for profile, dialect in (("sandbox", "classic"), ("sandbox_hero", "hero")):
            secret = sandbox_account("--balance", "5000", "--dialect", dialect)
            set_sandbox(secret, "--sms-delay", "0", "--cancel-lock", "0", "--no-code-share", "0.5")
            self.keys.append((register_key(team, secret, profile=profile, label=profile), secret))

    # --- the page calls ---------------------------------------------------------------------------

    def post(self, who: str, name: str, data: dict, *args) -> None:
        response = self.clients[who].post(reverse(name, args=[self.team.slug, *args]), data)
        self.statuses[response.status_code] += 1

    def fault(self, secret: str, op: str) -> None:
        if self.rng.random() < 0.35:
            name = self.rng.choice(CALL_FAULTS)
            actions = SPENDING[op]
            if op in PRICE_READS and self.rng.random() < 0.4:
                actions += "," + PRICE_READS[op]
            self.faults[name] += 1
            set_sandbox(secret, "--fault", f"{name}=1", "--fault-actions", actions)

    def heal(self, secret: str) -> None:
        set_sandbox(
            secret, *[arg for name in (*CALL_FAULTS, "truncated_json") for arg in ("--fault", f"{name}=0")]
        )

    # --- one operation ----------------------------------------------------------------------------

    def step(self) -> None:
        op = self.rng.choices(
            [
                "buy",
                "multi",
                "additional",
                "rent",
                "extend",
                "finish",
                "cancel",
                "rent_cancel",
                "rent_finish",
                "poll",
            ],
            weights=[22, 6, 4, 12, 8, 10, 8, 5, 5, 20],
        )[0]
        who = self.rng.choice(["alice", "bob"])
        api_key, secret = self.rng.choice(self.keys) if op not in ("multi", "additional") else self.keys[0]
        if op == "poll":
            self.poll(api_key, secret, read_fault=True)
            return
        target = self.target(op, api_key)
        if target is False:
            return
        self.operations[op] += 1
        self.fault(secret, op)
        try:
            self.run(op, who, api_key, target)
        finally:
            self.heal(secret)

    def target(self, op: str, api_key: ApiKey):
        """The row an operation acts on (None when it needs none, False when there is none to act on)."""
        live = Activation.objects.filter(api_key=api_key)
        rentals = Rental.objects.filter(api_key=api_key, status=RentalStatus.ACTIVE)
        rows = {
            "finish": live.filter(status__in=(ActivationStatus.CODE_RECEIVED, ActivationStatus.WAIT_RETRY)),
            "cancel": live.filter(status=ActivationStatus.WAITING, sms_count=0),
            "additional": live.filter(forward=True, status=ActivationStatus.CODE_RECEIVED),
            "extend": rentals,
            "rent_cancel": rentals,
            "rent_finish": rentals,
        }.get(op)
        if rows is None:
            return None
        candidates = list(rows.order_by("id"))
        return self.rng.choice(candidates) if candidates else False

    def run(self, op: str, who: str, api_key: ApiKey, target) -> None:
        token = str(uuid.uuid4())
        service = self.rng.choice(["tg", "wa", "vk", "ok", "fb"])
        key = str(api_key.public_id)
        if op == "buy":
            self.post(
                who,
                "activations:buy",
                {"api_key": key, "service": service, "country": "0", "request_token": token},
            )
        elif op == "multi":
            data = {"api_key": key, "services": "vk, tg", "country": "0", "request_token": token}
            if self.rng.random() < 0.5:
                data["forward_service"] = "vk"
            self.post(who, "activations:buy_multi", data)
        elif op == "additional":
            self.post(
                who,
                "activations:additional_buy",
                {"activation": target.public_id, "service": "ok", "request_token": token},
            )
        elif op in ("finish", "cancel"):
            self.post(who, "activations:action", {"activation": target.public_id, "action": op})
        elif op == "rent":
            data = {"api_key": key, "country": "0", "hours": "4", "service": service, "request_token": token}
            self.post(who, "rentals:rent", data)
        elif op == "extend":
            self.post(who, "rentals:extend", {"hours": "4"}, target.public_id)
        else:
            self.post(who, "rentals:action", {"rental": target.public_id, "action": op.removeprefix("rent_")})

    def poll(self, api_key: ApiKey, secret: str, *, read_fault: bool = False) -> None:
        """What the worker does for a key: the poll cycles and the renewal sweep, maybe over a garbled list."""
        if read_fault and self.rng.random() < 0.3:
            self.faults["truncated_json"] += 1
            set_sandbox(
                secret, "--fault", "truncated_json=1", "--fault-actions", "getActiveActivations,getRentList"
            )
        try:
            activation_polling.poll_key(api_key.pk)
            rental_polling.poll_key(api_key.pk)
            rental_services.sweep_renewals()
        finally:
            self.heal(secret)

    # --- processes killed mid-call ------------------------------------------------------------------

    def killed(self, script: str, secret: str, appeared) -> None:
        """Run `script` in its own process against the same database, kill -9 it while its money call is on
        the wire (the sandbox has it and answers slowly), and wait until the provider has carried the call
        out. A process that ends first (nothing was due, a refusal) is not killed."""
        set_sandbox(secret, "--latency-ms", str(KILLED_LATENCY_MS))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": _database_url(),
            "SITE_URL": self.live_server.url,
        }
        sent = self.calls.received[secret]
        process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
        try:
            self.calls.wait(lambda: self.calls.received[secret] > sent or process.poll() is not None)
            if self.calls.received[secret] > sent and process.poll() is None:
                on_the_wire = self.calls.in_flight(secret)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=10)
                if on_the_wire:  # killed before the answer could reach it: the case this workload is after
                    self.faults["killed"] += 1
                    # Intent is recorded before the money call goes out, so the dead process left it.
                    assert appeared(), "a money call went out before its intent was recorded"
        finally:
            if process.poll() is None:
                process.kill()
        # The provider finishes the call the dead process sent.
        assert self.calls.wait(lambda: not self.calls.in_flight(secret)), "the sandbox never answered"
        set_sandbox(secret, "--latency-ms", "0")

    def kill_web_buy(self, feature: str) -> None:
        api_key, secret = self.keys[self.rng.randrange(2)]
        membership = self.members[self.rng.choice(["alice", "bob"])]
        model, module, function, request = {
            "activation": (Activation, "activations.services", "activation_buy", "BuyRequest"),
            "rental": (Rental, "rentals.services", "rental_rent", "RentRequest"),
        }[feature]
        before = set(model.objects.values_list("pk", flat=True))
        script = KILLED_BUY.format(
            module=module,
            function=function,
            request=request,
            membership=membership.pk,
            api_key=api_key.pk,
            service=self.rng.choice(["tg", "wa"]),
        )
        self.killed(
            script, secret, lambda: model.objects.exclude(pk__in=before).filter(status="pending").exists()
        )

    def kill_worker_renewal(self) -> None:
        api_key, secret = self.keys[0]
        settling = RentalRenewal.objects.filter(status__in=(RenewalStatus.PENDING, RenewalStatus.UNKNOWN))
        rental = (
            Rental.objects.filter(api_key=api_key, status=RentalStatus.ACTIVE)
            .exclude(pk__in=settling.values("rental_id"))
            .order_by("id")
            .first()
        )
        if rental is None:
            return
        rental_services.auto_renew_configure(
            membership=self.members["alice"],
            rental=rental,
            enabled=True,
            before_hours=1,
            hours=4,
            budget=None,
            until=None,
        )
        travel(rental, to=timezone.now() + timedelta(minutes=30))
        before = set(RentalRenewal.objects.values_list("pk", flat=True))
        self.killed(
            KILLED_RENEWAL.format(rental=rental.pk),
            secret,
            lambda: RentalRenewal.objects.exclude(pk__in=before).exists(),
        )
        Rental.objects.filter(pk=rental.pk).update(auto_renew=False)

    # --- after the storm ----------------------------------------------------------------------------

    def settle(self, monkeypatch) -> None:
        """Let time do what it does (graces, leases, old ends pass) and the worker catch up."""
        monkeypatch.setattr(activation_polling, "UNKNOWN_GRACE", timedelta(0))
        monkeypatch.setattr(rental_polling, "UNKNOWN_GRACE", timedelta(0))
        monkeypatch.setattr(rental_services, "RENEWAL_LEASE", timedelta(0))
        monkeypatch.setattr(purchase_services, "in_flight_timeout", lambda: timedelta(seconds=0))
        for _ in range(6):
            # The lease a killed worker took (in its own process, unpatched) runs out.
            Rental.objects.exclude(renewing_until=None).update(
                renewing_until=timezone.now() - timedelta(seconds=1)
            )
            rental_services.expire_stale_renewals()
            for renewal in RentalRenewal.objects.filter(status=RenewalStatus.UNKNOWN):
                # The old end passes: before it, a renewed and a not renewed rent look the same.
                travel(renewal.rental, to=timezone.now() - timedelta(minutes=5))
            for api_key, secret in self.keys:
                from activations.models import KeyPollState
                from rentals.models import RentalPollState

                KeyPollState.objects.filter(api_key=api_key).update(backoff_until=None, locked_until=None)
                RentalPollState.objects.filter(api_key=api_key).update(backoff_until=None, locked_until=None)
                activation_polling.poll_key(api_key.pk)
                rental_polling.poll_key(api_key.pk)
                history_sync.history_sync(api_key=api_key)
            if not self.resolve_ambiguity():
                break

    def resolve_ambiguity(self) -> int:
        """What an admin does with a purchase several numbers could be: look each candidate up at the provider
        (here the sandbox's own rows) and choose the one of the purchase's service, or record none."""
        chosen = 0
        for model, upstream, name, field in (
            (Activation, SandboxActivation, "activations:resolve", "activation"),
            (Rental, SandboxRental, "rentals:resolve", "rental"),
        ):
            for pk in model.objects.filter(status="unknown", error_code="AMBIGUOUS").values_list(
                "pk", flat=True
            ):
                row = model.objects.get(pk=pk)  # fresh: an earlier choice may have taken a candidate
                if not row.awaits_choice:
                    continue
                services = dict(
                    upstream.objects.filter(pk__in=[int(c["id"]) for c in row.candidates]).values_list(
                        "pk", "service_id"
                    )
                )
                same = [c["id"] for c in row.candidates if services.get(int(c["id"])) == row.service]
                self.post("alice", name, {field: row.public_id, "upstream_id": same[0] if same else ""})
                chosen += 1
        return chosen


def _login(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def mismatches(api_key: ApiKey, secret: str) -> str:
    """Where our ledger and the provider's differ, number by number, with what we recorded of each."""
    from django.db.models import Sum

    from accounts.models import LedgerEntry
    from sandbox.models import Transaction

    theirs: Counter = Counter()
    for row in Transaction.objects.filter(account__key=secret).exclude(kind="topup"):
        theirs[("rent" if row.rental_id else "act", str(row.rental_id or row.activation_id))] -= row.amount
    ours: Counter = Counter()
    for row in (
        LedgerEntry.objects.filter(api_key=api_key)
        .values("purchase_ref", "reference")
        .annotate(total=Sum("amount"))
    ):
        kind = "rent" if row["purchase_ref"].startswith("rental") else "act"
        ours[(kind, row["reference"])] += row["total"]
    lines = []
    for key in sorted(set(theirs) | set(ours)):
        if theirs[key] != ours[key]:
            model = Rental if key[0] == "rent" else Activation
            rows = list(model.objects.filter(api_key=api_key, upstream_id=key[1]).values())
            lines.append(f"{key}: provider {theirs[key]} ours {ours[key]} rows {rows}")
    return "\n".join(lines) or "no difference by number"


def travel(rental: Rental, *, to) -> None:
    """Move a rental's end (ours, its renewal windows, the provider's) by the same amount, as time would."""
    rental.refresh_from_db()
    if rental.ends_at is None:
        return
    delta = to - rental.ends_at
    Rental.objects.filter(pk=rental.pk).update(ends_at=to)
    if rental.renewal_window_end is not None:
        Rental.objects.filter(pk=rental.pk).update(renewal_window_end=rental.renewal_window_end + delta)
    for renewal in RentalRenewal.objects.filter(rental=rental):
        RentalRenewal.objects.filter(pk=renewal.pk).update(window_end=renewal.window_end + delta)
    if rental.upstream_id:
        upstream = SandboxRental.objects.filter(pk=int(rental.upstream_id)).first()
        if upstream is not None:
            SandboxRental.objects.filter(pk=upstream.pk).update(ends_at=upstream.ends_at + delta)


def test_the_seeded_fault_workload_ends_with_the_ledger_equal_to_the_providers(
    live_server, settings, monkeypatch, team, alice, bob, capsys
):
    settings.SITE_URL = live_server.url
    settings.SANDBOX_PRICE_DRIFT = False
    settings.SANDBOX_WEBHOOK_RETRY_DELAYS = [0, 0, 0, 0, 0, 0, 0]
    settings.SANDBOX_FAULT_TIMEOUT_SECONDS = 2.5
    settings.PROVIDER_READ_TIMEOUT = 2.0
    settings.PROVIDER_READ_RETRIES = 0
    Membership.objects.filter(team=team, user=bob).update(role=Role.OPERATOR)
    workload = Workload(live_server, team, alice, bob, SpendingCalls(monkeypatch))

    kills = {OPERATIONS // 4: "activation", OPERATIONS // 2: "rental", 3 * OPERATIONS // 4: "renewal"}
    for index in range(OPERATIONS):
        if kills.get(index) in ("activation", "rental"):
            workload.kill_web_buy(kills[index])
        elif kills.get(index) == "renewal":
            workload.kill_worker_renewal()
        workload.step()
    workload.settle(monkeypatch)

    figures = " ".join(
        f"{api_key.currency}: provider {provider_charged(secret):.4f} ledger {ledger_net(api_key):.4f};"
        for api_key, secret in workload.keys
    )
    with capsys.disabled():
        print(
            f"\nfault workload: seed={SEED} operations={sum(workload.operations.values())} "
            f"{dict(workload.operations)} faults={sum(workload.faults.values())} {dict(workload.faults)} "
            f"{figures} answers={dict(workload.statuses)}"
        )

    assert not any(status >= 500 for status in workload.statuses), workload.statuses
    for api_key, secret in workload.keys:
        assert ledger_net(api_key) == provider_charged(secret), mismatches(api_key, secret)
        # Every number the provider sold is recorded once, with the member who bought it.
        sold = SandboxActivation.objects.filter(account__key=secret).values_list("id", flat=True)
        ours = Activation.objects.filter(api_key=api_key).exclude(upstream_id=None)
        assert sorted(ours.values_list("upstream_id", flat=True)) == sorted(str(i) for i in sold)
        assert not ours.filter(member=None).exists()
        rented = SandboxRental.objects.filter(account__key=secret).values_list("id", flat=True)
        our_rents = Rental.objects.filter(api_key=api_key).exclude(upstream_id=None)
        assert sorted(our_rents.values_list("upstream_id", flat=True)) == sorted(str(i) for i in rented)
        assert not our_rents.filter(member=None).exists()
    for model in (Activation, Rental):
        left = list(
            model.objects.filter(status__in=UNSETTLED).values(
                "service", "error_code", "error_message", "candidates"
            )
        )
        assert left == [], left
    assert not RentalRenewal.objects.filter(
        status__in=(RenewalStatus.PENDING, RenewalStatus.UNKNOWN)
    ).exists()
    assert not Activation.objects.filter(cost=None).exclude(status="failed").exists()
    assert workload.faults["killed"] >= 2 and sum(workload.faults.values()) >= 15
    assert all(provider_charged(secret) > 0 for _, secret in workload.keys)
