"""A webhook URL's secret token never reaches a log line: dev server, Django's request log, gunicorn."""

import json
import logging
from datetime import timedelta
from types import SimpleNamespace

from django.test import Client
from django.urls import reverse
from gunicorn.config import Config

from config.logging import RedactApiKeys, redact
from tests.accounts.conftest import make_key

TOKEN = "Zq3xWebhookSecretToken0123456789abcdef"


def test_it_redacts_the_token_in_request_lines():
    line = f'"POST /hooks/{TOKEN}/sms/ HTTP/1.1" 200 2'
    assert redact(line) == '"POST /hooks/••••/sms/ HTTP/1.1" 200 2'
    assert redact(f"Not Found: /hooks/{TOKEN}/rent/") == "Not Found: /hooks/••••/rent/"


def test_a_webhook_post_logs_no_token(team, caplog):
    api_key = make_key(team)
    client = Client()
    with caplog.at_level(logging.DEBUG):
        for token in (str(api_key.webhook_token), TOKEN):  # a known token (200) and an unknown one (404)
            for kind in ("activations", "rentals"):
                client.post(reverse(f"{kind}:webhook", args=[token]), "[]", content_type="application/json")
                client.post(
                    reverse(f"{kind}:webhook", args=[token]), json.dumps({}), content_type="application/json"
                )
    assert "Not Found: /hooks/••••/" in caplog.text  # the 404s were logged, redacted
    assert str(api_key.webhook_token) not in caplog.text and TOKEN not in caplog.text


def test_the_dev_server_access_line_has_no_token(caplog):
    logger = logging.getLogger("django.server")
    with caplog.at_level(logging.INFO, logger="django.server"):
        logger.info('"%s" %s %s', f"POST /hooks/{TOKEN}/sms/ HTTP/1.1", 200, 2)
    assert TOKEN not in caplog.text and "/hooks/••••/sms/" in caplog.text


def test_gunicorns_access_log_has_no_token(tmp_path):
    from importlib.util import module_from_spec, spec_from_file_location

    from django.conf import settings

    spec = spec_from_file_location("gunicorn_conf", settings.BASE_DIR / "gunicorn.conf.py")
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("logger_class", module.logger_class)
    log = cfg.logger_class(cfg)
    assert any(isinstance(f, RedactApiKeys) for f in log.access_log.filters)
    request = SimpleNamespace(
        headers=[], method="POST", path=f"/hooks/{TOKEN}/sms/", query="", version=(1, 1)
    )
    response = SimpleNamespace(status="200 OK", sent=2, headers=[])
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/hooks/{TOKEN}/sms/",
        "PATH_INFO": f"/hooks/{TOKEN}/sms/",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    log.access(response, request, environ, timedelta(seconds=0.01))
    for handler in log.access_log.handlers:
        handler.flush()
    written = (tmp_path / "access.log").read_text()
    assert "POST /hooks/••••/sms/" in written and TOKEN not in written
