"""A logging filter that removes API keys from every record (the sandbox's request lines carry them)."""

import logging
import re

# `api_key=<value>` in a query string, as the dev server's access log and some libraries print URLs.
API_KEY_IN_URL = re.compile(r"(api_key=)[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    return API_KEY_IN_URL.sub(r"\1••••", text)


class RedactApiKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
