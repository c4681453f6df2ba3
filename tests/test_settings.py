"""The critical settings load, and production refuses to start without its secrets."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def _load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DEBUG, s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL.split(':')[0], s.SANDBOX_ENABLED)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_loads_the_critical_settings():
    assert settings.AUTH_USER_MODEL == "accounts.User"
    assert settings.SECRET_KEY
    assert settings.SIMDESK_ENCRYPTION_KEY
    assert settings.TIME_ZONE == "UTC" and settings.USE_TZ
    assert settings.CELERY_TASK_ACKS_LATE
    assert "django_htmx.middleware.HtmxMiddleware" in settings.MIDDLEWARE


def test_it_defaults_to_sqlite_and_a_serverless_broker(tmp_path):
    result = _load_settings({"SIMDESK_VAR_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.sqlite3", "filesystem", "True"]


def test_it_uses_the_database_and_broker_urls(tmp_path):
    result = _load_settings(
        {
            "SIMDESK_VAR_DIR": str(tmp_path),
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/simdesk",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "django.db.backends.postgresql", "redis", "True"]


def test_production_refuses_to_start_without_secrets(tmp_path):
    result = _load_settings(
        {"SIMDESK_VAR_DIR": str(tmp_path), "DEBUG": "0", "SECRET_KEY": "", "SIMDESK_ENCRYPTION_KEY": ""}
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_turns_the_sandbox_off(tmp_path):
    result = _load_settings(
        {
            "SIMDESK_VAR_DIR": str(tmp_path),
            "DEBUG": "0",
            "SECRET_KEY": "x" * 60,
            "SIMDESK_ENCRYPTION_KEY": "k" * 44,
        }
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "False"


def test_the_deploy_check_is_clean_with_production_settings(tmp_path):
    from cryptography.fernet import Fernet

    env = {
        # The browser tests allow sync ORM calls in their event loop; a deployment never would.
        **{
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
        },
        "DEBUG": "0",
        "SECRET_KEY": "p" * 20 + "-production-secret-key-for-the-deploy-check-0123456789",
        "SIMDESK_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "simdesk.example.com",
        "SIMDESK_VAR_DIR": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
