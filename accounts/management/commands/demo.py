"""Create the demo data idempotently: the `demo` login and a funded sandbox account."""

import io

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "demo"  # development only: refused below when DEBUG is off
DEMO_SANDBOX_LABEL = "demo"


class Command(BaseCommand):
    help = "Create the demo login and a sandbox account with balance (development only). Safe to run twice."

    def add_arguments(self, parser):
        parser.add_argument("--site-url", default=settings.SITE_URL)

    def handle(self, *args, site_url: str, **options):
        if not settings.DEBUG:
            raise CommandError("The demo data is for development only (DEBUG is off).")
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        sandbox_key = self._sandbox_key() if settings.SANDBOX_ENABLED else None
        self.stdout.write(f"simdesk is at {site_url}/  (login: {DEMO_USERNAME} / password: {DEMO_PASSWORD})")
        if sandbox_key:
            self.stdout.write(
                f"sandbox provider: {site_url}/sandbox/stubs/handler_api.php (demo account ready)"
            )

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
