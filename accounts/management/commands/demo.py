"""Create the demo data idempotently: the `demo` and `viewer` logins, the demo team and its sandbox key."""

import io
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from accounts.crypto import decrypt_secret, encrypt_secret, secret_digest
from accounts.models import ApiKey, KeyHealth, KeyStatus, Membership, Role, Team, User
from accounts.services import audit_record
from kit.phrases import phrase

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # development only: refused below when DEBUG is off
VIEWER_USERNAME = "viewer"
VIEWER_PASSWORD = "viewer"
DEMO_SANDBOX_LABEL = "demo"
# The providers' own clock and most of their customers' (Moscow time).
DEMO_TEAM_TIME_ZONE = "Europe/Moscow"
DEMO_TEAM_NAME = "Demo"
DEMO_TEAM_SLUG = "demo"
DEMO_KEY_LABEL = "Sandbox"
DEMO_KEY_PROFILE = "sandbox"
DEMO_KEY_CURRENCY = "RUB"


class Command(BaseCommand):
    help = (
        "Create the demo logins (demo/demo owner, viewer/viewer), the demo team and its sandbox key "
        "(development only). Safe to run twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--site-url", default=settings.SITE_URL)

    def handle(self, *args, site_url: str, **options):
        if not settings.DEBUG:
            raise CommandError("The demo data is for development only (DEBUG is off).")
        demo = self._user(DEMO_USERNAME, DEMO_PASSWORD, staff=True)
        viewer = self._user(VIEWER_USERNAME, VIEWER_PASSWORD, staff=False)
        team = self._team(owner=demo, viewer=viewer)
        sandbox_key = self._sandbox_key() if settings.SANDBOX_ENABLED else None
        if sandbox_key:
            api_key = self._register_key(team=team, owner=demo, secret=sandbox_key)
            if api_key.balance is None:
                self._first_balance(api_key, secret=sandbox_key)
            # Codes reach the board by webhook at once, as they would with a provider configured for it.
            hook = site_url.rstrip("/") + reverse("activations:webhook", args=[api_key.webhook_token])
            call_command("sandbox_account", "set", sandbox_key, "--webhook-url", hook, stdout=io.StringIO())
        self.stdout.write(f"simdesk is at {site_url}/  (login: {DEMO_USERNAME} / password: {DEMO_PASSWORD})")
        self.stdout.write(f"read-only login: {VIEWER_USERNAME} / password: {VIEWER_PASSWORD}")
        if sandbox_key:
            self.stdout.write(
                f"sandbox provider: {site_url}/sandbox/stubs/handler_api.php (demo account ready)"
            )

    @staticmethod
    def _user(username: str, password: str, *, staff: bool) -> User:
        user, created = User.objects.get_or_create(
            username=username, defaults={"is_staff": staff, "is_superuser": staff}
        )
        if created:
            user.set_password(password)
            user.save()
        return user

    @staticmethod
    @transaction.atomic
    def _team(*, owner: User, viewer: User) -> Team:
        team, created = Team.objects.get_or_create(
            slug=DEMO_TEAM_SLUG, defaults={"name": DEMO_TEAM_NAME, "time_zone": DEMO_TEAM_TIME_ZONE}
        )
        Membership.objects.get_or_create(team=team, user=owner, defaults={"role": Role.OWNER})
        Membership.objects.get_or_create(team=team, user=viewer, defaults={"role": Role.VIEWER})
        if created:
            audit_record(
                team=team,
                actor=owner,
                action="team.create",
                summary=phrase(gettext_noop("Created the team %(name)s"), name=team.name),
            )
        return team

    @staticmethod
    @transaction.atomic
    def _register_key(*, team: Team, owner: User, secret: str) -> ApiKey:
        """Store the sandbox key encrypted, without an upstream check (the web server may not be up yet)."""
        api_key = (
            ApiKey.objects.filter(team=team, profile=DEMO_KEY_PROFILE)
            .exclude(status=KeyStatus.ARCHIVED)
            .order_by("pk")
            .first()
        )
        if api_key is None:
            api_key = ApiKey.objects.create(
                team=team,
                label=DEMO_KEY_LABEL,
                profile=DEMO_KEY_PROFILE,
                secret_encrypted=encrypt_secret(secret),
                secret_last4=secret[-4:],
                secret_digest=secret_digest(secret),
                currency=DEMO_KEY_CURRENCY,
            )
            audit_record(
                team=team,
                actor=owner,
                action="key.add",
                api_key=api_key,
                summary=phrase(gettext_noop("Added key %(label)s"), label=api_key.label),
            )
        elif decrypt_secret(api_key.secret_encrypted) != secret:
            # The sandbox account was recreated: point the demo key at it again.
            api_key.secret_encrypted, api_key.secret_last4 = encrypt_secret(secret), secret[-4:]
            api_key.secret_digest = secret_digest(secret)
            # Another account: its balance is read anew below.
            api_key.balance = api_key.balance_updated_at = None
            fields = ["secret_encrypted", "secret_last4", "secret_digest", "balance", "balance_updated_at"]
            api_key.save(update_fields=fields)
        return api_key

    @staticmethod
    def _first_balance(api_key: ApiKey, *, secret: str) -> None:
        """The demo key's balance from the sandbox's own account list, so the team's first page shows it: the
        web server that would answer getBalance is not up yet when `make run` gets here."""
        out = io.StringIO()
        call_command("sandbox_account", "list", stdout=out)
        for line in out.getvalue().splitlines()[1:]:
            label, tail, amount, *_rest = [*line.split(), "", "", ""]
            if label == DEMO_SANDBOX_LABEL and tail == "…" + secret[-4:]:
                try:
                    balance = Decimal(amount)
                except InvalidOperation:
                    return  # the balance sweeper reads it once the worker runs
                now = timezone.now()
                ApiKey.objects.filter(pk=api_key.pk).update(
                    balance=balance, balance_updated_at=now, health=KeyHealth.OK, health_checked_at=now
                )
                return

    def _sandbox_key(self) -> str:
        out = io.StringIO()
        call_command(
            "sandbox_account",
            "create",
            "--label",
            DEMO_SANDBOX_LABEL,
            "--balance",
            "1000",
            "--if-missing",
            stdout=out,
        )
        return out.getvalue().strip()
