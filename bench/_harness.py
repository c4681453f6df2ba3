"""Shared set-up for benchmarks: a throwaway database and the sandbox served over real HTTP."""

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(*, keep_database_url: bool = False) -> None:
    """Configure Django on a fresh var/ folder (SQLite unless DATABASE_URL is set and kept) and migrate."""
    sys.path.insert(0, str(ROOT))
    os.environ["SIMDESK_VAR_DIR"] = tempfile.mkdtemp(prefix="simdesk-bench-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if not keep_database_url:
        os.environ.pop("DATABASE_URL", None)
    os.environ["LOG_LEVEL"] = "WARNING"
    # Production mode: no query log kept in memory, as on a real server.
    os.environ["DEBUG"] = "0"
    os.environ["SANDBOX_ENABLED"] = "1"
    os.environ["ALLOWED_HOSTS"] = "*"
    os.environ["SECURE_SSL_REDIRECT"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 60)
    os.environ.setdefault("SIMDESK_ENCRYPTION_KEY", "Zm9yLWJlbmNobWFya3Mtb25seS0tLS0tLS0tLS0tLS0=")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def serve_site() -> str:
    """Serve this Django project (and so the sandbox) on a free local port; returns its base URL."""
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(WSGIHandler())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    settings.SITE_URL = url
    return url


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def sandbox_team(*account_options: str):
    """A sandbox account (made with `account_options`) registered as the key of a fresh team with one owner:
    (the account's own key, the owner's membership, the team's ApiKey)."""
    import io

    from django.core.management import call_command

    from accounts.crypto import encrypt_secret
    from accounts.models import ApiKey, KeyHealth, Membership, Role, Team, User

    out = io.StringIO()
    call_command("sandbox_account", "create", *account_options, stdout=out)
    secret = out.getvalue().strip()
    user = User.objects.create_user("bench", password="bench-password-1")
    team = Team.objects.create(name="Bench", slug="bench")
    owner = Membership.objects.create(team=team, user=user, role=Role.OWNER)
    api_key = ApiKey.objects.create(
        team=team,
        label="sandbox",
        profile="sandbox",
        secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:],
        health=KeyHealth.OK,
    )
    return secret, owner, api_key


def add_sandbox_key(team, label: str, *account_options: str):
    """One more sandbox account (made with `account_options`) registered as a key of `team`: (its key, ApiKey)."""
    import io

    from django.core.management import call_command

    from accounts.crypto import encrypt_secret
    from accounts.models import ApiKey, KeyHealth

    out = io.StringIO()
    call_command("sandbox_account", "create", *account_options, stdout=out)
    secret = out.getvalue().strip()
    api_key = ApiKey.objects.create(
        team=team,
        label=label,
        profile="sandbox",
        secret_encrypted=encrypt_secret(secret),
        secret_last4=secret[-4:],
        health=KeyHealth.OK,
    )
    return secret, api_key
