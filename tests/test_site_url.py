"""Trying simdesk from other machines: `make run HOST=... PORT=... SITE_URL=...` reaches the web server, the
demo and the workers; SITE_URL's host is allowed without repeating it in ALLOWED_HOSTS; the webhook URL a key
shows starts with SITE_URL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.activations.conftest import register_key

ROOT = Path(__file__).resolve().parent.parent


def _allowed_hosts(env: dict[str, str], tmp_path) -> list[str]:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings as s; print(','.join(s.ALLOWED_HOSTS))"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"ALLOWED_HOSTS", "SITE_URL", "DEBUG"}}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**clean, "SIMDESK_VAR_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split(",")


def test_the_site_urls_host_is_allowed(tmp_path):
    hosts = _allowed_hosts({"SITE_URL": "http://192.168.1.20:8000"}, tmp_path)
    assert "192.168.1.20" in hosts and "127.0.0.1" in hosts
    hosts = _allowed_hosts({"SITE_URL": "https://desk.example.com", "ALLOWED_HOSTS": "desk.lan"}, tmp_path)
    assert hosts == ["desk.lan", "desk.example.com"]
    assert "[fd00::2]" in _allowed_hosts({"SITE_URL": "http://[fd00::2]:8000"}, tmp_path)
    assert "localhost" in _allowed_hosts({}, tmp_path)


def _make_run(*args: str) -> list[str]:
    result = subprocess.run(
        ["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.splitlines()


@pytest.mark.skipif(not Path("/usr/bin/make").exists(), reason="make is not installed")
def test_make_run_passes_host_port_and_site_url_on():
    lines = _make_run("HOST=0.0.0.0", "PORT=8080", "SITE_URL=http://192.168.1.20:8080")
    assert any("manage.py demo --site-url http://192.168.1.20:8080" in line for line in lines)
    (start,) = [line for line in lines if "honcho start" in line]
    assert "HOST=0.0.0.0" in start and "PORT=8080" in start and "SITE_URL=http://192.168.1.20:8080" in start
    # Without SITE_URL it follows HOST and PORT; the Procfile's web server listens on them.
    (start,) = [line for line in _make_run("PORT=8123") if "honcho start" in line]
    assert "SITE_URL=http://127.0.0.1:8123" in start
    assert "runserver $HOST:$PORT" in (ROOT / "Procfile").read_text()


@pytest.mark.django_db
def test_the_webhook_url_a_key_shows_starts_with_site_url(team, alice, settings):
    settings.SITE_URL = "http://192.168.1.20:8000"
    api_key = register_key(team, "0" * 32)
    client = Client()
    client.force_login(alice)
    page = client.get(f"/t/{team.slug}/keys/{api_key.public_id}/").content.decode()
    assert f"http://192.168.1.20:8000/hooks/{api_key.webhook_token}/sms/" in page
