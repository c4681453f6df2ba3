"""No log line shows an API key, even the dev server's request lines for the sandbox."""

import logging

from config.logging import RedactApiKeys, redact


def test_it_redacts_keys_in_request_lines():
    line = '"GET /sandbox/stubs/handler_api.php?api_key=85466ac82976bf12c4791b2fa7581988&action=getBalance HTTP/1.1" 200'
    assert redact(line) == '"GET /sandbox/stubs/handler_api.php?api_key=••••&action=getBalance HTTP/1.1" 200'


def test_the_filter_cleans_formatted_records():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /x?action=a&api_key=SECRET123", 200, 5),
        None,
    )
    assert RedactApiKeys().filter(record) is True
    assert "SECRET123" not in record.getMessage()
    assert "api_key=••••" in record.getMessage()


def test_the_dev_server_logger_is_filtered(caplog):
    logger = logging.getLogger("django.server")
    assert any(isinstance(f, RedactApiKeys) for f in logger.filters)
    with caplog.at_level(logging.INFO, logger="django.server"):
        logger.info('"%s" %s', "GET /sandbox/stubs/handler_api.php?api_key=SECRET123&action=getBalance", 200)
    assert "SECRET123" not in caplog.text and "api_key=••••" in caplog.text
